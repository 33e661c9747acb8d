"""Command-line values a show cannot run with: one line, exit 2, before anything starts.

"Before anything starts" is checked by the state dir: no run directory may appear.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--speed", "nan"], "--speed nan: must be a number from 0.01 to 1000"),
        (["run", "--speed", "inf"], "--speed inf: must be a number from 0.01 to 1000"),
        (["run", "--speed", "1e-300"], "--speed 1e-300: must be a number from 0.01 to 1000"),
        (["run", "--speed", "-1"], "--speed -1: must be a number from 0.01 to 1000"),
        (["--speed", "nan"], "--speed nan: must be a number from 0.01 to 1000"),
        (["run", "--kill", "ibm@inf"], "--kill ibm@inf: seconds must be a number from 0 to"),
        (["run", "--kill", "ibm@nan"], "--kill ibm@nan: seconds must be a number from 0 to"),
        (["run", "--kill", "ibm/node-1@-5"], "--kill ibm/node-1@-5: seconds must be a number"),
        (["run", "--kill", "ibm@1e400"], "--kill ibm@1e400: seconds must be a number from 0"),
        (["run", "--seed", str(10**30)], "--seed: must be an integer from 0 to"),
        (["run", "--seed", "-1"], "--seed: must be an integer from 0 to"),
        (["run", "--report", "no/such/folder/r.json"], "--report no/such/folder/r.json: no folder"),
        (["run", "--report", "."], "--report .: is a folder; name a file"),
        (["run", "--report", "~no-such-user-xr/r.json"], "cannot resolve ~no-such-user-xr"),
        (["run", "--report", "x" * 300 + "/r.json"], "path too long"),
        (["run", "--state-dir", "/dev/null/x"], "--state-dir /dev/null/x: a part of the path"),
        (["replay", "README.md", "--speed", "inf"], "--speed inf: must be a number"),
    ],
)
def test_bad_values_are_one_line_and_exit_2_before_the_show(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    isolated_state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    if argv[0] == "replay":
        (tmp_path / "README.md").write_text('{"kind": "run_started"}\n')
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert message in err[0]
    assert not (isolated_state_dir / "runs").exists()


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"crossroom {version('crossroom')}"


@pytest.mark.parametrize("command", [["run"], ["teardown", "--run", "xr-20260101-000000-abcd"]])
def test_an_unusable_state_dir_from_the_environment_is_one_line(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSROOM_STATE_DIR", "~no-such-user-xr/state")
    assert main(command) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "CROSSROOM_STATE_DIR ~no-such-user-xr/state: "
        "cannot resolve ~no-such-user-xr: no such user or home folder"
    )
