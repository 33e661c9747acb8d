"""Each cloud's expected finish, from earlier runs of the same demo, and whether it is
ahead of that pace or behind (``EtaEstimated``).

Every cloud that joins has its step durations added to a small JSON file per demo name
in the state dir (``eta/<demo>.json``, the last ``KEEP_RUNS`` runs, written atomically
in a worker thread). A cloud's expected time per step is the median over those runs;
its expected total is their sum. Ahead or behind compares the steps it has finished
with the same steps' medians, so time held at the go-gate is not counted against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from engine.events import (
    CloudJoined,
    CloudStarted,
    EtaEstimated,
    Event,
    EventSink,
    Notice,
    StepFinished,
)
from engine.state import RoomState

KEEP_RUNS = 10
"""Runs a demo's file keeps: a median over these follows a cloud that got faster."""
MAX_FILE_BYTES = 1_000_000
"""A history file bigger than this is not read (it was not written by us)."""
StepTimes = dict[str, float]
"""Seconds per step name, for one cloud in one run."""


def history_path(state_dir: Path, demo: str) -> Path:
    """``eta/<slug>-<hash>.json``: the demo's name made safe as a file name, plus a hash
    so two names that slug alike keep apart."""
    slug = re.sub(r"[^a-z0-9]+", "-", demo.lower()).strip("-")[:40] or "demo"
    digest = hashlib.sha256(demo.encode()).hexdigest()[:8]
    return state_dir / "eta" / f"{slug}-{digest}.json"


def read_history(path: Path) -> list[dict[str, StepTimes]]:
    """The kept runs, oldest first; a missing, foreign or damaged file is no history."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list):
        return []
    out: list[dict[str, StepTimes]] = []
    for run in runs[-KEEP_RUNS:]:
        if not isinstance(run, dict):
            continue
        clean: dict[str, StepTimes] = {}
        for cloud, steps in run.items():
            if isinstance(cloud, str) and isinstance(steps, dict):
                clean[cloud] = {
                    str(step): float(s)
                    for step, s in steps.items()
                    if isinstance(s, int | float) and 0 <= s < 1e7
                }
        out.append(clean)
    return out


def write_history(path: Path, demo: str, runs: list[dict[str, StepTimes]]) -> None:
    """Replace the file at once (a crash leaves the old file or the new, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps({"demo": demo, "runs": runs[-KEEP_RUNS:]}, indent=1)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".eta-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def medians(runs: list[dict[str, StepTimes]]) -> dict[str, StepTimes]:
    """Per cloud, per step: the median seconds over the runs that have it."""
    seen: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        for cloud, steps in run.items():
            for step, seconds in steps.items():
                seen.setdefault(cloud, {}).setdefault(step, []).append(seconds)
    return {
        cloud: {step: statistics.median(values) for step, values in steps.items()}
        for cloud, steps in seen.items()
    }


def estimate(cloud: str, state: RoomState, expected: StepTimes) -> EtaEstimated | None:
    """Where ``cloud`` stands against its medians (``None``: no history for it)."""
    if not expected:
        return None
    c = state.clouds.get(cloud)
    if c is None:
        return None
    done = [s for s in c.steps if s.status == "done" and s.duration_s is not None]
    ahead = sum(expected.get(s.name, s.duration_s or 0.0) - (s.duration_s or 0.0) for s in done)
    return EtaEstimated(
        cloud=cloud, expected_total_s=round(sum(expected.values()), 3), ahead_s=round(ahead, 3)
    )


@dataclass
class EtaTracker:
    """A task in the room: publishes estimates as steps finish, and records each join."""

    path: Path
    demo: str
    publish: EventSink
    state: Callable[[], RoomState]
    _runs: list[dict[str, StepTimes]] = field(default_factory=list)
    _medians: dict[str, StepTimes] = field(default_factory=dict)
    _this_run: dict[str, StepTimes] = field(default_factory=dict)
    _inbox: list[Event] = field(default_factory=list)
    _wake: anyio.Event = field(default_factory=anyio.Event)

    def see(self, event: Event) -> None:
        """A sink: note what matters and wake the task (never publishes from here)."""
        if isinstance(event, CloudStarted | StepFinished | CloudJoined):
            self._inbox.append(event)
            self._wake.set()

    async def run(self, subscribe: Callable[[EventSink], Callable[[], None]]) -> None:
        self._runs = await anyio.to_thread.run_sync(read_history, self.path)
        self._medians = medians(self._runs)
        off = subscribe(self.see)
        try:
            while True:
                await self._wake.wait()
                self._wake = anyio.Event()
                events, self._inbox = self._inbox, []
                joined = False
                for e in events:
                    cloud: str = getattr(e, "cloud", "")
                    if isinstance(e, CloudJoined):
                        joined = self._record(cloud) or joined
                    if isinstance(e, StepFinished) and e.skipped:
                        continue
                    estimate_now = estimate(cloud, self.state(), self._medians.get(cloud, {}))
                    if estimate_now is not None:
                        self.publish(estimate_now)
                if joined:
                    await self._save()
        finally:
            off()

    async def _save(self) -> None:
        runs = [*self._runs, self._this_run]
        try:
            await anyio.to_thread.run_sync(write_history, self.path, self.demo, runs)
        except OSError as exc:  # a full disk or a read-only state dir: the show goes on
            self.publish(
                Notice(level="warning", message=f"step times not kept for ETAs: {exc.strerror}")
            )

    def _record(self, cloud: str) -> bool:
        c = self.state().clouds.get(cloud)
        if c is None:
            return False
        times = {
            s.name: round(s.duration_s, 3)
            for s in c.steps
            if s.status == "done" and s.duration_s is not None
        }
        self._this_run[cloud] = times
        return bool(times)


def history_of(state_dir: Path, demo: str) -> dict[str, Any]:
    """What the state dir holds for ``demo`` (for tests and ``crossroom`` reports)."""
    runs = read_history(history_path(state_dir, demo))
    return {"runs": len(runs), "medians": medians(runs)}
