"""Everything the engine tells the world, as frozen dataclasses with an exact JSON round trip.

One ordered stream feeds the screen, the headless printer, the recording and the report.
Compatibility rule: a new field always has a default, and decoding ignores fields it does
not know, so old recordings stay readable and new ones open in old versions.
``t`` is demo-clock seconds since the engine started; ``wall`` is Unix time for humans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, TypeVar

import msgspec

from engine.targets import TargetKind


@dataclass(frozen=True, kw_only=True)
class Event:
    kind: ClassVar[str] = "event"
    t: float = 0.0
    wall: float = 0.0


EVENT_TYPES: dict[str, type[Event]] = {}
E = TypeVar("E", bound=type[Event])


def _event(cls: E) -> E:
    if cls.kind in EVENT_TYPES:
        raise TypeError(f"duplicate event kind {cls.kind}")
    EVENT_TYPES[cls.kind] = cls
    return cls


NoticeLevel = Literal["info", "warning", "error"]
"""How loud a ``Notice`` or a batch of log lines is."""
LivenessState = Literal["live", "suspect", "dead", "draining", "decommissioning", "decommissioned"]
"""A node as the cluster sees it, the words of ``cockroach node status`` and the DB Console."""

EventSink = Callable[[Event], None]
"""Sinks are called synchronously on the engine's loop and must not block: append and return."""


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CloudInfo:
    """What the screen needs to lay out a cloud before anything happens."""

    name: str
    label: str
    region: str = ""
    provider: str = "sim"
    nodes: int = 3
    steps: tuple[str, ...] = ()


@_event
@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    run_id: str
    demo: str
    simulated: bool
    speed: float = 1.0
    seed: int | None = None
    clouds: tuple[CloudInfo, ...] = ()
    run_dir: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    """Every cloud worker has stopped (joined, failed or cancelled); chaos may still follow."""

    kind: ClassVar[str] = "run_finished"
    joined: int = 0
    failed: int = 0
    cancelled: int = 0


@_event
@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """A line for the presenter that belongs to no step (warnings, command refusals)."""

    kind: ClassVar[str] = "notice"
    level: NoticeLevel = "info"
    message: str
    cloud: str | None = None


# --- one cloud's plan ------------------------------------------------------------------------


@_event
@dataclass(frozen=True, kw_only=True)
class CloudStarted(Event):
    kind: ClassVar[str] = "cloud_started"
    cloud: str
    from_step: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    kind: ClassVar[str] = "step_started"
    cloud: str
    step: str
    attempt: int = 1


@_event
@dataclass(frozen=True, kw_only=True)
class StepProgress(Event):
    kind: ClassVar[str] = "step_progress"
    cloud: str
    step: str
    message: str = ""
    done: int | None = None
    total: int | None = None


@_event
@dataclass(frozen=True, kw_only=True)
class StepRetrying(Event):
    kind: ClassVar[str] = "step_retrying"
    cloud: str
    step: str
    attempt: int
    error: str
    delay_s: float


@_event
@dataclass(frozen=True, kw_only=True)
class StepFinished(Event):
    kind: ClassVar[str] = "step_finished"
    cloud: str
    step: str
    duration_s: float
    skipped: bool = False


@_event
@dataclass(frozen=True, kw_only=True)
class StepFailed(Event):
    kind: ClassVar[str] = "step_failed"
    cloud: str
    step: str
    error: str
    duration_s: float


@_event
@dataclass(frozen=True, kw_only=True)
class CloudJoined(Event):
    kind: ClassVar[str] = "cloud_joined"
    cloud: str
    time_to_join_s: float


@_event
@dataclass(frozen=True, kw_only=True)
class CloudCancelled(Event):
    kind: ClassVar[str] = "cloud_cancelled"
    cloud: str
    step: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class LogLines(Event):
    """A batch of log lines from one cloud; batched so floods stay cheap to carry and draw."""

    kind: ClassVar[str] = "log_lines"
    cloud: str
    lines: tuple[str, ...]
    level: NoticeLevel = "info"


