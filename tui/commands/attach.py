"""``crossroom attach [RUN_ID]``: open a screen on a show that is already running.

The show's engine runs in a process of its own, so a screen that died (a hang-up, a
closed SSH session) loses nothing: attaching again catches up from the engine and shows
the same state. With no run id: the one running show, or a list to pick from (a numbered
question on a terminal; elsewhere the list and exit 2). ``--audience`` opens the
read-only projector view instead.

Exit 0 when the screen closes, 1 when no show is running (or the one named is not),
2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TextIO

from engine.room_api import RoomCommands
from engine.rundir import state_dir, valid_run_id
from engine.shows import ShowInfo, running_shows
from engine.wire import Role
from tui.commands.ls import show_table
from tui.commands.option_checks import state_dir_problem

EXIT_NONE = 1
EXIT_BAD_INPUT = 2

Opener = Callable[[], AbstractAsyncContextManager[RoomCommands]]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "attach",
        help="open a screen on a running show (after a hang-up, or a second screen)",
        description=(
            "Attach a screen to a show whose engine is running: it catches up and shows the "
            "same state as every other screen. With no RUN_ID: the one running show, or a "
            "list to pick from. Exit 1 when no show is running, 2 on bad input."
        ),
    )
    p.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the show (crossroom ls lists them)")
    p.add_argument(
        "--audience",
        action="store_true",
        help="the read-only view for a projector: big type, no keys act on the show",
    )
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    from themes.palette import DEFAULT_THEME

    p.add_argument("--theme", metavar="NAME", default=DEFAULT_THEME, help="screen theme")
    p.set_defaults(func=run)


def pick(shows: list[ShowInfo], stdin: TextIO, stdout: TextIO) -> ShowInfo | None:
    """Ask which show on a terminal: the numbered table, then a number (empty: none)."""
    print(show_table(shows, numbered=True), file=stdout)
    try:
        stdout.write(f"attach which show? [1-{len(shows)}, enter: none] ")
        stdout.flush()
        answer = stdin.readline().strip()
    except (EOFError, KeyboardInterrupt):
        return None
    if answer.isdigit() and 1 <= int(answer) <= len(shows):
        return shows[int(answer) - 1]
    return None


def choose(
    run_id: str | None, shows: list[ShowInfo], stdin: TextIO, stdout: TextIO
) -> ShowInfo | int:
    """The show to attach to, or the exit code after saying why there is none."""
    if run_id is not None:
        for show in shows:
            if show.run_id == run_id:
                return show
        print(
            f"crossroom: no engine is running run {run_id} (crossroom ls lists running shows)",
            file=sys.stderr,
        )
        return EXIT_NONE
    if not shows:
        print("crossroom: no show is running (crossroom starts one)", file=sys.stderr)
        return EXIT_NONE
    if len(shows) == 1:
        return shows[0]
    if not (stdin.isatty() and stdout.isatty()):
        print(show_table(shows), file=stdout)
        print(
            f"crossroom: {len(shows)} shows are running; name one: crossroom attach RUN_ID",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    chosen = pick(shows, stdin, stdout)
    if chosen is None:
        print("crossroom: no show chosen", file=sys.stderr)
        return EXIT_BAD_INPUT
    return chosen


def run(args: argparse.Namespace) -> int:
    problem = state_dir_problem(args.state_dir)
    if problem is None and args.run_id is not None and not valid_run_id(args.run_id):
        problem = f"RUN_ID: {args.run_id!r} is not a run id (crossroom ls lists them)"
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    chosen = choose(args.run_id, running_shows(state_dir(args.state_dir)), sys.stdin, sys.stdout)
    if isinstance(chosen, int):
        return chosen
    socket_path = chosen.socket_path
    role: Role = "audience" if args.audience else "presenter"

    def opener() -> AbstractAsyncContextManager[RoomCommands]:
        from engine.room_client import attach_room

        return attach_room(socket_path, role=role)

    if args.audience:
        return open_audience(opener)
    from tui.commands.screen import check_screen_options, open_screen

    problems = check_screen_options(args.theme)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    return open_screen(opener, args.theme)


def open_audience(opener: Opener) -> int:
    """The projector's read-only view (imported only when asked for)."""
    try:
        from tui.audience_app import run_audience  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        print(f"crossroom: the audience view is not available: {exc}", file=sys.stderr)
        return EXIT_NONE
    return int(run_audience(opener))
