"""Fixtures for the screen's tests (helpers live in ``harness.py`` and ``scenes.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Textual runs on asyncio; the engine's own tests use trio's virtual clock."""
    return "asyncio"


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The header shows local time; snapshots are taken in UTC wherever they run."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
