"""Printed lines: outside text reaches the terminal literally, secrets never.

``crossroom replay --headless`` and ``crossroom run`` print text from recordings, demo
files and clouds; every piece must appear as ``engine.terminal_text.visible`` shows it,
and no control character but the line's own newline may be printed. Credentials in a
clouds.yaml ``auth_url`` (keystoneauth logs the URL it failed to reach) must not appear
on stdout, stderr or in any file the run writes.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.plan import STEPS
from engine.terminal_text import visible
from tui.cli import main

CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028-\u202e\ud800-\udfff]")
"""Anything but the newline that ends a printed line."""
PIECES = ["\x1b]0;pwned\x07", "\x1b[31;1m", "\x9b2J", "\r", "\x00", "\x7f", "\u202e", "[/b]"]
outside = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(alphabet=st.sampled_from(list("ab[]/\\;0 é\x1b\x9b\x07\r\n\t\u2028")), max_size=6),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "X" + "".join(parts) + "Z")
"""Hostile text that redaction leaves alone (no key words), so it must appear as is."""

printed_settings = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _assert_safe(out: str) -> None:
    bad = CONTROLS.search(out)
    assert bad is None, f"{bad.group()!r} printed in {out[max(0, bad.start() - 40) :][:80]!r}"


def _recording(path: Path, text: str) -> None:
    info = ev.CloudInfo(name="c1", label=f"L{text}", region=f"R{text}", steps=STEPS)
    events: list[ev.Event] = [
        ev.RunStarted(run_id="r1", demo=f"D{text}", simulated=True, clouds=(info,), t=0.0),
        ev.CloudStarted(cloud="c1", t=0.1),
        ev.StepStarted(cloud="c1", step="resolve", t=0.2),
        ev.LogLines(cloud="c1", lines=(f"G{text}",), t=0.3),
        ev.Notice(level="warning", message=f"N{text}", t=0.4),
        ev.NodeObserved(node="c1/node-1", cloud="c1", liveness="live", address=f"A{text}", t=0.5),
        ev.MonitorStatus(state="connected", address="h", message=f"M{text}", t=0.6),
        ev.StepRetrying(cloud="c1", step="resolve", attempt=2, delay_s=1, error=f"E{text}", t=1),
        ev.StepFailed(cloud="c1", step="resolve", error=f"F{text}", duration_s=1.0, t=2.0),
        ev.KillFailed(target=f"T{text}", error=f"K{text}", t=3.0),
        ev.TeardownFinished(cloud="c1", leftovers=(f"O{text}",), t=4.0),
    ]
    path.write_bytes(b"".join(ev.encode(e) + b"\n" for e in events))


@given(text=outside)
@printed_settings
def test_replay_headless_prints_outside_text_literally(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.jsonl"
    _recording(path, text)
    main(["replay", "--headless", "--logs", str(path)])
    out, err = capsys.readouterr()
    _assert_safe(out + err)
    for mark in "LDGNAMEFKO":
        if mark == "A":
            continue  # addresses are not printed by the step lines
        assert visible(f"{mark}{text}") in out, mark


@given(text=outside)
@printed_settings
def test_run_prints_an_injected_failure_literally(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--only", "vexxhost", "--fail", f"vexxhost:resolve:F{text}", "--speed", "1000"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    _assert_safe(out + err)
    assert visible(" ".join(f"F{text}".split())) in out  # engine errors are one line


SECRETS = ("hunter2pw", "qsSecret99", "tok77abc", "plainpw42")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(180)
def test_auth_url_credentials_never_leave_through_library_logs(tmp_path: Path) -> None:
    """keystoneauth warns "Failed to discover ... when contacting <auth_url>" on stderr."""
    port = _free_port()  # closed: nothing listens on it
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n"
        "  leaky:\n"
        "    auth:\n"
        f'      auth_url: "http://admin:{SECRETS[0]}@127.0.0.1:{port}/identity/v3'
        f'?password={SECRETS[1]}&token={SECRETS[2]}"\n'
        "      username: demo\n"
        f"      password: {SECRETS[3]}\n"
        "      project_name: demo\n"
        "      user_domain_name: Default\n"
        "      project_domain_name: Default\n"
    )
    demo = tmp_path / "demo.yaml"
    demo.write_text("name: leak\nclouds:\n  - name: leaky\n    provider: openstack\n")
    state = tmp_path / "state"
    env = {
        **os.environ,
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "CROSSROOM_STATE_DIR": str(state),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    for command in ("check", "run"):
        done = subprocess.run(
            [sys.executable, "-m", "tui", command, "--config", str(demo)],
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        for secret in SECRETS:
            assert secret not in done.stdout + done.stderr, f"{command}: {secret} printed"
    written = [p for p in state.rglob("*") if p.is_file()]
    assert written  # the run wrote its files
    for path in written:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} in {path.relative_to(state)}"


@pytest.mark.parametrize("command", [[], ["validate"], ["run"]])
def test_a_demo_file_error_is_printed_inert_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """The screen command does not wrap the standard streams (Textual owns them), so its
    config errors, which quote the demo file's name and text, are made safe where printed."""
    demo = tmp_path / "demo\x1b]0;owned\x07.yaml"
    demo.write_text("name: x\nclouds:\n  - name: a\n    sized: 3\n")
    args = [*command, str(demo)] if command == ["validate"] else [*command, "--config", str(demo)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "owned" in err and "sized" in err, err
    assert "\x1b" not in err and "\x07" not in err, err
