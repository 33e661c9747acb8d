"""Start-up to first frame: the room against a bare Textual app, alternating, same run.

    .venv/bin/python -m bench.start --runs 8

Each run spawns a fresh process in a real pseudo-terminal (``bench.pty_bytes``) and
times spawn -> the marker text written ("crossroom" in the room's header, "hello" in
the bare app). Runs alternate (bare, room, bare, room …) so machine load hits both the
same; prints every time, the medians and their ratio.

The room's own packages are byte-compiled first, as an install does: the bare app's
Textual comes compiled from site-packages, and where ``PYTHONDONTWRITEBYTECODE`` is set
(or the tree is read-only) every start of the room would otherwise compile its ~50
modules again (~0.1 s here), which is not the room's start-up. ``--source`` skips that
to see it.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import signal
import statistics
import sys
import tempfile
from pathlib import Path

from bench.pty_bytes import run
from engine.shows import running_shows

ROOT = Path(__file__).resolve().parent.parent
ROOM_PACKAGES = ("engine", "tui", "themes")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--size", default="160x48")
    p.add_argument(
        "--source", action="store_true", help="do not byte-compile the room's packages first"
    )
    args = p.parse_args()
    if not args.source:
        for package in ROOM_PACKAGES:
            compileall.compile_dir(ROOT / package, quiet=1)
    cols, rows = (int(x) for x in args.size.split("x"))
    state = tempfile.mkdtemp(prefix="xr-start-")
    bare_cmd = [sys.executable, "-m", "bench.bare_app"]
    room_cmd = [sys.executable, "-m", "tui", "--state-dir", state]
    bare: list[float] = []
    room: list[float] = []
    for _ in range(args.runs):
        bare.append(run(bare_cmd, cols, rows, 0.0, 2.5, b"hello")["first_frame_s"])
        room.append(run(room_cmd, cols, rows, 0.0, 2.5, b"crossroom")["first_frame_s"])
        stop_engines(state)
    b, r = statistics.median(bare), statistics.median(room)
    print("bare first_frame_s:", " ".join(f"{x:.3f}" for x in bare), f"(median {b:.3f})")
    print("room first_frame_s:", " ".join(f"{x:.3f}" for x in room), f"(median {r:.3f})")
    print(f"room / bare = {r / b:.2f}  (target <= 1.3)")


def stop_engines(state_dir: str) -> None:
    """The room's screen starts its show's engine after the first frame; one left behind
    (a screen killed before it attached) would eat CPU under the next runs."""
    for show in running_shows(state_dir):
        if show.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(show.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
