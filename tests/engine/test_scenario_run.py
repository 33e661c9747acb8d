"""``crossroom run --scenario`` as a user runs it (a real process on the rehearsal fleet):
exit 0 when every expectation passes, 1 when one fails, and a ``--junit`` file that the
JUnit schema Jenkins uses accepts, a case per cloud join and per expectation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import xmlschema
from junitparser import Failure, JUnitXml

from engine import events as ev
from engine.junit_report import junit_xml
from engine.state import fold

XSD = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
CLOUDS = "vexxhost,platform9,rackspace"

SHEET = """\
hold_before: cockroach
expect: {all_joined_within: 1h}
cues:
  - {name: go, on: held, at: 3s, do: release}
  - {name: restart, at: 10s, do: restart, target: vexxhost/node-1,
     expect: {unavailable_ranges: 0, healed_within: 2m}}
  - {name: stop, on: healed, at: 5s, do: stop, target: platform9/node-2, for: 90s,
     expect: {unavailable_ranges: 0, kv_error_rate_max: 5%, p99_max_ms: %(p99)s,
              healed_within: 3m}}
  - {name: server, on: healed, at: 5s, do: kill_server, target: rackspace/node-3, for: 30s}
  - {name: back, on: healed, do: say, text: healed}
"""


def run_sheet(tmp_path: Path, p99: str) -> tuple[subprocess.CompletedProcess[str], Path, dict]:
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(SHEET.replace("%(p99)s", p99))
    junit, report = tmp_path / "out.xml", tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "run",
            "--only",
            CLOUDS,
            "--speed",
            "40",
            "--scenario",
            str(sheet),
            "--junit",
            str(junit),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, junit, json.loads(report.read_text())


def cases(junit: Path) -> dict[str, bool]:
    """Each test case's name and whether it passed."""
    xml = JUnitXml.fromfile(str(junit))
    return {
        case.name: not any(isinstance(r, Failure) for r in case.result)
        for suite in ([xml] if xml._tag == "testsuite" else xml)
        for case in suite
    }


@pytest.mark.slow
def test_every_expectation_passing_exits_0_with_a_valid_junit_file(tmp_path: Path) -> None:
    done, junit, report = run_sheet(tmp_path, "60000")
    assert done.returncode == 0, done.stderr
    xmlschema.XMLSchema(str(XSD)).validate(str(junit))
    got = cases(junit)
    assert {f"{c} joined" for c in CLOUDS.split(",")} <= set(got)
    assert {
        "run: all_joined_within",
        "restart: unavailable_ranges",
        "restart: healed_within",
        "stop: unavailable_ranges",
        "stop: kv_error_rate_max",
        "stop: p99_max_ms",
        "stop: healed_within",
    } == {name for name in got if ":" in name}
    assert all(got.values())
    assert [c["cue"] for c in report["cues"]] == ["go", "restart", "stop", "server", "back"]
    assert all(v["passed"] and v["measured"] for v in report["verdicts"])
    assert "PASS stop: healed_within" in done.stdout


@pytest.mark.slow
def test_a_failing_expectation_exits_1_and_fails_its_junit_case(tmp_path: Path) -> None:
    done, junit, report = run_sheet(tmp_path, "0.001")
    assert done.returncode == 1
    assert "expectation(s) failed: stop: p99_max_ms" in done.stderr
    xmlschema.XMLSchema(str(XSD)).validate(str(junit))
    got = cases(junit)
    assert got["stop: p99_max_ms"] is False
    assert got["stop: healed_within"] is True
    assert all(got[f"{c} joined"] for c in CLOUDS.split(","))
    (failed,) = [v for v in report["verdicts"] if not v["passed"]]
    assert failed["expected"] == "<= 0.001 ms"


def test_outside_text_in_the_junit_file_stays_valid_xml(tmp_path: Path) -> None:
    started = ev.RunStarted(
        run_id="xr-1",
        demo="<demo> & \x1b[2J",
        simulated=True,
        clouds=(ev.CloudInfo(name="a", label="A", steps=("boot",)),),
    )
    failed = ev.StepFailed(
        cloud="a", step="boot", error="quota \x1b[31mexceeded\x07 <b>", duration_s=1
    )
    verdict = ev.VerdictDecided(
        name="healed_within", scope="x", passed=False, measured="fault failed: \x00", expected="1s"
    )
    path = tmp_path / "out.xml"
    path.write_bytes(junit_xml(fold([started, ev.CloudStarted(cloud="a"), failed, verdict])))
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    got = cases(path)
    assert got == {"a joined": False, "x: healed_within": False}
    assert "\x1b" not in path.read_text() and "\x07" not in path.read_text()
