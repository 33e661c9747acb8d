"""Start-up to first frame: the room against a bare Textual app, alternating, same run.

    .venv/bin/python -m bench.start --runs 8

Each run spawns a fresh process in a real pseudo-terminal (``bench.pty_bytes``) and
times spawn -> the marker text written ("crossroom" in the room's header, "hello" in
the bare app). Runs alternate (bare, room, bare, room …) so machine load hits both the
same; prints every time, the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile

from bench.pty_bytes import run


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--size", default="160x48")
    args = p.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    state = tempfile.mkdtemp(prefix="xr-start-")
    bare_cmd = [sys.executable, "-m", "bench.bare_app"]
    room_cmd = [sys.executable, "-m", "tui", "--state-dir", state]
    bare: list[float] = []
    room: list[float] = []
    for _ in range(args.runs):
        bare.append(run(bare_cmd, cols, rows, 0.0, 2.5, b"hello")["first_frame_s"])
        room.append(run(room_cmd, cols, rows, 0.0, 2.5, b"crossroom")["first_frame_s"])
    b, r = statistics.median(bare), statistics.median(room)
    print("bare first_frame_s:", " ".join(f"{x:.3f}" for x in bare), f"(median {b:.3f})")
    print("room first_frame_s:", " ".join(f"{x:.3f}" for x in room), f"(median {r:.3f})")
    print(f"room / bare = {r / b:.2f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
