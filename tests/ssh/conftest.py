"""Fixtures for the SSH fault tests: the sshd lab of ``sshd_lab``, started per test."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from sshd_lab import Sshd, SshLab, keygen, start_sshd, stop, unavailable


@pytest.fixture
def anyio_backend() -> str:
    """asyncssh runs on asyncio only, as the engine does (``anyio.run``'s default backend)."""
    return "asyncio"


@pytest.fixture
def ssh_lab(tmp_path: Path) -> Iterator[SshLab]:
    unavailable()
    keys = tmp_path / "user-keys"
    keys.mkdir()
    jump_key = keygen(keys / "id_jump")
    started: list[Sshd] = []
    try:
        for name, forwarding, namespace in (
            ("jump", True, False),
            ("target", False, True),
            ("closed-jump", False, False),
        ):
            started.append(start_sshd(tmp_path / name, forwarding, namespace))
        jump, target, closed = started
        jump.authorize(jump_key.with_suffix(".pub"))
        closed.authorize(jump_key.with_suffix(".pub"))
        yield SshLab(jump, target, closed, getpass.getuser(), jump_key)
    finally:
        for server in started:
            stop(server)
