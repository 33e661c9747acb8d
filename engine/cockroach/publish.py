"""Emitting events, and mirroring every notice into the log (the room's hub stamps them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.clock import Clock, ScaledClock
from engine.events import Event, EventSink, Notice, NoticeLevel
from engine.redact import one_line

log = logging.getLogger("engine.cockroach")

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass(frozen=True)
class Publisher:
    """The monitor's, probes' and workload's one way out: events, never a raise.

    Events go out unstamped: the room's ``EventHub`` gives every event its time, once."""

    emit: EventSink
    pace: Clock = field(default_factory=lambda: ScaledClock(1.0))
    """Paces polls, probes, rates and timeouts: a real cluster lives in real time whatever
    ``--speed`` says (at speed 5 a 1 s poll must not become 0.2 s). Build inside a loop."""

    def __call__(self, event: Event) -> None:
        self.emit(event)

    def notice(self, level: NoticeLevel, message: str) -> None:
        """A line for the presenter and the same line in the log (redacted, one line)."""
        text = one_line(message)
        log.log(_LEVELS.get(level, logging.INFO), "%s", text)
        self(Notice(level=level, message=text))