@_event
@dataclass(frozen=True, kw_only=True)
class ResourceRecorded(Event):
    """A cloud resource exists and is in the run's ledger (so teardown will find it)."""

    kind: ClassVar[str] = "resource_recorded"
    cloud: str
    resource_type: str
    resource_id: str
    name: str = ""
    step: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class ResourceDeleted(Event):
    kind: ClassVar[str] = "resource_deleted"
    cloud: str
    resource_type: str
    resource_id: str
    name: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class TeardownStarted(Event):
    kind: ClassVar[str] = "teardown_started"
    cloud: str


@dataclass(frozen=True, kw_only=True)
class KindCount:
    """``3`` resources of kind ``server``: one entry of a teardown's tally."""

    kind: str
    count: int


@_event
@dataclass(frozen=True, kw_only=True)
class TeardownFinished(Event):
    """``leftovers`` names what could not be deleted, one line each (empty = clean)."""

    kind: ClassVar[str] = "teardown_finished"
    cloud: str
    leftovers: tuple[str, ...] = ()
    removed: tuple[KindCount, ...] = ()
    """How many of each resource kind were deleted."""
    left: tuple[KindCount, ...] = ()
    """How many of each kind could not be deleted (their reasons are in ``leftovers``)."""


@_event
@dataclass(frozen=True, kw_only=True)
class PreflightChecked(Event):
    """Is this cloud ready for the show? (credentials, flavor/image/network/pool, quotas)."""

    kind: ClassVar[str] = "preflight_checked"
    cloud: str
    ok: bool
    reason: str
    quotas: tuple[str, ...] = ()


# --- the CockroachDB cluster -----------------------------------------------------------------


@_event
@dataclass(frozen=True, kw_only=True)
class NodeObserved(Event):
    """The cluster's view of one node, published when it changes (and on every reconnect).

    ``node`` is ``cloud/node-N``; ``liveness`` is one of live, suspect, dead, draining,
    decommissioning, decommissioned, as ``cockroach node status`` and the DB Console say.
    """

    kind: ClassVar[str] = "node_observed"
    node: str
    cloud: str
    liveness: LivenessState
    node_id: int | None = None
    address: str = ""
    locality: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class ProbeObserved(Event):
    """A direct HTTP probe of one node: ready, not_ready or down; independent of the cluster."""

    kind: ClassVar[str] = "probe_observed"
    node: str
    cloud: str
    status: str
    detail: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class ClusterHealthObserved(Event):
    kind: ClassVar[str] = "cluster_health"
    ranges: int = 0
    under_replicated: int = 0
    unavailable: int = 0
    replicas: int = 0
    queries_per_s: float | None = None
    """SQL statements per second over every node (``sql_query_count`` from /_status/vars)."""


@_event
@dataclass(frozen=True, kw_only=True)
class WorkloadSample(Event):
    """One second of the kv workload, the figures ``cockroach workload kv`` prints."""

    kind: ClassVar[str] = "workload_sample"
    ops_per_s: float
    errors_total: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0


@_event
@dataclass(frozen=True, kw_only=True)
class MonitorStatus(Event):
    """How the cluster monitor itself is doing: connected, reconnecting or down."""

    kind: ClassVar[str] = "monitor_status"
    state: str
    address: str = ""
    message: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class SettingApplied(Event):
    kind: ClassVar[str] = "setting_applied"
    name: str
    value: str
    ok: bool = True
    message: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class PodObserved(Event):
    """A CockroachDB pod as Kubernetes reports it (phase, restarts, host node)."""

    kind: ClassVar[str] = "pod_observed"
    cloud: str
    pod: str
    phase: str
    restarts: int = 0
    host: str = ""
    ready: bool = False


# --- chaos -----------------------------------------------------------------------------------


@_event
@dataclass(frozen=True, kw_only=True)
class KillIssued(Event):
    """Published before the kill is carried out, so the screen shows it at once."""

    kind: ClassVar[str] = "kill_issued"
    target: str
    target_kind: TargetKind
    nodes: tuple[str, ...] = ()


