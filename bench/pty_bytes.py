"""Bytes written to a real pseudo-terminal per second, and time to the first frame.

    .venv/bin/python -m bench.pty_bytes --size 160x48 --warmup 40 --window 30 -- \
        .venv/bin/python -m bench.screen_main --rate 20000 --speed 50

Runs the command in a pty of the given size (TERM=xterm-256color), reads everything it
writes, and prints: seconds from spawn to the first byte and to the marker text (the
first full frame), and bytes/s over ``window`` seconds after ``warmup`` seconds.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


def run(
    cmd: list[str], cols: int, rows: int, warmup: float, window: float, marker: bytes
) -> dict[str, float]:
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("NO_COLOR", None)
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    t0 = time.monotonic()
    first_byte = first_frame = -1.0
    seen = b""
    total = 0
    window_bytes = 0
    end = t0 + warmup + window
    while True:
        now = time.monotonic()
        if now >= end:
            break
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        now = time.monotonic()
        total += len(data)
        if first_byte < 0:
            first_byte = now - t0
        if first_frame < 0:
            seen = (seen + data)[-4096:]
            if marker in seen:
                first_frame = now - t0
        if now - t0 >= warmup:
            window_bytes += len(data)
    os.kill(pid, signal.SIGTERM)
    try:
        while select.select([fd], [], [], 0.5)[0]:
            if not os.read(fd, 65536):
                break
    except OSError:
        pass
    os.waitpid(pid, 0)
    return {
        "first_byte_s": first_byte,
        "first_frame_s": first_frame,
        "bytes_total": float(total),
        "bytes_per_s": window_bytes / window if window else 0.0,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="160x48")
    p.add_argument("--warmup", type=float, default=30.0)
    p.add_argument("--window", type=float, default=30.0)
    p.add_argument("--marker", default="crossroom")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    result = run(cmd, cols, rows, args.warmup, args.window, args.marker.encode())
    print(" ".join(f"{k}={v:.3f}" for k, v in result.items()))


if __name__ == "__main__":
    main()
