"""Simulated-cluster tests: the model is driven tick by tick, or on trio's virtual clock."""

from __future__ import annotations

from typing import Any

import pytest
from trio.testing import MockClock


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Virtual time jumps whenever every task waits, so demo minutes pass instantly."""
    return ("trio", {"clock": MockClock(autojump_threshold=0)})
