"""One real rehearsal show, recorded once per test session, for the report's tests.

``crossroom run`` as a real process on the rehearsal fleet (seed 7, speed 100): every
cloud provisions and joins, one step fails for good, then a node is stopped, a pod is
restarted and a whole cloud is killed, and the cluster's reaction is recorded; at the end
the show writes its HTML report (``--html``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FAILED_CLOUD = "zte"
FAILED_STEP = "volumes"
KILLS = ("vexxhost/node-2@10", "canonical/pod-1@60", "suse@120")
RUN_HTML = "run-report.html"
"""The HTML report ``crossroom run --html`` wrote at the end, in the state dir."""


def run_html_of(recording: Path) -> Path:
    """Where the show's own ``--html`` report is (``<state dir>/runs/<id>/events.jsonl``)."""
    return recording.parents[2] / RUN_HTML


def record_show(state_dir: Path) -> Path:
    """Run the show; its ``events.jsonl``."""
    args = [sys.executable, "-m", "tui", "run", "--seed", "7", "--speed", "100"]
    args += [
        "--state-dir",
        str(state_dir),
        "--html",
        str(state_dir / RUN_HTML),
        "--fail",
        f"{FAILED_CLOUD}:{FAILED_STEP}:quota exceeded",
    ]
    for kill in KILLS:
        args += ["--kill", kill]
    done = subprocess.run(args, capture_output=True, text=True, timeout=240, env=os.environ)
    assert done.returncode == 1, done.stderr  # one cloud failed on purpose
    (recording,) = state_dir.glob("runs/*/events.jsonl")
    return recording


@pytest.fixture(scope="session")
def rehearsal_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_show(tmp_path_factory.mktemp("show"))
