"""``crossroom ls``: the shows running on this machine, as their engines describe them.

One row per engine that answers on its socket (a socket nobody answers on is a crashed
engine's, and is removed): run id, demo name, clouds joined/running/failed, screens
attached (presenters + audience) and when it started. Exit 0, also when none runs.
"""

from __future__ import annotations

import argparse
import sys
import time

from engine.rundir import state_dir
from engine.shows import ShowInfo, running_shows
from engine.terminal_text import shown
from tui.commands.option_checks import state_dir_problem

EXIT_BAD_INPUT = 2
DEMO_WIDTH = 40


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ls",
        help="list the running shows (run id, demo, clouds, screens, started)",
        description=(
            "List every show whose engine is running: run id, demo name, clouds "
            "joined/running/failed, screens attached and when it started."
        ),
    )
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    p.set_defaults(func=run)


def started(at: float | None, now: float) -> str:
    """``14:02:11 (3m ago)`` in local time; ``-`` before the show's first event."""
    if at is None:
        return "-"
    ago = max(0, int(now - at))
    span = f"{ago}s" if ago < 60 else f"{ago // 60}m" if ago < 3600 else f"{ago // 3600}h"
    return f"{time.strftime('%H:%M:%S', time.localtime(at))} ({span} ago)"


def _demo_name(s: ShowInfo) -> str:
    name = shown(s.demo, DEMO_WIDTH)
    return f"{name} (rehearsal)" if s.rehearsal and "rehearsal" not in name.lower() else name


def show_table(shows: list[ShowInfo], *, numbered: bool = False, now: float | None = None) -> str:
    """The shows as aligned columns; the demo name is outside text (``shown``, cut)."""
    now = time.time() if now is None else now
    head = ["RUN ID", "DEMO", "JOINED/RUNNING/FAILED", "SCREENS", "STARTED"]
    rows = [
        [
            s.run_id,
            _demo_name(s),
            f"{s.joined}/{s.running}/{s.failed} of {s.clouds}",
            f"{s.screens}" + (f" ({s.audience} audience)" if s.audience else ""),
            started(s.started_at, now),
        ]
        for s in shows
    ]
    if numbered:
        head = ["#", *head]
        rows = [[str(i), *row] for i, row in enumerate(rows, 1)]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *rows]
    )


def run(args: argparse.Namespace) -> int:
    problem = state_dir_problem(args.state_dir)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    shows = running_shows(state_dir(args.state_dir))
    if not shows:
        print("no show is running")
        return 0
    print(show_table(shows))
    return 0
