"""Collecting and waiting for events in real-time tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from engine import state as room
from engine.clock import Clock
from engine.events import Event, EventSink
from engine.hub import EventHub


@dataclass
class EventCollector:
    """An ``EventSink`` that keeps every event, folds them into the room's state as they
    come (cheap for the event loop the code under test shares), and lets a test wait."""

    events: list[Event] = field(default_factory=list)
    state: room.RoomState = field(default_factory=room.RoomState)

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.state = room.apply(self.state, event)

    def through_hub(self, clock: Clock) -> EventSink:
        """A sink that stamps each event on ``clock`` before it reaches this recorder, as
        the room's ``EventHub`` does (cluster backends emit events without times)."""
        hub = EventHub(clock)
        hub.subscribe(self, replay=False)
        return hub.publish

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(
        self, match: Callable[[Event], bool], within: float, *, after: int = 0
    ) -> Event:
        """The first event (from index ``after``) that matches; fails the test after ``within``."""
        with anyio.fail_after(within):
            while True:
                for e in self.events[after:]:
                    if match(e):
                        return e
                await anyio.sleep(0.05)
