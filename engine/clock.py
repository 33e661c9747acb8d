"""The demo clock: every time and sleep in the engine goes through one of these.

Injected rather than global so the rehearsal fleet can run faster than real time
(``--speed``) and tests can run a whole show on trio's virtual ``MockClock``.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio


class Clock(Protocol):
    """Seconds on the demo clock, and sleeps measured on it."""

    speed: float

    def now(self) -> float:
        """Monotonic demo seconds since the clock was made."""
        ...

    def wall(self) -> float:
        """Unix time, for humans reading a recording; never used for ordering."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of demo time (``seconds / speed`` of real time)."""
        ...


class ScaledClock:
    """Demo time runs ``speed`` times faster than the event loop's clock.

    Built on ``anyio.current_time()``, so under trio's ``MockClock`` it is virtual
    time too. Must be created inside a running event loop.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = anyio.current_time()

    def now(self) -> float:
        # Microsecond resolution: two runs started at different instants then agree to the
        # last bit, which keeps seeded rehearsals reproducible.
        return round((anyio.current_time() - self._origin) * self.speed, 6)

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds) / self.speed)
