"""Teardown is exclusive: a run is locked while a show or a teardown runs it.

Real processes throughout (``python -m tui.cli``), since the lock is between processes: a
show at real time is live long enough to be refused, stopped and killed; ``kill -9`` of the
holder must free the run (the kernel drops a ``flock`` with its process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.events import KindCount, TeardownFinished
from engine.ledger import Ledger
from engine.teardown import teardown_summary

ROOT = Path(__file__).resolve().parents[2]
GENEROUS_S = 120.0


def crossroom(state: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CROSSROOM_STATE_DIR": str(state)}
    return [sys.executable, "-m", "tui.cli", *args], env


def start(state: Path, *args: str) -> subprocess.Popen[str]:
    argv, env = crossroom(state, *args)
    return subprocess.Popen(argv, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip


def finish(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv, env = crossroom(state, *args)
    return subprocess.run(argv, env=env, text=True, capture_output=True, timeout=GENEROUS_S)


def held_run(state: Path, proc: subprocess.Popen[str]) -> tuple[str, str]:
    """``(run id, lock text)`` once ``proc`` holds a run with something in its ledger."""
    deadline = time.monotonic() + GENEROUS_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for lock in state.glob("runs/*/lock"):
            text = lock.read_text()
            ledger = lock.parent / "ledger.jsonl"
            if text.startswith(f"pid {proc.pid} ") and ledger.exists() and ledger.stat().st_size:
                return lock.parent.name, text.strip()
        time.sleep(0.05)
    raise AssertionError("the show never took its run")


@pytest.fixture
def live_show(isolated_state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """A rehearsal show at real time: minutes to join, so it is live throughout a test."""
    proc = start(isolated_state_dir, "run", "--speed", "1", "--only", "ibm,zte")
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def test_a_live_run_is_refused_naming_its_holder_then_stopped_and_torn_down(
    isolated_state_dir: Path, live_show: subprocess.Popen[str]
) -> None:
    run_id, holder = held_run(isolated_state_dir, live_show)
    assert holder == f"pid {live_show.pid} (crossroom show)"
    refused = finish(isolated_state_dir, "teardown", "--run", run_id)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"teardown: run {run_id} is in use by pid {live_show.pid} (crossroom show); "
        "stop it first, or pass --stop to stop it and then tear down"
    )
    assert live_show.poll() is None  # refused, and the show goes on
    ledger = isolated_state_dir / "runs" / run_id / "ledger.jsonl"
    stopped = finish(isolated_state_dir, "teardown", "--run", run_id, "--stop")
    assert stopped.returncode == 0, stopped.stderr
    assert live_show.wait(timeout=GENEROUS_S) == 130  # unwound like Ctrl-C, not killed
    assert Ledger(ledger).live() == []  # nothing left, and nothing created after
    assert f"teardown of run {run_id}:" in stopped.stdout


def test_kill_9_of_the_holder_frees_the_run(
    isolated_state_dir: Path, live_show: subprocess.Popen[str]
) -> None:
    run_id, _ = held_run(isolated_state_dir, live_show)
    live_show.send_signal(signal.SIGKILL)
    live_show.wait(timeout=GENEROUS_S)
    done = finish(isolated_state_dir, "teardown", "--run", run_id)
    assert done.returncode == 0, done.stderr
    assert Ledger(isolated_state_dir / "runs" / run_id / "ledger.jsonl").live() == []


def test_two_teardowns_of_one_run_one_runs_the_other_refuses(isolated_state_dir: Path) -> None:
    report = isolated_state_dir.parent / "r.json"
    shown = finish(isolated_state_dir, "run", "--speed", "100", "--only", "ibm",
                   "--report", str(report))  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    run_id = json.loads(report.read_text())["run_id"]
    ledger = isolated_state_dir / "runs" / run_id / "ledger.jsonl"
    # Enough to delete that the first teardown is still at work when the second starts.
    with ledger.open("a") as f:
        for i in range(40):
            extra = {"op": "created", "cloud": "ibm", "resource_type": "volume",
                     "resource_id": f"ibm-volume-x{i}", "name": f"v{i}"}  # fmt: skip
            f.write(json.dumps(extra) + "\n")
    created = len(Ledger(ledger).live())
    first = start(isolated_state_dir, "teardown", "--run", run_id)
    second = start(isolated_state_dir, "teardown", "--run", run_id)
    results = [p.communicate(timeout=GENEROUS_S) for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    assert codes == [0, 2], results
    procs = (first, second)
    refused = next(err for (_, err), p in zip(results, procs, strict=True) if p.returncode == 2)
    assert "is in use by pid " in refused and "(crossroom teardown)" in refused
    deleted = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert sum(1 for d in deleted if d["op"] == "deleted") == created  # not doubled
    ran = next(out for (out, _), p in zip(results, procs, strict=True) if p.returncode == 0)
    assert "  ibm: 3 CockroachDB nodes, 3 floating IPs, 1 key pair, 1 security group, " in ran
    assert " servers, 43 volumes removed\n" in ran  # 3 of the show's and the 40 added


def test_the_summary_names_each_kind_removed_and_left() -> None:
    event = TeardownFinished(
        cloud="vexxhost",
        removed=tuple(
            KindCount(kind=k, count=n)
            for k, n in (("security_group", 1), ("server", 3), ("volume", 3))
        ),
        left=(KindCount(kind="floating_ip", count=1),),
        leftovers=("floating_ip fip-1: 409 Conflict: still associated",),
    )
    assert teardown_summary(event) == (
        "vexxhost: 1 security group, 3 servers, 3 volumes removed; "
        "1 floating IP left: floating_ip fip-1: 409 Conflict: still associated"
    )
    assert teardown_summary(TeardownFinished(cloud="ibm")) == "ibm: nothing to remove"
