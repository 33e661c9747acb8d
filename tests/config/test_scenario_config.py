"""The run-sheet is validated like the rest of the demo file: every problem one
``file:line: field: problem`` line, exit 2 from the commands, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.loader import load_demo
from engine.config.scenario import load_scenario_file
from engine.errors import ConfigError
from engine.sim.fleet import rehearsal_demo

HEAD = """name: show
clouds:
  - name: alpha
    provider: sim
    servers: 3
  - name: beta
    provider: sim
    servers: 2
scenario:
"""
"""The scenario starts on line 10."""


def errors(tmp_path: Path, scenario: str) -> list[str]:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + scenario)
    with pytest.raises(ConfigError) as caught:
        load_demo(path)
    return [line.removeprefix(f"{path}:") for line in caught.value.lines]


def test_a_good_run_sheet_loads(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        HEAD
        + """  pace: presenter
  hold_before: cockroach
  expect: {all_joined_within: 10m}
  cues:
    - {name: go, on: held, at: 5s, do: release}
    - {do: say, text: "hello"}
    - do: stop
      target: alpha/node-3
      for: 1m30s
      at: 30
      expect: {kv_error_rate_max: 0.5%, p99_max_ms: 500, unavailable_ranges: 0, healed_within: 2m}
    - {do: restart, target: beta/node-1, after: go}
    - {do: heal, target: beta, on: "cloud_joined:beta"}
