"""The facts of one show, read from its recording: what the post-show report is made of.

Joins, each step's span per cloud, the spread of each step across clouds (min, median,
p90, max and failures, the columns Rally's per-action table gives), every fault with the
cluster's reaction, every failure in one line, the verdicts, the workload over time and
the markers a replay jumps between. Pure: events in, frozen data out, so a report of a
live run, of a replay and of a headless rehearsal are the same for the same events.

Events of the run-sheet (``CueFired``, ``VerdictDecided``) are read by their class name,
so a recording made with them still reports here, and one without them reports the rest.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from engine import events as ev
from engine.recording import read_recording
from engine.state import RoomState, apply

ONE_LINE_CHARS = 300
"""An error is shown as one line of at most this many characters."""
SELF_HEALING_KINDS = frozenset({"pod", "crash"})
"""Faults the system undoes by itself (Kubernetes restarts the pod or the process): their
active time ends when every node hit is back, not at a revive."""
WORKLOAD_POINTS_MAX = 4000
"""Workload samples kept for the charts (an hour-long show at one a second fits)."""

MarkerKind = Literal["cue", "join", "kill", "revive"]


def one_line(text: str, limit: int = ONE_LINE_CHARS) -> str:
    """Outside text as one line: whitespace runs (newlines too) become one space, capped."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class StepSpan:
    """One attempt at one step of one cloud, from its start to its end (``None``: never)."""

    step: str
    start_t: float
    end_t: float | None
    status: Literal["running", "done", "skipped", "failed", "cancelled"] = "running"


@dataclass(frozen=True)
class CloudSummary:
    name: str
    label: str
    status: str
    time_to_join_s: float | None
    joined_t: float | None
    error: str
    spans: tuple[StepSpan, ...] = ()


@dataclass(frozen=True)
class StepSpread:
    """One step across the clouds that finished it (durations in demo seconds)."""

    step: str
    count: int
    minimum: float | None
    median: float | None
    p90: float | None
    maximum: float | None
    failures: int


@dataclass(frozen=True)
class FaultSummary:
    """One fault and the cluster's reaction; times are demo seconds, ``None``: not seen."""

    target: str
    kind: str
    issued_t: float
    nodes: tuple[str, ...] = ()
    probe_down_t: float | None = None
    suspect_t: float | None = None
    dead_t: float | None = None
    back_t: float | None = None
    healed_t: float | None = None
    revived_t: float | None = None
    error: str = ""
    until_t: float | None = None
    """When the fault stopped acting: revived, or back by itself; ``None``: to the end."""


@dataclass(frozen=True)
class Failure:
    t: float
    cloud: str
    step: str
    error: str


@dataclass(frozen=True)
class Verdict:
    name: str
    scope: str
    passed: bool
    measured: str
    expected: str


@dataclass(frozen=True)
class Marker:
    """A moment a replay can jump to: a cue, a cloud joining, a fault, a revive."""

    t: float
    kind: MarkerKind
    label: str


@dataclass(frozen=True)
class WorkloadPoint:
    t: float
    ops_per_s: float
    p99_ms: float
    errors_per_s: float
    """Errors since the previous sample, per second (the sample carries a running total)."""
    under_replicated: int = 0
    unavailable: int = 0