@_event
@dataclass(frozen=True, kw_only=True)
class KillFailed(Event):
    kind: ClassVar[str] = "kill_failed"
    target: str
    error: str


@_event
@dataclass(frozen=True, kw_only=True)
class ReviveIssued(Event):
    kind: ClassVar[str] = "revive_issued"
    target: str
    target_kind: TargetKind
    nodes: tuple[str, ...] = ()


@_event
@dataclass(frozen=True, kw_only=True)
class CloudApiObserved(Event):
    """Whether a cloud's Kubernetes API answers: while it does not (its server 1 or the
    whole cloud stopped), what the screen shows of that cloud's pods is stale."""

    kind: ClassVar[str] = "cloud_api_observed"
    cloud: str
    reachable: bool
    detail: str = ""


# --- the run-sheet (``engine.scenario``) and its verdicts (``engine.verdicts``) ---------------


@_event
@dataclass(frozen=True, kw_only=True)
class CueFired(Event):
    """A cue of the scenario was carried out; a ``say`` cue carries its words in ``text``."""

    kind: ClassVar[str] = "cue_fired"
    cue: str
    index: int
    action: str
    target: str = ""
    text: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class CueNext(Event):
    """The cue that comes next; ``due_t`` is when (demo time), ``None`` while it waits for
    its trigger. ``index`` -1 means the run-sheet is done."""

    kind: ClassVar[str] = "cue_next"
    cue: str
    index: int
    action: str
    target: str = ""
    due_t: float | None = None
    paced: bool = False
    """The presenter fires it (space); otherwise it fires itself when due."""


@_event
@dataclass(frozen=True, kw_only=True)
class GateHeld(Event):
    """Every running cloud waits before ``step`` for the go (``release_gate``)."""

    kind: ClassVar[str] = "gate_held"
    step: str


@_event
@dataclass(frozen=True, kw_only=True)
class GateReleased(Event):
    kind: ClassVar[str] = "gate_released"


@_event
@dataclass(frozen=True, kw_only=True)
class VerdictDecided(Event):
    """One expectation of the demo file, decided: ``scope`` is ``run`` or the cue's name."""

    kind: ClassVar[str] = "verdict_decided"
    name: str
    scope: str
    passed: bool
    measured: str
    expected: str


@_event
@dataclass(frozen=True, kw_only=True)
class EtaEstimated(Event):
    """When a cloud should join, from earlier runs of the same demo (``engine.eta``):
    ``expected_total_s`` from its start; ``ahead_s`` > 0 ahead of that pace, < 0 behind."""

    kind: ClassVar[str] = "eta_estimated"
    cloud: str
    expected_total_s: float
    ahead_s: float = 0.0


# --- a screen in another process ----------------------------------------------------------


@_event
@dataclass(frozen=True, kw_only=True)
class EngineGone(Event):
    """The engine process a screen was attached to has gone (stopped, crashed, socket lost).

    Made by the screen's side only (``engine.room_client``), never published by a hub or
    recorded: the screen keeps its last state and says so, with the exact command that
    cleans up what the run made.
    """

    kind: ClassVar[str] = "engine_gone"
    run_id: str
    teardown_command: str
    reason: str = ""


# --- encoding --------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def to_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": event.kind}
    data.update(msgspec.to_builtins(event))
    return data


def encode(event: Event) -> bytes:
    """One JSON object (no newline); floats round-trip exactly."""
    return _encoder.encode(to_dict(event))


def from_dict(data: dict[str, Any]) -> Event | None:
    """Rebuild an event; unknown kinds give ``None`` so newer recordings still replay."""
    cls = EVENT_TYPES.get(str(data.get("kind", "")))
    if cls is None:
        return None
    return msgspec.convert(data, cls)


def decode(line: bytes | str) -> Event | None:
    data = _decoder.decode(line)
    if not isinstance(data, dict):
        raise ValueError("an event must be a JSON object")
    return from_dict(data)


def stamped(event: Event, t: float, wall: float) -> Event:
    """The same event with its times set; events are built without times and stamped once."""
    return replace(event, t=t, wall=wall)
