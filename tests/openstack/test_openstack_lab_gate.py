"""When the lab cannot start, the reason must be clear (and CI must not skip silently)."""

from __future__ import annotations

import os

import lab_control
import pytest


def test_not_root_names_root_as_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert lab_control.unavailable() == (
        "the OpenStack lab needs root (it installs Debian packages and runs services)"
    )


def test_no_apt_names_apt_as_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert lab_control.unavailable() == (
        "the OpenStack lab needs apt-get (Debian 12 packages of OpenStack Zed)"
    )


def test_a_stopped_lab_is_not_taken_for_a_running_one(tmp_path) -> None:
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / "keystone.pid").write_text("999999999\n")
    assert not lab_control.running(tmp_path)
