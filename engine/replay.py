"""A recording played back as if it were a room: the same events, at their recorded pace.

``crossroom replay FILE`` opens the screen on a ``ReplayRoom`` (the presenter's fallback
when the venue network fails); ``--headless`` prints it with the headless printer. The
pace is the show's own: ``speed`` 1 replays a rehearsal recorded at ``--speed 5`` at that
same five demo seconds per real second; pause and speed change while it plays.

Reading the file is blocking I/O, so batches are read in anyio's worker threads (never
the screen's thread pool). Commands do nothing but say so: a recording cannot be changed.
Events go out through an ``EventHub`` like the live room's, so they are redacted again
(a recording made by an older version may hold what is now masked) and a late screen
catches up on the same bounded history.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from itertools import islice
from pathlib import Path

import anyio

from engine.config.files import regular_file_problem
from engine.events import Event, EventSink, Notice, NoticeLevel, RunStarted
from engine.hub import EventHub
from engine.recording import BadRecording, RecordingReader, read_recording
from engine.room_api import ACCEPTED, Playback, Reply, refused
from engine.state import RoomState

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""The replay speeds ``+`` and ``-`` step through."""
BATCH = 2_000
"""Events read from the file per worker-thread call."""
MAX_SLEEP_S = 0.05
"""Longest uninterrupted sleep, so pause and speed changes take effect at once."""


class ReplayRoom:
    """Implements ``engine.room_api.RoomCommands`` over a recording."""

    def __init__(
        self, path: Path, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.speed = speed
        self.paused = False
        self.finished = False
        self.position = 0.0
        """Demo seconds of the recording played so far."""
        self._rate = 1.0
        """The recorded show's demo seconds per real second (its ``--speed``)."""
        self._mono = monotonic
        self._hub = EventHub()
        """Events keep the times they were recorded with (no clock: nothing is restamped)."""
        self._resumed = anyio.Event()
        self._resumed.set()
        self._ended = anyio.Event()
        self.reader: RecordingReader | None = None
        """What was read so far, with the lines skipped (set once playing starts)."""

    # --- RoomCommands ----------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._hub.state

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        return self._hub.subscribe(sink, replay=replay)

    @property
    def playback(self) -> Playback:
        return Playback(
            paused=self.paused, finished=self.finished, speed=self.speed, rate=self.demo_rate
        )

    def notice(self, message: str, level: NoticeLevel = "info", cloud: str | None = None) -> None:
        self._publish(Notice(level=level, message=message, cloud=cloud, t=self.position))

    async def wait_idle(self) -> None:
        """Return once the whole recording has played."""
        await self._ended.wait()

    def _refuse(self, what: str) -> Reply:
        """The screen reads the refusal as a notice too (it names the recording's rule)."""
        reason = f"replay: {what} does nothing in a recording"
        self.notice(reason, level="warning")
        return refused(reason)

    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        return self._refuse("start")

    async def retry(self, cloud: str) -> Reply:
        return self._refuse("retry")

    async def cancel(self, cloud: str) -> Reply:
        return self._refuse("cancel")

    async def kill(self, target: str) -> Reply:
        return self._refuse(f"kill {target}")

    async def revive(self, target: str) -> Reply:
        return self._refuse(f"revive {target}")

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        return self._refuse("teardown")

    async def check(self) -> Reply:
        return self._refuse("check")

    async def fire_next_cue(self) -> Reply:
        return self._refuse("firing a cue")

    async def release_gate(self) -> Reply:
        return self._refuse("releasing the gate")

    # --- controls ----------------------------------------------------------------------------

    @property
    def demo_rate(self) -> float:
        """Demo seconds per real second right now (0 while paused or done)."""
        return 0.0 if self.paused or self.finished else self._rate * self.speed

    async def toggle_pause(self) -> Reply:
        self.paused = not self.paused
        if self.paused:
            self._resumed = anyio.Event()
        else:
            self._resumed.set()
        return ACCEPTED

    async def faster(self) -> Reply:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])
        return ACCEPTED

    async def slower(self) -> Reply:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])
        return ACCEPTED

    # --- playing -----------------------------------------------------------------------------

    def _publish(self, event: Event) -> None:
        self._hub.publish(event)

    async def run(self) -> None:
        """Publish every event when its time comes; returns at the end of the recording."""
        reader = read_recording(self.path)
        self.reader = reader
        events = iter(reader)
        last = self._mono()
        while True:
            try:
                batch = await anyio.to_thread.run_sync(_take, events, BATCH)
            except (BadRecording, OSError) as exc:  # checked before playing; changed since
                self._publish(Notice(level="error", message=f"replay: {exc}", t=self.position))
                break
            if not batch:
                break
            for event in batch:
                if isinstance(event, RunStarted):
                    self._rate = event.speed or 1.0
                    self.position = event.t
                while event.t > self.position:
                    if self.paused:
                        await self._resumed.wait()
                        last = self._mono()
                        continue
                    rate = self._rate * self.speed
                    await anyio.sleep(min(MAX_SLEEP_S, (event.t - self.position) / rate))
                    now = self._mono()
                    self.position = min(event.t, self.position + (now - last) * rate)
                    last = now
                self._publish(event)
        self.finished = True
        skipped = reader.summary()
        if skipped:
            self._publish(Notice(level="warning", message=f"replay: {skipped}", t=self.position))
        self._publish(Notice(message="replay: end of the recording", t=self.position))
        self._ended.set()


def _take(events: Iterator[Event], n: int) -> list[Event]:
    out: list[Event] = []
    for event in events:
        out.append(event)
        if len(out) >= n:
            break
    return out


@asynccontextmanager
async def open_replay(path: Path, speed: float = 1.0) -> AsyncIterator[ReplayRoom]:
    """Play ``path`` in the background while the block runs; stop when it exits."""
    room = ReplayRoom(path, speed)
    async with anyio.create_task_group() as tg:
        tg.start_soon(room.run)
        try:
            yield room
        finally:
            tg.cancel_scope.cancel()


HEAD_LINES = 100
"""Lines read before replaying to find the ``run_started`` that every recording opens with."""


def check_recording(path: Path) -> str | None:
    """A one-line reason the file cannot be replayed, or ``None``.

    Only a regular file is opened (a FIFO would block), and its first ``run_started`` is
    checked, so a recording whose clouds cannot be shown is refused before the screen opens.
    """
    problem = regular_file_problem(path)
    if problem == "file not found":
        return f"{path}: no such file"
    if problem:
        return f"{path}: {problem}"
    try:
        with path.open("rb") as f:
            head = f.read(4096).removeprefix(b"\xef\xbb\xbf")
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not head.strip().startswith(b"{"):
        return f"{path}: not a crossroom recording (expected JSON lines, like events.jsonl)"
    try:
        for event in islice(read_recording(path), HEAD_LINES):
            if isinstance(event, RunStarted):
                break
    except BadRecording as exc:
        return str(exc)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None
