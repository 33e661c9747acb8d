"""Suite-wide fixtures: keep every test away from the developer's own state and config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Runs write under the state dir; a test must never touch ``~/.local/state``."""
    state = tmp_path / "state"
    monkeypatch.setenv("CROSSROOM_STATE_DIR", str(state))
    yield state
