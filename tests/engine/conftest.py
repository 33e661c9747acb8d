"""Engine tests run on trio's virtual clock: a whole show takes milliseconds, deterministically."""

from __future__ import annotations

from typing import Any

import pytest
from trio.testing import MockClock


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Virtual time jumps whenever every task waits, so demo minutes pass instantly."""
    return ("trio", {"clock": MockClock(autojump_threshold=0)})
