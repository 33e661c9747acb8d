"""Open the control room on the rehearsal fleet with a log flood, in this terminal.

    .venv/bin/python -m bench.screen_main --rate 20000 --speed 50 --state-dir /tmp/xr-bench

Used by ``pty_bytes.py`` (bytes written, start-up) and ``rss.py`` (memory over time).
"""

# ruff: noqa: E402 (the frame cap is set before Textual is imported, as ``crossroom`` does)
from __future__ import annotations

from tui.frame_pace import allow_fast_frames

allow_fast_frames()  # as ``crossroom`` does before Textual is imported (this is a program)

import argparse
import tempfile
from pathlib import Path

from bench.flood import open_flood_room
from tui.app import RoomApp


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=20_000.0, help="extra log lines per second")
    p.add_argument("--speed", type=float, default=50.0)
    p.add_argument("--state-dir", default=None)
    p.add_argument("--no-start", action="store_true")
    p.add_argument("--clouds", type=int, default=15)
    args = p.parse_args()
    state = Path(args.state_dir or tempfile.mkdtemp(prefix="xr-bench-"))
    app = RoomApp(
        lambda: open_flood_room(state, args.rate, args.speed, not args.no_start, args.clouds)
    )
    return int(app.run(mouse=False) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
