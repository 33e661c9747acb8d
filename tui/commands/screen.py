"""``crossroom`` with no subcommand: the control room on the rehearsal fleet or ``--config``.

The show runs in an engine process of its own (``engine.engine_process``), started once
the screen has painted its first frame; the screen is one client of it.

Everything that can be wrong is checked before the terminal is taken over: the demo file
(its one-line errors on stderr, exit 2), the theme name and every theme colour (a bad
colour would otherwise crash Textual mid-show), the speed. Textual restores the terminal
on exit, also after an error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.rundir import DEFAULT_RUN_PREFIX, new_run_id, state_dir
from engine.terminal_text import shown
from themes.palette import DEFAULT_THEME, THEME_NAMES, check_themes
from tui.commands.demo_source import (
    EXIT_BAD_INPUT,
    BadInput,
    add_demo_options,
    load,
    report_bad_input,
    with_scenario,
)
from tui.commands.option_checks import show_option_problems

if TYPE_CHECKING:
    from engine.engine_process import ShowAddress
    from engine.room_api import RoomCommands, RoomOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The screen's options, on the top-level ``crossroom`` parser."""
    add_demo_options(parser)
    parser.add_argument(
        "--theme",
        metavar="NAME",
        default=DEFAULT_THEME,
        help=f"screen theme: {', '.join(THEME_NAMES)} (default {DEFAULT_THEME}; t cycles)",
    )


def check_screen_options(theme: str) -> list[str]:
    """Problems that must stop the program before the screen opens (empty: none)."""
    problems = check_themes()
    if theme not in THEME_NAMES:
        problems.append(f"--theme: no theme named {theme!r} (themes: {', '.join(THEME_NAMES)})")
    return problems


def open_screen(opener: Callable[[], AbstractAsyncContextManager[RoomCommands]], theme: str) -> int:
    """Run the room App until the presenter quits; its exit code. What the show left
    behind (and the command that cleans it up) is printed once the terminal is back."""
    from tui.app import RoomApp

    app = RoomApp(opener, theme=theme)
    app.sigterm_leaves = True
    code = app.run(mouse=False)
    print_farewell(app.farewell, sys.stdout)
    return int(code or 0)


def print_farewell(lines: list[str], out: TextIO) -> None:
    for line in lines:
        print(shown(line), file=out)
    out.flush()


def run(args: argparse.Namespace) -> int:
    problems = check_screen_options(args.theme)
    problems += show_option_problems(args.speed, args.seed, args.state_dir)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    # The built-in fleet needs no check and is not built here: the engine builds it, and
    # the presenter sees the first frame that much sooner.
    run_prefix = DEFAULT_RUN_PREFIX
    if args.config or args.scenario:
        try:  # errors before the screen opens; the engine loads the file again
            run_prefix = with_scenario(load(args.config), args.scenario).run_prefix
        except BadInput as exc:
            return report_bad_input(exc)
    problem = socket_path_problem(args.state_dir, run_prefix)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    return open_screen(lambda: spawned_show(args.config, room_options(args)), args.theme)


def room_options(args: argparse.Namespace) -> RoomOptions:
    """The engine's options (made when the engine is opened, after the first frame)."""
    from engine.room_api import RoomOptions

    return RoomOptions(
        seed=args.seed,
        speed=args.speed,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        scenario_file=Path(args.scenario) if args.scenario else None,
        paced=args.paced,
    )


SOCKET_PATH_MAX = 107
"""Bytes of a Unix socket's path at most (``sun_path`` is 108 bytes with its NUL)."""


def socket_path_problem(state_dir_option: str | None, run_prefix: str) -> str | None:
    """The engine's socket lives in the run directory: a state dir so deep that its path
    would not fit is one line here, not an engine that fails to start."""
    base = state_dir(state_dir_option).absolute()
    sample = base / "runs" / new_run_id(run_prefix) / "engine.sock"
    size = len(os.fsencode(sample))
    if size <= SOCKET_PATH_MAX:
        return None
    return (
        f"state dir {base}: too deep for the engine's socket ({sample.name} in a run there "
        f"is {size} bytes; at most {SOCKET_PATH_MAX}): use a shorter --state-dir"
    )


@asynccontextmanager
async def spawned_show(config: str | None, options: RoomOptions) -> AsyncIterator[RoomCommands]:
    """The show's engine in a process of its own, this screen attached to it: a hang-up,
    a closed SSH session or a killed screen leaves the show running (``crossroom attach``
    comes back to it). Entered after the first frame (the App opens the room then), so
    the presenter sees the screen before the engine has started."""
    import anyio

    from engine.room_client import attach_room

    address = await anyio.to_thread.run_sync(_spawn, config, options, abandon_on_cancel=True)
    async with attach_room(address.socket_path) as room:
        yield room


def _spawn(config: str | None, options: RoomOptions) -> ShowAddress:
    """In a worker thread: the import (the engine's modules) and the wait for the socket
    stay off the screen's loop."""
    from engine.engine_process import spawn_show

    return spawn_show(config, options)
