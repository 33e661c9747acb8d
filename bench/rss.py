"""Resident memory of the room over time while the fleet streams a log flood.

    .venv/bin/python -m bench.rss --minutes 10 --rate 20000 --size 160x48

Runs ``bench.screen_main`` in a real pseudo-terminal (its output is read and dropped),
samples VmRSS of the process every ``--every`` seconds, and prints each sample, then
the RSS after warm-up, at the end, and the growth per minute after warm-up.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before the baseline")
    p.add_argument("--every", type=float, default=15.0)
    p.add_argument("--rate", type=float, default=20_000.0)
    p.add_argument("--speed", type=float, default=5.0)
    p.add_argument("--size", default="160x48")
    args = p.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    cmd = [
        sys.executable, "-m", "bench.screen_main",
        "--rate", str(args.rate), "--speed", str(args.speed),
    ]  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    next_sample = t0 + args.every
    samples: list[tuple[float, float]] = []
    written = 0
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                written += len(os.read(fd, 65536))
            except OSError:
                break
        now = time.monotonic()
        if now >= next_sample:
            next_sample += args.every
            samples.append((now - t0, rss_mb(pid)))
            print(f"{now - t0:7.1f}s  rss={samples[-1][1]:7.1f} MB  written={written}", flush=True)
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    after = [s for s in samples if s[0] >= args.warmup]
    if len(after) >= 2:
        (t_a, r_a), (t_b, r_b) = after[0], after[-1]
        slope = (r_b - r_a) / ((t_b - t_a) / 60)
        print(
            f"after warm-up ({t_a:.0f}s): {r_a:.1f} MB; at {t_b:.0f}s: {r_b:.1f} MB; "
            f"growth {slope:+.2f} MB/min; min {min(r for _, r in after):.1f} "
            f"max {max(r for _, r in after):.1f} MB"
        )


if __name__ == "__main__":
    main()
