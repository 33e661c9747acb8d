"""`crossroom run` and `crossroom teardown` as a presenter types them (rehearsal fleet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.ledger import Ledger
from engine.recording import read_recording
from tui.cli import main

FAST = ["--speed", "40", "--seed", "7"]
"""Fast, yet slow enough that a loaded 2-core box keeps up with the demo clock: at 100,
with the suite on two workers and another process busy, one second without the CPU was
100 demo seconds and the fleet's 900 s step timeouts fired (seen once)."""


def test_the_fleet_joins_and_the_report_has_every_cloud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    assert main(["run", *FAST, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert len(data["clouds"]) == 15
    assert {c["status"] for c in data["clouds"]} == {"joined"}
    assert all(c["time_to_join_s"] > 0 for c in data["clouds"])
    assert data["run_id"].startswith("xr-") and data["wall_s"] > 0
    assert "REHEARSAL" in out
    assert "EasyStack" in out.split("cloud ", 1)[1]  # the join table lists every cloud


def test_a_scheduled_kill_is_reported_with_its_story(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code = main(
        ["run", *FAST, "--only", "vexxhost,ibm,zte", "--kill", "vexxhost/node-1@10",
         "--kill", "ibm/pod-2@10", "--report", str(report)]
    )  # fmt: skip
    assert code == 0
    kill, restart = json.loads(report.read_text())["kills"]
    # A restarted pod comes back by itself, never dead; a stopped node stays down.
    assert (restart["target"], restart["kind"]) == ("ibm/pod-2", "pod")
    assert restart["back_after_s"] is not None and restart["dead_after_s"] is None
    assert (kill["target"], kill["kind"]) == ("vexxhost/node-1", "node")
    assert kill["back_after_s"] is None
    # Exact timing is the virtual-clock tests' job (tests/engine); here, in real time on a
    # possibly loaded machine, the story must come in order and roughly on time.
    # (at x100 a 0.2 s stall of a loaded box is 20 demo seconds: bounds are loose)
    assert 0 < kill["suspect_after_s"] <= 30
    assert kill["dead_after_s"] > 75
    assert kill["healed_after_s"] > kill["dead_after_s"]


def test_a_failed_cloud_exits_1_and_teardown_by_run_id_empties_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_state_dir: Path
) -> None:
    report = tmp_path / "r.json"
    code = main(
        ["run", *FAST, "--only", "ibm,zte", "--fail", "zte:volumes:quota exceeded: gigabytes",
         "--report", str(report)]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "zte: volumes: quota exceeded: gigabytes" in err
    run_id = json.loads(report.read_text())["run_id"]
    run_dir = isolated_state_dir / "runs" / run_id
    assert Ledger(run_dir.joinpath("ledger.jsonl")).live() != []
    assert main(["teardown", "--run", run_id]) == 0
    assert Ledger(run_dir.joinpath("ledger.jsonl")).live() == []
    assert main(["teardown", "--run", run_id]) == 0  # twice is fine
    kinds = {e.kind for e in read_recording(run_dir / "events.jsonl")}
    assert {"run_started", "step_failed", "teardown_finished"} <= kinds


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--only", "nowhere"], "--only: no cloud named nowhere"),
        (["run", "--kill", "ibm/node-1"], "--kill ibm/node-1: expected TARGET@SECONDS"),
        (["run", "--kill", "ibm/vm-1@3"], "bad target"),
        (["run", "--fail", "ibm:nostep"], "--fail ibm:nostep: step must be one of"),
        (["run", "--speed", "0"], "--speed 0: must be a number from 0.01 to 1000"),
        (["teardown", "--run", "../etc"], "--run ../etc: not a run id"),
        (["teardown", "--run", "xr-20260101-000000-0000"], "no run xr-20260101-000000-0000"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert "Traceback" not in err[0]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], *([c, "--help"] for c in
                 ("run", "validate", "check", "teardown", "sweep", "replay"))):  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        assert "usage: crossroom" in capsys.readouterr().out
