"""The run's recording: every event, one JSON line each, for replay and reports.

Writes are buffered and flushed by ``flush()`` (the room calls it about twice a second
and on close), so a log flood costs one write syscall per flush, not per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import anyio

from engine.events import Event, RunStarted, decode, encode
from engine.rundir import SAFE_NAME


class EventRecorder:
    """An ``EventSink`` that appends to ``events.jsonl``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[bytes] = path.open("ab", buffering=1 << 16)

    def __call__(self, event: Event) -> None:
        self._file.write(encode(event) + b"\n")

    def flush(self) -> None:
        self._file.flush()

    async def flush_every(self, seconds: float) -> None:
        """Write out what was recorded every ``seconds`` until cancelled."""
        while True:
            await anyio.sleep(seconds)
            self.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


MAX_LINE_BYTES = 64 << 20
"""Longest event line read; a log batch is a few KB, so only a damaged file comes near."""
REASONS_SHOWN = 3
"""Skipped lines named in the summary; the rest are counted."""
REASONS_KEPT = 100
"""Skipped lines remembered with their reason; a file of garbage must not fill memory."""
_BOM = b"\xef\xbb\xbf"


class BadRecording(Exception):
    """The recording cannot be replayed at all; ``str()`` is one line to print."""


@dataclass(frozen=True)
class SkippedLine:
    line: int
    reason: str


class RecordingReader:
    """Events in order, counting every line that is not one: unreadable JSON, an unknown
    kind (from a newer version), a torn last line, a second ``run_started``.

    Iterate it once; then ``skipped`` lists what was left out and ``summary()`` says it in
    one line. A first ``run_started`` whose clouds cannot be shown (a repeated or unsafe
    name: names become widget ids) raises ``BadRecording``: nothing after it would make
    sense. Lines are read with a length cap, so a damaged file cannot fill memory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped: list[SkippedLine] = []
        """The first ``REASONS_KEPT`` lines left out; ``skipped_count`` counts them all."""
        self.skipped_count = 0
        self._runs = 0

    def __iter__(self) -> Iterator[Event]:
        with self.path.open("rb") as f:
            number = 0
            while True:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                number += 1
                if number == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                        raw = f.readline(1 << 20)
                    self._skip(number, f"longer than {MAX_LINE_BYTES} bytes")
                    continue
                if not raw.strip():
                    continue
                event = self._event(number, raw)
                if event is not None:
                    yield event

    def _event(self, number: int, raw: bytes) -> Event | None:
        try:
            event = decode(raw)
        except RecursionError:
            return self._skip(number, "nested too deeply")
        except ValueError as exc:
            torn = not raw.endswith(b"\n")
            return self._skip(number, "torn last line" if torn else f"not an event: {exc}")
        if event is None:
            return self._skip(number, f"unknown kind {_kind_of(raw)} (from a newer version?)")
        if isinstance(event, RunStarted):
            self._runs += 1
            if self._runs > 1:
                return self._skip(number, "a second run_started (a recording holds one run)")
            problem = run_started_problem(event)
            if problem:
                raise BadRecording(f"{self.path}:{number}: run_started: {problem}")
        return event

    def _skip(self, number: int, reason: str) -> Event | None:
        """Count the line as skipped; ``None`` (no event) for the caller to return."""
        self.skipped_count += 1
        if len(self.skipped) < REASONS_KEPT:
            self.skipped.append(SkippedLine(number, _printable(reason)))
        return None

    def summary(self) -> str | None:
        """``35 events skipped: line 12: torn last line; ...``, or ``None`` if none were."""
        count = self.skipped_count
        if not count:
            return None
        named = "; ".join(f"line {s.line}: {s.reason}" for s in self.skipped[:REASONS_SHOWN])
        more = f"; and {count - REASONS_SHOWN} more" if count > REASONS_SHOWN else ""
        return f"{count} event{'s' if count != 1 else ''} skipped: {named}{more}"


def run_started_problem(event: RunStarted) -> str | None:
    """Why the clouds of a ``run_started`` cannot be shown, or ``None``."""
    seen: set[str] = set()
    for cloud in event.clouds:
        if not SAFE_NAME.fullmatch(cloud.name):
            return f"cloud name {_printable(repr(cloud.name))} is not a valid cloud name"
        if cloud.name in seen:
            return f"cloud {cloud.name!r} is listed twice"
        seen.add(cloud.name)
    return None


def read_recording(path: Path) -> RecordingReader:
    """The events of ``path`` (iterate); see ``RecordingReader`` for what is skipped."""
    return RecordingReader(path)


def _kind_of(raw: bytes) -> str:
    try:
        kind = json.loads(raw).get("kind")
    except (ValueError, RecursionError, AttributeError):
        return "?"
    return _printable(repr(kind))


def _printable(text: str, limit: int = 120) -> str:
    """Outside text in one of our lines: control characters made visible, length capped."""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
