"""The run's recording: every event, one JSON line each, for replay and reports.

Writes are buffered and flushed by ``flush()`` (the room calls it about twice a second
and on close), so a log flood costs one write syscall per flush, not per event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from engine.events import Event, decode, encode


class Recorder:
    """An ``EventSink`` that appends to ``events.jsonl``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[bytes] = path.open("ab", buffering=1 << 16)

    def __call__(self, event: Event) -> None:
        self._file.write(encode(event) + b"\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def read_recording(path: Path) -> Iterator[Event]:
    """Events in order; unknown kinds (from newer versions) and a torn last line are skipped."""
    with path.open("rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            try:
                event = decode(raw)
            except ValueError:
                continue
            if event is not None:
                yield event
