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

Markers (cues, joins, faults, revives: ``engine.show_summary.marker_of``) can be jumped
between: ``next_marker`` plays on without waiting up to the next one; ``previous_marker``
starts the recording over and plays, without waiting, up to the one before (the screen
folds afresh from the repeated ``run_started``). ``pause_at`` pauses after chosen events
(``--pause-at-markers``: every marker), so a replay can be narrated.
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
from engine.show_summary import marker_of
from engine.state import RoomState

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""The replay speeds ``+`` and ``-`` step through."""
BATCH = 2_000
"""Events read from the file per worker-thread call."""
MAX_SLEEP_S = 0.05
"""Longest uninterrupted sleep, so pause and speed changes take effect at once."""
SAME_MOMENT_S = 1e-6
"""Markers closer than this to where the replay stands count as where it stands."""
BACK_GRACE_S = 2.0
"""Real seconds after passing a marker during which going back skips it (you were just
there); paused at a marker, going back goes to the one before."""


class ReplayRoom:
    """Implements ``engine.room_api.RoomCommands`` over a recording."""

    def __init__(
        self,
        path: Path,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        pause_at: Callable[[Event], bool] | None = None,
        instant: bool = False,
    ) -> None:
        self.path = path
        self.speed = speed
        self.instant = instant
        """Play without waiting for the recorded times (pauses still hold): for pictures."""
        self.pause_at = pause_at
        """Pause right after publishing an event this says yes to (not while jumping back)."""
        self.paused = False
        self.finished = False
        self.position = 0.0
        """Demo seconds of the recording played so far."""
        self._rate = 1.0
        """The recorded show's demo seconds per real second (its ``--speed``)."""
        self._mono = monotonic
        self._hub = EventHub()
        self._sinks: dict[object, tuple[EventSink, Callable[[], None]]] = {}
        """Subscribers and how to let each go, kept to move them to a fresh hub."""
        """Events keep the times they were recorded with (no clock: nothing is restamped)."""
        self._wake = anyio.Event()
        """Set by every control, so a paused or waiting replay looks again at once."""
        self._ended = anyio.Event()
        self.marker_times: list[float] = []
        """When each marker published so far happened (demo seconds, in order)."""
        self._to_next = False
        self._back_to: float | None = None
        self._halted = anyio.Event()
        """Set when the replay pauses by itself (``pause_at``) or reaches the end."""
        self.reader: RecordingReader | None = None
        """What was read so far, with the lines skipped (set once playing starts)."""

    # --- RoomCommands ----------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._hub.state

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        key = object()
        self._sinks[key] = (sink, self._hub.subscribe(sink, replay=replay))

        def unsubscribe() -> None:
            held = self._sinks.pop(key, None)
            if held is not None:
                held[1]()

        return unsubscribe

    def _fresh_hub(self) -> None:
        """Going back starts the recording over on a new hub, so its catch-up history holds
        one pass, not one more per jump; every subscriber moves over (it folds afresh from
        the repeated ``run_started``)."""
        old = self._sinks
        self._hub = EventHub()
        self._sinks = {}
        for key, (sink, off) in old.items():
            off()
            self._sinks[key] = (sink, self._hub.subscribe(sink, replay=False))

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
        self._wake.set()
        return ACCEPTED

    async def next_marker(self) -> Reply:
        """Play on at once up to the next cue, join, fault or revive (paused stays paused)."""
        if self.finished:
            return refused("replay: no marker after the end of the recording")
        self._to_next = True
        self._wake.set()
        return ACCEPTED

    async def previous_marker(self) -> Reply:
        """Go back to the marker before where the replay stands; within ``BACK_GRACE_S`` of
        passing one (as a player's "previous chapter"), to the one before that."""
        grace = max(SAME_MOMENT_S, BACK_GRACE_S * self.demo_rate)
        earlier = [t for t in self.marker_times if t < self.position - grace]
        if not earlier:
            return refused("replay: no marker before this moment")
        self._back_to = earlier[-1]
        self._to_next = False
        self._wake.set()
        return ACCEPTED

    async def wait_halted(self) -> None:
        """Return once the replay paused by itself (``pause_at``) or reached the end since
        the last call (at once if it already has)."""
        await self._halted.wait()
        self._halted = anyio.Event()

    async def _woken(self) -> None:
        await self._wake.wait()
        self._wake = anyio.Event()

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
        """Publish every event when its time comes. At the end, say so and wait: going
        back to a marker plays again from there (until the replay is closed)."""
        while True:
            back_to = await self._play(self._back_to)
            if back_to is not None:
                continue
            if not self.finished:
                self.finished = True
                skipped = self.reader.summary() if self.reader is not None else None
                if skipped:
                    self._publish(
                        Notice(level="warning", message=f"replay: {skipped}", t=self.position)
                    )
                self._publish(Notice(message="replay: end of the recording", t=self.position))
                self._ended.set()
                self._halted.set()
            while self._back_to is None:
                await self._woken()
            self.finished = False

    async def _play(self, back_to: float | None) -> float | None:
        """Play the recording from its start: at once up to ``back_to`` (if given), then
        at pace. Returns where to go back to when asked to, ``None`` at the end."""
        if back_to is not None:
            self._fresh_hub()
        self._back_to = None
        reader = read_recording(self.path)
        self.reader = reader
        self.marker_times = []
        events = iter(reader)
        last = self._mono()
        while True:
            try:
                batch = await anyio.to_thread.run_sync(_take, events, BATCH)
            except (BadRecording, OSError) as exc:  # checked before playing; changed since
                self._publish(Notice(level="error", message=f"replay: {exc}", t=self.position))
                return None
            if not batch:
                return None
            for event in batch:
                if isinstance(event, RunStarted):
                    self._rate = event.speed or 1.0
                    self.position = event.t
                if back_to is not None:
                    if event.t <= back_to + SAME_MOMENT_S:
                        self._publish_marked(event)
                        continue
                    self.position = back_to
                    back_to = None
                    last = self._mono()
                while not self._to_next and (event.t > self.position or self.paused):
                    if self._back_to is not None:
                        return self._back_to
                    if self.paused:
                        await self._woken()
                        last = self._mono()
                        continue
                    if self.instant:
                        break
                    rate = self._rate * self.speed
                    await anyio.sleep(min(MAX_SLEEP_S, (event.t - self.position) / rate))
                    now = self._mono()
                    self.position = min(event.t, self.position + (now - last) * rate)
                    last = now
                if self._back_to is not None:
                    return self._back_to
                self.position = max(self.position, event.t)
                if self._publish_marked(event) and self._to_next:
                    self._to_next = False
                    last = self._mono()
                if self.pause_at is not None and self.pause_at(event):
                    self.paused = True
                    self._halted.set()

    def _publish_marked(self, event: Event) -> bool:
        """Publish; True when the event is a marker (its time is kept for going back)."""
        self._publish(event)
        if marker_of(event) is None:
            return False
        self.marker_times.append(event.t)
        return True


def _take(events: Iterator[Event], n: int) -> list[Event]:
    out: list[Event] = []
    for event in events:
        out.append(event)
        if len(out) >= n:
            break
    return out


def at_markers(event: Event) -> bool:
    """``pause_at`` for ``--pause-at-markers``: stop at every cue, join, fault and revive."""
    return marker_of(event) is not None


@asynccontextmanager
async def open_replay(
    path: Path,
    speed: float = 1.0,
    pause_at: Callable[[Event], bool] | None = None,
    instant: bool = False,
) -> AsyncIterator[ReplayRoom]:
    """Play ``path`` in the background while the block runs; stop when it exits."""
    room = ReplayRoom(path, speed, pause_at=pause_at, instant=instant)
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