"""
    )
    sheet = load_demo(path).scenario
    assert sheet is not None
    assert (sheet.pace, sheet.hold_before, sheet.expect.all_joined_within_s) == (
        "presenter",
        "cockroach",
        600.0,
    )
    go, say, stop, restart, heal = sheet.cues
    assert (go.on, go.at_s, go.action) == ("held", 5.0, "release")
    assert (say.name, say.text, say.trigger) == ("say", "hello", "all_joined")
    assert (stop.name, stop.for_s, stop.at_s) == ("stop-alpha-node-3", 90.0, 30.0)
    assert stop.expect.kv_error_rate_max == pytest.approx(0.005)
    assert (stop.expect.p99_max_ms, stop.expect.healed_within_s) == (500.0, 120.0)
    assert (restart.after, heal.on) == ("go", "cloud_joined:beta")


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            "  cues:\n    - {do: stop, target: gamma/node-1}\n",
            ["11: scenario.cues[0].target: no cloud named 'gamma' in this demo"],
        ),
        (
            "  cues:\n    - {do: stop, target: beta/node-3}\n",
            ["11: scenario.cues[0].target: beta/node-3: beta has only 2 nodes"],
        ),
        (
            "  cues:\n    - {do: stop, target: alpha}\n",
            [
                "11: scenario.cues[0].target: 'alpha' is not a target for stop: "
                "expected CLOUD/node-N"
            ],
        ),
        (
            "  cues:\n    - {do: stopp, target: alpha/node-1}\n",
            [
                "11: scenario.cues[0].do: expected one of restart, stop, revive, kill_server, "
                "kill_cloud, partition, heal, crash, freeze, teardown, say, release, got "
                "'stopp'; did you mean 'stop'?"
            ],
        ),
        (
            "  cues:\n    - {do: stop, target: alpha/node-1, at: soon}\n",
            ["11: scenario.cues[0].at: 'soon' is not a duration (e.g. 30s, 1m30s, 500ms)"],
        ),
        (
            "  cues:\n    - {do: restart, target: alpha/node-1, for: 90s}\n",
            [
                "11: scenario.cues[0].for: restart cannot be undone; for: is for stop, "
                "kill_server, kill_cloud, partition, freeze"
            ],
        ),
        (
            "  cues:\n    - {do: say}\n",
            ["11: scenario.cues[0].text: required for say (the words for the audience)"],
        ),
        (
            "  cues:\n    - target: alpha\n",
            [
                "11: scenario.cues[0].do: required (one of restart, stop, revive, kill_server, "
                "kill_cloud, partition, heal, crash, freeze, teardown, say, release)"
            ],
        ),
        (
            "  cues:\n    - {do: kill_cloud, target: alpha, when: 30s}\n",
            [
                "11: scenario.cues[0].when: unknown key (known keys: name, do, target, at, "
                "after, on, for, text, expect)"
            ],
        ),
        (
            "  cues:\n    - {do: stop, target: alpha/node-1, expect: {p99_max_ms: fast}}\n",
            [
                "11: scenario.cues[0].expect.p99_max_ms: expected a number > 0 and "
                "<= 3600000, got a string ('fast')"
            ],
        ),
        (
            "  cues:\n    - {do: stop, target: alpha/node-1, expect: {kv_error_rate_max: 2}}\n",
            [
                "11: scenario.cues[0].expect.kv_error_rate_max: expected a percentage "
                "(e.g. 1%), got a number (2)"
            ],
        ),
        (
            "  cues:\n    - {do: say, text: hi, expect: {healed_within: 1m}}\n",
            [
                "11: scenario.cues[0].expect: only a fault has expectations (restart, stop, "
                "kill_server, kill_cloud, partition, crash, freeze)"
            ],
        ),
        (
            "  cues:\n    - {do: release}\n",
            [
                "11: scenario.cues[0].do: release needs a gate: add hold_before: (a step "
                "name) to the scenario"
            ],
        ),
        (
            "  hold_before: cockroch\n  cues: []\n",
            [
                "10: scenario.hold_before: expected one of keypair, security_group, "
                "floating_ips, servers, volumes, boot, kubernetes, cockroach, join, got "
                "'cockroch'; did you mean 'cockroach'?"
            ],
        ),
        (
            "  cues:\n    - {do: say, text: x, on: cloud_joined:gamma}\n",
            ["11: scenario.cues[0].on: no cloud named 'gamma' in this demo"],
        ),
        (
            "  cues:\n    - {do: say, text: x, on: lunch}\n",
            [
                "11: scenario.cues[0].on: expected one of all_joined, held, healed, "
                "cloud_joined:<cloud>, got 'lunch'"
            ],
        ),
        (
            "  cues:\n    - {name: a, do: say, text: x}\n    - {name: a, do: say, text: y}\n",
            ["12: scenario.cues[1].name: repeated cue name 'a' (first at line 11)"],
        ),
        (
            "  cues:\n    - {name: a, do: say, text: x, after: b}\n"
            "    - {name: b, do: say, text: y, after: a}\n",
            [
                "11: scenario.cues[0].after: cues wait on each other in a cycle: a -> b -> a",
                "12: scenario.cues[1].after: cues wait on each other in a cycle: b -> a -> b",
            ],
        ),
        (
            "  cues:\n    - {name: a, do: say, text: x, after: b}\n"
            "    - {name: b, do: say, text: y}\n",
            ["11: scenario.cues[0].after: 'b' comes later in the list; cues fire in list order"],
        ),
        (
            "  cues:\n    - {name: a, do: say, text: x, after: nobody}\n",
            ["11: scenario.cues[0].after: no cue named 'nobody'"],
        ),
        (
            "  cues:\n    - {do: say, text: x, after: a, on: held}\n",
            ["11: scenario.cues[0].on: give either after: or on:, not both"],
        ),
        (
            "  pace: fast\n  cues: 3\n",
            [
                "10: scenario.pace: expected one of auto, presenter, got 'fast'",
                "11: scenario.cues: expected a list of cues, got a number (3)",
            ],
        ),
    ],
)
def test_each_mistake_is_one_line_naming_file_line_and_field(
    tmp_path: Path, scenario: str, expected: list[str]
) -> None:
    assert errors(tmp_path, scenario) == expected


def test_a_scenario_file_is_checked_against_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "sheet.yaml"
    path.write_text("cues:\n  - {do: stop, target: nowhere/node-1}\n  - {do: say}\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario_file(path, rehearsal_demo())
    assert caught.value.lines == [
        f"{path}:2: cues[0].target: no cloud named 'nowhere' in this demo",
        f"{path}:3: cues[1].text: required for say (the words for the audience)",
    ]


def test_run_with_a_bad_scenario_exits_2_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sheet.yaml"
    path.write_text("cues:\n  - {do: freeze, target: vexxhost/node-9, for: 20s}\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{path}:2: cues[0].target: vexxhost/node-9: vexxhost has only 3 nodes"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--paced"], "--paced: no one paces a headless run; each cue fires when it is due"),
        (["--junit", "/nonexistent/x.xml"], "--junit /nonexistent/x.xml: no folder /nonexistent"),
    ],
)
def test_run_refuses_bad_run_sheet_options_before_the_show(args: list[str], line: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.startswith(line)
