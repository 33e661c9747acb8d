"""Suite-wide fixtures: keep every test away from the developer's own state and config."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Runs write under the state dir; a test must never touch ``~/.local/state``."""
    state = tmp_path / "state"
    monkeypatch.setenv("CROSSROOM_STATE_DIR", str(state))
    yield state


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A state dir for a test that starts an engine: the engine's Unix socket has a path of
    at most 107 bytes, and pytest's own temporary paths (a worker's more so) run longer."""
    path = Path(tempfile.mkdtemp(prefix="xr-", dir="/tmp"))  # not $TMPDIR, which may be deep
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def terminal_size_from_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist's workers carry ``COLUMNS=80`` and ``LINES=24``, which Textual reads
    before asking the terminal: a screen a test starts in a pseudo-terminal must be the
    size that terminal has (the test sets it), as it is for a presenter."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How ``scripts/test`` spreads the suite over two workers (pytest-xdist, ``--dist
    loadgroup``): each test file stays on one worker, so its module and session fixtures
    are made once, and every test of the OpenStack lab shares one worker (one lab, which
    is brought up once) and goes first, since it is the longest chain of the suite and
    the other worker meanwhile takes the rest file by file."""
    lab = [item for item in items if "lab" in item.fixturenames]
    rest = [item for item in items if "lab" not in item.fixturenames]
    items[:] = lab + rest
    for item in lab:
        item.add_marker(pytest.mark.xdist_group("openstack-lab"))
    for item in rest:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
