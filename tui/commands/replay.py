"""``crossroom replay FILE``: a recording (a run's ``events.jsonl``) in the same screen, or
with ``--headless`` as the same step lines ``crossroom run`` prints.

The presenter's fallback when the venue network fails: space pauses, + and - change speed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.headless import HeadlessPrinter, join_table, kill_table
from engine.recording import BadRecording, read_recording
from engine.replay import at_markers, check_recording, open_replay
from engine.state import RoomState, apply
from themes.palette import DEFAULT_THEME, THEME_NAMES
from tui.commands.demo_source import EXIT_BAD_INPUT
from tui.commands.option_checks import speed_problem

EXIT_SKIPPED = 1
"""The headless replay printed what it could, but left out lines it could not read."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recorded run in the screen (or --headless as step lines)",
        description=(
            "Replay a run's events.jsonl at its recorded pace in the control room: space "
            "pauses, + and - change the speed, ] and [ jump to the next and previous marker "
            "(a cue, a join, a fault, a revive), q quits. With --headless, print the step "
            "lines and tables that `crossroom run` prints, without waiting."
        ),
    )
    p.add_argument(
        "file", metavar="FILE", help="a recording: <state dir>/runs/<run id>/events.jsonl"
    )
    p.add_argument("--headless", action="store_true", help="print step lines instead of the screen")
    p.add_argument("--logs", action="store_true", help="with --headless, also print log lines")
    p.add_argument(
        "--speed", type=float, default=1.0, help="replay speed, 1 = as recorded (default 1)"
    )
    p.add_argument(
        "--pause-at-markers",
        action="store_true",
        help="pause at every cue, join, fault and revive (space plays on; ] and [ jump)",
    )
    p.add_argument(
        "--theme",
        metavar="NAME",
        default=DEFAULT_THEME,
        help=f"screen theme: {', '.join(THEME_NAMES)} (default {DEFAULT_THEME})",
    )
    p.set_defaults(func=run)


def print_recording(path: Path, logs: bool = False) -> int:
    """Every step line at once, then the join and kill tables, as ``crossroom run`` does."""
    printer = HeadlessPrinter(logs=logs)
    state = RoomState()
    reader = read_recording(path)
    try:
        for event in reader:
            state = apply(state, event)
            printer(event)
    except BadRecording as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    print()
    print(join_table(state), end="")
    if state.kills:
        print()
        print(kill_table(state), end="")
    skipped = reader.summary()
    if skipped:
        sys.stdout.flush()
        print(f"crossroom: {path}: {skipped}", file=sys.stderr)
        return EXIT_SKIPPED
    return 0


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    problem = check_recording(path)
    if problem is None:
        problem = speed_problem(args.speed)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.headless:
        try:
            return print_recording(path, args.logs)
        except BrokenPipeError:  # ``| head``: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    from tui.commands.screen import check_screen_options, open_screen

    problems = check_screen_options(args.theme)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    pause_at = at_markers if args.pause_at_markers else None
    return open_screen(lambda: open_replay(path, args.speed, pause_at), args.theme)
