"""Where engine events wait for the screen's next tick, and each cloud's recent log.

The engine calls ``EventInbox.put`` on the shared event loop for every event, however
fast they come; the App drains it about ten times a second and folds the batch. The
inbox is bounded: when it fills, ``on_full`` asks the App to fold at once rather than
drop an event (a dropped ``StepFinished`` would leave a pane wrong for the rest of the
show). Log lines are kept per cloud in a bounded ring for the zoom view; the full log
stays in the run directory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.events import Event

INBOX_LIMIT = 20_000
"""Events held before a fold is forced (a tick's worth at any sane rate)."""
LOG_KEEP = 5_000
"""Lines kept per cloud for the zoom view (k9s keeps 5,000 for the same reason)."""


class EventInbox:
    def __init__(self, on_full: Callable[[], None] | None = None, limit: int = INBOX_LIMIT) -> None:
        self._events: list[Event] = []
        self._limit = limit
        self._on_full = on_full
        self.received = 0

    def put(self, event: Event) -> None:
        """An ``EventSink``: append and return, never block."""
        self._events.append(event)
        self.received += 1
        if len(self._events) >= self._limit and self._on_full is not None:
            self._on_full()

    def drain(self) -> list[Event]:
        events, self._events = self._events, []
        return coalesce_logs(events)

    def __len__(self) -> int:
        return len(self._events)


def coalesce_logs(events: list[Event]) -> list[Event]:
    """The same batch with each cloud's run of ``LogLines`` (same level, no other event
    between) merged into one, at the place of the run's first batch.

    A flood arrives as a batch per cloud every 20 ms: folding them one by one copies the
    room's state for each (~75 copies a tick at 20,000 lines/s); merged, once per cloud.
    A cloud's lines keep their order; only log batches move, and only past other clouds'
    log batches, which they do not touch; every other event keeps its place.
    """
    from engine.events import LogLines

    out: list[Event] = []
    runs: dict[str, tuple[int, list[LogLines]]] = {}

    def close(index: int, batches: list[LogLines]) -> None:
        if len(batches) > 1:
            lines = tuple(line for batch in batches for line in batch.lines)
            out[index] = replace(batches[-1], lines=lines)

    for event in events:
        if type(event) is LogLines:
            run = runs.get(event.cloud)
            if run is not None and run[1][0].level == event.level:
                run[1].append(event)
                continue
            if run is not None:
                close(*run)
            runs[event.cloud] = (len(out), [event])
            out.append(event)
        else:
            for run in runs.values():
                close(*run)
            runs.clear()
            out.append(event)
    for run in runs.values():
        close(*run)
    return out


class CloudLog:
    """The last ``LOG_KEEP`` lines of one cloud, numbered so a view can ask for what is new."""

    def __init__(self, keep: int = LOG_KEEP) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self.total = 0

    def add(self, lines: tuple[str, ...]) -> None:
        self.lines.extend(lines)
        self.total += len(lines)

    def since(self, seen: int) -> list[str]:
        """Lines after the first ``seen``; at most what the ring still holds."""
        new = self.total - seen
        if new <= 0:
            return []
        if new >= len(self.lines):
            return list(self.lines)
        return list(self.lines)[-new:]


class LogBook:
    """One ``CloudLog`` per cloud, made on first use."""

    def __init__(self, keep: int = LOG_KEEP) -> None:
        self._keep = keep
        self._logs: dict[str, CloudLog] = {}

    def add(self, cloud: str, lines: tuple[str, ...]) -> None:
        log = self._logs.get(cloud)
        if log is None:
            log = self._logs[cloud] = CloudLog(self._keep)
        log.add(lines)

    def get(self, cloud: str) -> CloudLog:
        log = self._logs.get(cloud)
        if log is None:
            log = self._logs[cloud] = CloudLog(self._keep)
        return log

    def clear(self) -> None:
        self._logs.clear()
