"""The event hub: the one way an event leaves the engine, and what a late listener catches up on.

Every event passes through ``EventHub.publish`` exactly once: stamped on the demo clock
(the only place events get their times), its outside text redacted (``engine.redact``:
secrets never reach the recording, a screen or a printed line), folded into the hub's own
``RoomState``, recorded, kept for catch-up, then handed to every subscriber. The live room
and the replay both publish through a hub, so a screen, the headless printer or (next) a
screen in another process is just another subscriber.

Catch-up is bounded by what happened, not by how long the show ran: every event that
changes the plan is kept, but only the last ``LOG_HISTORY_PER_CLOUD`` log batches of each
cloud and the last few periodic samples (``SAMPLE_HISTORY``), except a sample that moved a
kill on (the cluster degraded or healed after it): it is kept with the plan's events, so a
late screen folds the same kill timings as the engine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Protocol

import anyio

from engine.clock import Clock
from engine.events import (
    ClusterHealthObserved,
    Event,
    EventSink,
    LogLines,
    MonitorStatus,
    WorkloadSample,
    stamped,
)
from engine.redact import redact
from engine.state import RoomState, apply

LOG_HISTORY_PER_CLOUD = 64
"""Log batches a late subscriber is replayed per cloud (older ones are on disk)."""
SAMPLE_HISTORY: dict[type[Event], int] = {
    WorkloadSample: 120,
    ClusterHealthObserved: 1,
    MonitorStatus: 1,
}
"""Periodic samples a late subscriber needs only the latest of (120 s for the sparkline),
so a long show's history grows with what happened, not with how long it ran."""


class EventLog(Protocol):
    """Where the hub records every event (``engine.recording.EventRecorder``)."""

    def __call__(self, event: Event) -> None: ...


_TEXT_FIELDS: dict[type[Event], tuple[str, ...]] = {}


def _text_fields(event: Event) -> tuple[str, ...]:
    """The fields of this kind of event that hold text (a string or a tuple of strings)."""
    kind = type(event)
    names = _TEXT_FIELDS.get(kind)
    if names is None:
        names = tuple(
            f.name
            for f in fields(event)
            if f.name not in ("t", "wall") and isinstance(getattr(event, f.name), str | tuple)
        )
        _TEXT_FIELDS[kind] = names
    return names


def redacted(event: Event) -> Event:
    """``event`` with every secret in its text masked (the same event if it held none).

    Every string field is outside text as far as the hub knows (a cloud's error, a log
    line, an address holding a password), so each one is passed through ``redact``.
    """
    changes: dict[str, object] = {}
    for name in _text_fields(event):
        value = getattr(event, name)
        if isinstance(value, str):
            masked = redact(value)
            if masked != value:
                changes[name] = masked
        elif isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
            lines = tuple(redact(v) for v in value)
            if lines != value:
                changes[name] = lines
    return replace(event, **changes) if changes else event  # type: ignore[arg-type]


class EventHub:
    """Publish, stamp, redact, fold, record, keep for catch-up, and hand to subscribers.

    ``clock`` stamps each event as it is published; without one (a replay) events keep the
    times they were recorded with. Sinks are called synchronously, in subscription order,
    on the caller's loop: they must not block.
    """

    def __init__(self, clock: Clock | None = None, record: EventLog | None = None) -> None:
        self._clock = clock
        self._record = record
        self._state = RoomState()
        self._sinks: list[EventSink] = []
        self._seq = 0
        self._history: list[tuple[int, Event]] = []
        self._logs: dict[str, deque[tuple[int, Event]]] = {}
        self._samples: dict[type[Event], deque[tuple[int, Event]]] = {
            kind: deque(maxlen=keep) for kind, keep in SAMPLE_HISTORY.items()
        }
        self._waiting: dict[type[Event], anyio.Event] = {}

    @property
    def state(self) -> RoomState:
        """The fold of every event published so far."""
        return self._state

    @property
    def seq(self) -> int:
        """The number of the last event published (events are numbered from 1)."""
        return self._seq

    def catch_up(self) -> list[tuple[int, Event]]:
        """What a late subscriber is replayed, with each event's number, in publishing order
        (a screen in another process uses the numbers to skip what it already has)."""
        past = list(self._history)
        for recent in (*self._logs.values(), *self._samples.values()):
            past.extend(recent)
        past.sort(key=lambda pair: pair[0])
        return past

    def publish(self, event: Event) -> None:
        if self._clock is not None:
            event = stamped(event, self._clock.now(), self._clock.wall())
        event = redacted(event)
        before = self._state
        self._state = apply(before, event)
        self._seq += 1
        if isinstance(event, LogLines):
            self._logs.setdefault(event.cloud, deque(maxlen=LOG_HISTORY_PER_CLOUD)).append(
                (self._seq, event)
            )
        elif type(event) in self._samples and self._state.kills == before.kills:
            self._samples[type(event)].append((self._seq, event))
        else:
            self._history.append((self._seq, event))
        if self._record is not None:
            self._record(event)
        waiting = self._waiting.pop(type(event), None)
        if waiting is not None:
            waiting.set()
        for sink in list(self._sinks):
            sink(event)

    async def next_of(self, kind: type[Event]) -> None:
        """Return once the next event of ``kind`` has been published (a step that waits on
        the cluster's view of its nodes wakes on change instead of polling)."""
        waiting = self._waiting.get(kind)
        if waiting is None:
            waiting = self._waiting[kind] = anyio.Event()
        await waiting.wait()

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        """Receive every event; with ``replay`` the kept past first, in publishing order.
        Returns the function that unsubscribes."""
        if replay:
            for _seq, event in self.catch_up():
                sink(event)
        self._sinks.append(sink)

        def unsubscribe() -> None:
            if sink in self._sinks:
                self._sinks.remove(sink)

        return unsubscribe
