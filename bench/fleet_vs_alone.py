"""The fleet costs nothing extra: the whole rehearsal's wall time against its slowest
cloud run alone, at the same seed and speed (target: within 5 %).

Run: ``.venv/bin/python -m bench.fleet_vs_alone [--speed 50] [--repeat 3] [--seed 7]``.
Each run is a fresh ``crossroom run`` process (headless), timed from start to the last
join, as its JSON report gives it (``wall_s``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def wall_s(args: list[str], state_dir: str) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "run",
                "--state-dir",
                state_dir,
                "--report",
                str(report),
                *args,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        data = json.loads(report.read_text())
    joins = {c["name"]: c["time_to_join_s"] for c in data["clouds"]}
    return float(data["wall_s"]), joins


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--speed", type=float, default=50.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    common = ["--seed", str(a.seed), "--speed", str(a.speed)]
    with tempfile.TemporaryDirectory() as state:
        _, joins = wall_s(common, state)
        slowest = max(joins, key=lambda k: joins[k])
        fleet = [wall_s(common, state)[0] for _ in range(a.repeat)]
        alone = [wall_s([*common, "--only", slowest], state)[0] for _ in range(a.repeat)]
    f, s = statistics.median(fleet), statistics.median(alone)
    print(f"speed x{a.speed:g}, seed {a.seed}, {a.repeat} runs each (median wall seconds)")
    print(f"fleet of {len(joins)} clouds: {f:.3f} s  {[round(x, 3) for x in fleet]}")
    print(f"{slowest} alone:          {s:.3f} s  {[round(x, 3) for x in alone]}")
    print(f"fleet / alone = {f / s:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