@dataclass(frozen=True)
class ShowSummary:
    run_id: str = ""
    demo: str = ""
    simulated: bool = False
    speed: float = 1.0
    seed: int | None = None
    started_wall: float | None = None
    start_t: float = 0.0
    end_t: float = 0.0
    clouds: tuple[CloudSummary, ...] = ()
    spreads: tuple[StepSpread, ...] = ()
    faults: tuple[FaultSummary, ...] = ()
    failures: tuple[Failure, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    markers: tuple[Marker, ...] = ()
    workload: tuple[WorkloadPoint, ...] = ()
    skipped: str = ""
    """What the recording reader left out, in one line (empty: nothing)."""

    @property
    def joined(self) -> tuple[CloudSummary, ...]:
        return tuple(c for c in self.clouds if c.status == "joined")

    @property
    def leaderboard(self) -> tuple[CloudSummary, ...]:
        """Joined clouds fastest first, then the rest in the demo's order."""
        fast = sorted(self.joined, key=lambda c: c.time_to_join_s or 0.0)
        return (*fast, *(c for c in self.clouds if c.status != "joined"))


def marker_of(event: ev.Event) -> Marker | None:
    """The marker an event is, or ``None``: cues, joins, faults and revives are markers."""
    if isinstance(event, ev.CloudJoined):
        return Marker(event.t, "join", f"{event.cloud} joined")
    if isinstance(event, ev.KillIssued):
        return Marker(event.t, "kill", f"{event.target_kind} {event.target}")
    if isinstance(event, ev.ReviveIssued):
        return Marker(event.t, "revive", f"revive {event.target}")
    if type(event).__name__ == "CueFired":
        cue = str(getattr(event, "cue", ""))
        action = str(getattr(event, "action", ""))
        target = str(getattr(event, "target", ""))
        text = str(getattr(event, "text", ""))
        said = f'"{one_line(text, 60)}"' if text else ""
        parts = (cue, action, target, said)
        return Marker(event.t, "cue", one_line(" ".join(p for p in parts if p)))
    return None


@dataclass
class _Reading:
    """What is gathered while the events go by (the fold gives the rest at the end)."""

    state: RoomState = field(default_factory=RoomState)
    seed: int | None = None
    start_t: float = 0.0
    open_spans: dict[tuple[str, str], StepSpan] = field(default_factory=dict)
    spans: dict[str, list[StepSpan]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    failed_steps: dict[str, int] = field(default_factory=dict)
    revived: list[tuple[str, float]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    workload: list[WorkloadPoint] = field(default_factory=list)
    last_errors: tuple[float, int] | None = None
    health: tuple[int, int] = (0, 0)

    def read(self, e: ev.Event) -> None:
        self.state = apply(self.state, e)
        marker = marker_of(e)
        if marker is not None:
            self.markers.append(marker)
        if isinstance(e, ev.RunStarted):
            self.seed, self.start_t = e.seed, e.t
        elif isinstance(e, ev.StepStarted):
            # A retry inside the step (attempt 2, 3 ...) goes on in the same span.
            self.open_spans.setdefault((e.cloud, e.step), StepSpan(e.step, e.t, None))
        elif isinstance(e, ev.StepFinished):
            self._close(e.cloud, e.step, e.t, "skipped" if e.skipped else "done")
        elif isinstance(e, ev.StepFailed):
            self._close(e.cloud, e.step, e.t, "failed")
            self.failures.append(Failure(e.t, e.cloud, e.step, one_line(e.error)))
            self.failed_steps[e.step] = self.failed_steps.get(e.step, 0) + 1
        elif isinstance(e, ev.CloudCancelled):
            for (cloud, step), _ in list(self.open_spans.items()):
                if cloud == e.cloud:
                    self._close(cloud, step, e.t, "cancelled")
        elif isinstance(e, ev.ReviveIssued):
            self.revived.append((e.target, e.t))
        elif isinstance(e, ev.ClusterHealthObserved):
            self.health = (e.under_replicated, e.unavailable)
        elif isinstance(e, ev.WorkloadSample):
            self._sample(e)
        elif type(e).__name__ == "VerdictDecided":
            self.verdicts.append(
                Verdict(
                    name=one_line(str(getattr(e, "name", ""))),
                    scope=one_line(str(getattr(e, "scope", ""))),
                    passed=bool(getattr(e, "passed", False)),
                    measured=one_line(str(getattr(e, "measured", ""))),
                    expected=one_line(str(getattr(e, "expected", ""))),
                )
            )

    def _close(self, cloud: str, step: str, t: float, status: str) -> None:
        span = self.open_spans.pop((cloud, step), None)
        if span is None:
            return
        ended = replace(span, end_t=t, status=status)  # type: ignore[arg-type]
        self.spans.setdefault(cloud, []).append(ended)

    def _sample(self, e: ev.WorkloadSample) -> None:
        errors = 0.0
        if self.last_errors is not None:
            last_t, last_total = self.last_errors
            if e.t > last_t and e.errors_total >= last_total:
                errors = (e.errors_total - last_total) / (e.t - last_t)
        self.last_errors = (e.t, e.errors_total)
        under, unavailable = self.health
        point = WorkloadPoint(e.t, e.ops_per_s, e.p99_ms, errors, under, unavailable)
        if len(self.workload) < WORKLOAD_POINTS_MAX:
            self.workload.append(point)
        else:  # keep the whole show: thin to every other point, then go on
            self.workload = [*self.workload[::2], point]

    def summary(self, skipped: str = "") -> ShowSummary:
        s = self.state
        for cloud, step in list(self.open_spans):
            self._close(cloud, step, s.t, "running")
        clouds = tuple(
            CloudSummary(
                name=c.name,
                label=c.label,
                status=c.status,
                time_to_join_s=c.time_to_join_s,
                joined_t=c.ended_t if c.status == "joined" else None,
                error=one_line(c.error),
                spans=tuple(sorted(self.spans.get(c.name, ()), key=lambda sp: sp.start_t)),
            )
            for c in s.cloud_list()
        )
        return ShowSummary(
            run_id=s.run_id,
            demo=s.demo,
            simulated=s.simulated,
            speed=s.speed,
            seed=self.seed,
            started_wall=s.started_wall,
            start_t=self.start_t,
            end_t=s.t,
            clouds=clouds,
            spreads=_spreads(s, self.failed_steps),
            faults=self._faults(),
            failures=tuple(self.failures),
            verdicts=tuple(self.verdicts),
            markers=tuple(self.markers),
            workload=tuple(self.workload),
            skipped=skipped,
        )

    def _faults(self) -> tuple[FaultSummary, ...]:
        revives = list(self.revived)
        out: list[FaultSummary] = []
        kills = self.state.kills
        # A revive undoes the oldest fault on its target that no revive has undone yet.
        for k in kills:
            revived_t = None
            for j, (target, t) in enumerate(revives):
                if target == k.target and t >= k.at_t:
                    revived_t = t
                    del revives[j]
                    break
            if k.error:
                until: float | None = k.at_t
            elif revived_t is not None:
                until = revived_t
            elif k.target_kind in SELF_HEALING_KINDS:
                until = k.back_t
            else:
                until = None
            out.append(
                FaultSummary(
                    target=k.target,
                    kind=k.target_kind,
                    issued_t=k.at_t,
                    nodes=k.nodes,
                    probe_down_t=k.probe_down_t,
                    suspect_t=k.suspect_t,
                    dead_t=k.dead_t,
                    back_t=k.back_t,
                    healed_t=k.healed_t,
                    revived_t=revived_t,
                    error=one_line(k.error),
                    until_t=until,
                )
            )
        return tuple(out)


def _spreads(state: RoomState, failed: dict[str, int]) -> tuple[StepSpread, ...]:
    """Per step, in plan order: the durations of the clouds whose last attempt finished it."""
    order: list[str] = []
    durations: dict[str, list[float]] = {}
    for c in state.cloud_list():
        for s in c.steps:
            if s.name not in durations:
                order.append(s.name)
                durations[s.name] = []
            if s.status == "done" and s.duration_s is not None:
                durations[s.name].append(s.duration_s)
    for name in failed:
        if name not in durations:
            order.append(name)
            durations[name] = []
    return tuple(_spread(name, durations[name], failed.get(name, 0)) for name in order)


def _spread(step: str, values: list[float], failures: int) -> StepSpread:
    if not values:
        return StepSpread(step, 0, None, None, None, None, failures)
    ordered = sorted(values)
    p90 = (
        ordered[0]
        if len(ordered) == 1
        else statistics.quantiles(ordered, n=10, method="inclusive")[8]
    )
    return StepSpread(
        step=step,
        count=len(ordered),
        minimum=ordered[0],
        median=statistics.median(ordered),
        p90=p90,
        maximum=ordered[-1],
        failures=failures,
    )


def summarize(events: Iterable[ev.Event], skipped: str = "") -> ShowSummary:
    """The facts of the show these events tell (in recorded order)."""
    reading = _Reading()
    for event in events:
        reading.read(event)
    return reading.summary(skipped)


def summarize_recording(path: Path) -> ShowSummary:
    """The facts of a recording; lines the reader cannot use are counted in ``skipped``.

    Raises ``engine.recording.BadRecording`` (one line) when the file cannot be read at
    all, and ``OSError`` when it cannot be opened."""
    reader = read_recording(path)
    reading = _Reading()
    for event in reader:
        reading.read(event)
    return reading.summary(reader.summary() or "")
