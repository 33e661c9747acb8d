"""Demo files and kubeconfigs that are not small regular files: one line, exit 2, no hang.

A FIFO would block ``open`` until a writer came, ``/dev/zero`` never ends and a huge file
fills memory, so the loader checks what it opened before reading it. Runs in a child
process with a timeout, so a regression fails here instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.files import DEMO_FILE_MAX_BYTES

GENEROUS_S = 60
"""Far above what a file check takes; only a hang reaches it."""


def validate(path: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=GENEROUS_S,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_fifo_as_the_demo_file_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "demo.yaml"
    os.mkfifo(fifo)
    assert one_line(validate(fifo)) == f"{fifo}: is a FIFO (named pipe), not a file"


def test_a_device_as_the_demo_file_is_refused() -> None:
    assert one_line(validate("/dev/zero")) == "/dev/zero: is a device, not a file"


def test_a_huge_demo_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(DEMO_FILE_MAX_BYTES * 64)  # sparse: costs no disk
    line = one_line(validate(big))
    assert line.startswith(f"{big}: too large (")


def test_an_over_long_path_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / ("x" * 300) / "demo.yaml"
    assert one_line(validate(path)) == f"{path}: path too long"


def test_a_fifo_as_kubeconfig_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "kubeconfig")
    (tmp_path / "demo.yaml").write_text(
        "name: d\nclouds:\n  - name: lab\n    kubernetes:\n      mode: existing\n"
        "      kubeconfig: kubeconfig\n      context: admin\n"
    )
    assert one_line(validate("demo.yaml", cwd=tmp_path)) == (
        "demo.yaml:6: clouds[0].kubernetes.kubeconfig: kubeconfig: "
        "is a FIFO (named pipe), not a file"
    )


def test_an_over_long_kubeconfig_path_is_one_line(tmp_path: Path) -> None:
    long = "/tmp/" + "k" * 300
    (tmp_path / "demo.yaml").write_text(
        f"name: d\nclouds:\n  - name: lab\n    kubernetes:\n      mode: existing\n"
        f"      kubeconfig: {long}\n"
    )
    line = one_line(validate("demo.yaml", cwd=tmp_path))
    assert line.startswith("demo.yaml:6: clouds[0].kubernetes.kubeconfig: /tmp/kkk")
    assert line.endswith(": path too long")


@pytest.mark.parametrize("text", ["~no-such-user-xr/kube", "~no-such-user-xr"])
def test_an_unknown_home_is_one_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "demo.yaml").write_text(
        f"name: d\nclouds:\n  - name: lab\n    kubernetes:\n      mode: existing\n"
        f"      kubeconfig: {text}\n"
    )
    assert one_line(validate("demo.yaml", cwd=tmp_path)) == (
        "demo.yaml:6: clouds[0].kubernetes.kubeconfig: "
        "cannot resolve ~no-such-user-xr: no such user or home folder"
    )
