"""The go-gate: every cloud runs up to one step of its plan and waits there, so the joins
happen on the presenter's cue (``hold_before:`` in the run-sheet).

Each cloud's worker waits on one ``anyio.Event``; releasing sets it, so every held cloud
goes at once and nothing polls. ``GateHeld`` is published once, when every cloud still
running waits at the gate (a cloud that failed on the way does not keep the gate open).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from engine.events import (
    CloudCancelled,
    EventSink,
    GateHeld,
    GateReleased,
    StepProgress,
    StepStarted,
)
from engine.plan import StepContext

HELD_MESSAGE = "held at the gate: waiting for the go"


class GoGate:
    def __init__(self, step: str, publish: EventSink, running: Callable[[], set[str]]) -> None:
        self.step = step
        self._publish = publish
        self._running = running
        """The clouds whose plan is running now (from the folded state)."""
        self._released = anyio.Event()
        self._waiting: set[str] = set()
        self._held = False

    @property
    def released(self) -> bool:
        return self._released.is_set()

    @property
    def held(self) -> bool:
        return self._held and not self.released

    async def hold(self, ctx: StepContext) -> None:
        """Wait here until released (at once if it already was)."""
        if self.released:
            return
        cloud = ctx.cloud.name
        ctx.emit(StepStarted(cloud=cloud, step=self.step))
        ctx.emit(StepProgress(cloud=cloud, step=self.step, message=HELD_MESSAGE))
        self._waiting.add(cloud)
        try:
            self.check()
            await self._released.wait()
        except anyio.get_cancelled_exc_class():
            ctx.emit(CloudCancelled(cloud=cloud, step=self.step))
            ctx.log(f"{self.step}: cancelled while held at the gate", level="warning")
            raise
        finally:
            self._waiting.discard(cloud)

    def check(self) -> None:
        """Publish ``GateHeld`` once every running cloud waits (call when a cloud stops)."""
        if self._held or self.released or not self._waiting:
            return
        if self._waiting >= self._running():
            self._held = True
            self._publish(GateHeld(step=self.step))

    def release(self) -> bool:
        """Let every cloud go; ``False`` when it was released already (nothing to do)."""
        if self.released:
            return False
        self._released.set()
        self._publish(GateReleased())
        return True
