"""``crossroom`` with no subcommand: the control room on the rehearsal fleet or ``--config``.

Everything that can be wrong is checked before the terminal is taken over: the demo file
(its one-line errors on stderr, exit 2), the theme name and every theme colour (a bad
colour would otherwise crash Textual mid-show), the speed. Textual restores the terminal
on exit, also after an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from engine.room_api import RoomCommands, RoomOptions
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
    """Run the room App until the presenter quits; its exit code."""
    from tui.app import RoomApp

    app = RoomApp(opener, theme=theme)
    code = app.run(mouse=False)
    return int(code or 0)


def run(args: argparse.Namespace) -> int:
    problems = check_screen_options(args.theme)
    problems += show_option_problems(args.speed, args.seed, args.state_dir)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        demo = with_scenario(load(args.config), args.scenario)
    except BadInput as exc:
        return report_bad_input(exc)
    options = RoomOptions(
        seed=args.seed,
        speed=args.speed,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        scenario_file=Path(args.scenario) if args.scenario else None,
        paced=args.paced,
    )

    def opener() -> AbstractAsyncContextManager[RoomCommands]:
        from engine.room import open_room  # after the first frame (the App opens it then)

        return open_room(demo, options)

    return open_screen(opener, args.theme)
