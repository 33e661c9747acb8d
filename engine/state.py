"""The room's state as a pure fold of events: ``apply(state, event) -> state``.

The screen, the headless printer, replay, the report and the engine itself (the join
step reads which nodes are live) all fold the same events with this one function.
Everything is frozen and never mutated. Folding is linear in the events, however many
distinct clouds, nodes, resources and steps a recording names: mappings are persistent
hash tries (``immutables.Map``, the structure behind ``contextvars``), so a change costs
O(log n) and shares the rest with the state before it; copying a dict per event made
20,000 resources take 40 s to fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Literal, TypeVar

import immutables

from engine import events as ev
from engine.targets import REVIVES_ITSELF, TargetKind

CloudStatus = Literal[
    "idle", "running", "joined", "failed", "cancelled", "tearing_down", "torn_down"
]
"""Where one cloud's plan stands."""
StepStatus = Literal["pending", "running", "done", "failed", "cancelled", "skipped"]
"""Where one step of a cloud's plan stands."""
NodeLiveness = ev.LivenessState | Literal["joining"]
"""A node's liveness, or ``joining``: its pod exists but the cluster has not seen it yet."""

LOG_TAIL = 8
"""Log lines a cloud keeps in state (panes show the tail; the full log is on disk)."""
WORKLOAD_HISTORY = 120
"""Seconds of ops/s kept for the sparkline."""
MAX_STEPS = 64
"""Steps a cloud shows at most: a plan has about a dozen; step names beyond this (from a
hostile or broken recording) are not added, so a step event costs O(1), not O(names)."""
MAX_SETTINGS = 100
"""Cluster settings remembered (a show applies a handful)."""

ResourceKey = tuple[str, str]
"""(resource type, resource id)."""


@dataclass(frozen=True)
class StepState:
    name: str
    status: StepStatus = "pending"
    started_t: float | None = None
    duration_s: float | None = None
    attempt: int = 0
    message: str = ""
    done: int | None = None
    total: int | None = None
    error: str = ""


@dataclass(frozen=True)
class ResourceState:
    """One cloud resource the run made and has not deleted (the zoom view lists them)."""

    resource_type: str
    resource_id: str
    name: str = ""
    step: str = ""


@dataclass(frozen=True)
class CloudState:
    name: str
    label: str
    region: str = ""
    provider: str = "sim"
    expected_nodes: int = 3
    status: CloudStatus = "idle"
    steps: tuple[StepState, ...] = ()
    started_t: float | None = None
    ended_t: float | None = None
    time_to_join_s: float | None = None
    error: str = ""
    log_tail: tuple[str, ...] = ()
    log_count: int = 0
    resources: int = 0
    leftovers: tuple[str, ...] = ()
    held: Mapping[ResourceKey, tuple[int, ResourceState]] = field(default_factory=immutables.Map)
    """What ``resources`` counts, with the order it was made in (``resource_list``)."""
    made: int = 0
    preflight_ok: bool | None = None
    """``None`` until a preflight check has answered for this cloud."""
    preflight: str = ""
    preflight_quotas: tuple[str, ...] = ()
    api_stale_since_t: float | None = None
    """Set while the cloud's Kubernetes API does not answer: its pods are shown as last seen."""

    @property
    def current(self) -> StepState | None:
        """The running step, else the failed one, else ``None``."""
        for s in self.steps:
            if s.status == "running":
                return s
        for s in self.steps:
            if s.status in ("failed", "cancelled"):
                return s
        return None

    def step(self, name: str) -> StepState | None:
        for s in self.steps:
            if s.name == name:
                return s
        return None

    @cached_property
    def resource_list(self) -> tuple[ResourceState, ...]:
        """What the cloud holds, oldest first (sorted once per state, when asked)."""
        return tuple(r for _, r in sorted(self.held.values(), key=lambda held: held[0]))


@dataclass(frozen=True)
class NodeState:
    node: str
    cloud: str
    liveness: NodeLiveness = "joining"
    since_t: float = 0.0
    node_id: int | None = None
    address: str = ""
    probe: str = ""
    probe_since_t: float = 0.0
    killed_t: float | None = None
    """Set by a kill, cleared by a revive: the screen shows it before the cluster reacts."""
    killed_kind: str = ""
    """The kind of the last fault aimed at this node (pod, node, server, cloud)."""


@dataclass(frozen=True)
class KillRecord:
    """What one fault did, as observed: each time is demo seconds, ``None`` until seen."""

    target: str
    target_kind: TargetKind
    at_t: float
    nodes: tuple[str, ...] = ()
    probe_down_t: float | None = None
    suspect_t: float | None = None
    dead_t: float | None = None
    back_t: float | None = None
    """When every node hit was live again (cluster says live, probe says ready) after
    having been seen down (probe refused, or the cluster calling it suspect or dead)."""
    healed_t: float | None = None
    degraded: bool = False
    error: str = ""
    down_nodes: tuple[str, ...] = ()
    back_nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Health:
    ranges: int = 0
    under_replicated: int = 0
    unavailable: int = 0
    replicas: int = 0
    queries_per_s: float | None = None


@dataclass(frozen=True)
class Workload:
    ops_per_s: float = 0.0
    errors_total: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    history: tuple[float, ...] = ()


@dataclass(frozen=True)
class RoomState:
    run_id: str = ""
    demo: str = ""
    simulated: bool = False
    speed: float = 1.0
    run_dir: str = ""
    started_wall: float | None = None
    t: float = 0.0
    cloud_order: tuple[str, ...] = ()
    clouds: Mapping[str, CloudState] = field(default_factory=immutables.Map)
    nodes: Mapping[str, NodeState] = field(default_factory=immutables.Map)
    health: Health = Health()
    workload: Workload = Workload()
    monitor: str = ""
    monitor_address: str = ""
    kills: tuple[KillRecord, ...] = ()
    notices: tuple[ev.Notice, ...] = ()
    settings: tuple[ev.SettingApplied, ...] = ()
    finished: bool = False
    cue_next: ev.CueNext | None = None
    """The run-sheet's next cue (``None``: no run-sheet, or it is done)."""
    cues_fired: tuple[ev.CueFired, ...] = ()
    gate: Literal["", "held", "released"] = ""
    gate_step: str = ""
    verdicts: tuple[ev.VerdictDecided, ...] = ()
    """Expectations decided so far, in the order they were."""
    eta: Mapping[str, ev.EtaEstimated] = field(default_factory=immutables.Map)
    """Each cloud's latest expected finish from earlier runs (``engine.eta``)."""

    def cloud_list(self) -> list[CloudState]:
        return [self.clouds[n] for n in self.cloud_order]

    def nodes_of(self, cloud: str) -> list[NodeState]:
        return list(self._nodes_by_cloud.get(cloud, ()))

    @cached_property
    def _nodes_by_cloud(self) -> dict[str, tuple[NodeState, ...]]:
        """Every cloud's nodes in name order, grouped once per state: a screen asks for
        each of 100 clouds every tick, and a scan of every node per cloud is O(clouds x nodes)."""
        groups: dict[str, list[NodeState]] = {}
        for n in self.nodes.values():
            groups.setdefault(n.cloud, []).append(n)
        return {
            cloud: tuple(sorted(nodes, key=lambda n: _node_key(n.node)))
            for cloud, nodes in groups.items()
        }

    def count(self, liveness: str) -> int:
        return sum(1 for n in self.nodes.values() if n.liveness == liveness)

    def killed_targets(self, cloud: str) -> tuple[str, ...]:
        """Targets in ``cloud`` still down from a kill, newest first: what a revive can
        bring back. A restarted pod or a crashed process comes back by itself, and a
        refused kill hit nothing, so neither is listed."""
        return self._killed_by_cloud.get(cloud, ())

    @cached_property
    def _killed_by_cloud(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for k in reversed(self.kills):
            if k.error or k.target_kind in REVIVES_ITSELF:
                continue
            listed = out.setdefault(k.target.split("/", 1)[0], [])
            if k.target in listed:
                continue
            if not k.nodes or any(
                (n := self.nodes.get(name)) is not None and n.killed_t is not None
                for name in k.nodes
            ):
                listed.append(k.target)
        return {cloud: tuple(targets) for cloud, targets in out.items() if targets}


def _node_key(node: str) -> tuple[str, int]:
    head, _, tail = node.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (node, 0)


K = TypeVar("K")
V = TypeVar("V")


def _put(mapping: Mapping[K, V], key: K, value: V) -> Mapping[K, V]:
    """A new read-only mapping with one entry set, in O(log n); the old one is unchanged."""
    if not isinstance(mapping, immutables.Map):
        mapping = immutables.Map(dict(mapping))
    return mapping.set(key, value)


def _drop(mapping: Mapping[K, V], key: K) -> Mapping[K, V]:
    """A new read-only mapping without ``key``, in O(log n); the old one is unchanged."""
    if key not in mapping:
        return mapping
    if not isinstance(mapping, immutables.Map):
        mapping = immutables.Map(dict(mapping))
    return mapping.delete(key)


def _with_step(cloud: CloudState, name: str, create: bool = False, **changes: object) -> CloudState:
    """Change one step; an unknown step is added only when it starts (``create``), so
    progress from outside the plan (teardown) never grows the step strip."""
    if all(s.name != name for s in cloud.steps):
        if not create or len(cloud.steps) >= MAX_STEPS:
            return cloud
        return replace(cloud, steps=(*cloud.steps, replace(StepState(name), **changes)))  # type: ignore[arg-type]
    steps = tuple(replace(s, **changes) if s.name == name else s for s in cloud.steps)  # type: ignore[arg-type]
    return replace(cloud, steps=steps)


def _update_cloud(state: RoomState, name: str, cloud: CloudState) -> RoomState:
    return replace(state, clouds=_put(state.clouds, name, cloud))


def _fold_cloud(state: RoomState, e: ev.Event) -> RoomState:
    name = getattr(e, "cloud", None)
    if not isinstance(name, str) or name not in state.clouds:
        return state
    c = state.clouds[name]
    if isinstance(e, ev.CloudStarted):
        steps = c.steps
        if e.from_step:
            reached = False
            new_steps = []
            for s in steps:
                reached = reached or s.name == e.from_step
                new_steps.append(StepState(s.name) if reached else s)
            steps = tuple(new_steps)
        else:
            steps = tuple(StepState(s.name) for s in steps)
        c = replace(
            c,
            status="running",
            steps=steps,
            started_t=c.started_t if e.from_step and c.started_t is not None else e.t,
            ended_t=None,
            error="",
            time_to_join_s=None,
        )
    elif isinstance(e, ev.StepStarted):
        c = _with_step(
            c,
            e.step,
            create=True,
            status="running",
            started_t=e.t,
            attempt=e.attempt,
            message="",
            error="",
        )
    elif isinstance(e, ev.StepProgress):
        c = _with_step(c, e.step, message=e.message, done=e.done, total=e.total)
    elif isinstance(e, ev.StepRetrying):
        c = _with_step(c, e.step, attempt=e.attempt, message=f"retrying: {e.error}")
    elif isinstance(e, ev.StepFinished):
        c = _with_step(
            c, e.step, status="skipped" if e.skipped else "done", duration_s=e.duration_s
        )
    elif isinstance(e, ev.StepFailed):
        c = _with_step(c, e.step, status="failed", duration_s=e.duration_s, error=e.error)
        c = replace(c, status="failed", error=f"{e.step}: {e.error}", ended_t=e.t)
    elif isinstance(e, ev.CloudJoined):
        c = replace(c, status="joined", time_to_join_s=e.time_to_join_s, ended_t=e.t)
    elif isinstance(e, ev.CloudCancelled):
        if e.step:
            c = _with_step(c, e.step, status="cancelled")
        c = replace(c, status="cancelled", ended_t=e.t)
    elif isinstance(e, ev.LogLines):
        tail = (*c.log_tail, *e.lines[-LOG_TAIL:])[-LOG_TAIL:]
        c = replace(c, log_tail=tail, log_count=c.log_count + len(e.lines))
    elif isinstance(e, ev.ResourceRecorded):
        made = ResourceState(e.resource_type, e.resource_id, e.name, e.step)
        held = _put(c.held, (e.resource_type, e.resource_id), (c.made, made))
        c = replace(c, resources=c.resources + 1, held=held, made=c.made + 1)
    elif isinstance(e, ev.ResourceDeleted):
        held = _drop(c.held, (e.resource_type, e.resource_id))
        c = replace(c, resources=max(0, c.resources - 1), held=held)
    elif isinstance(e, ev.TeardownStarted):
        c = replace(c, status="tearing_down")
    elif isinstance(e, ev.TeardownFinished):
        c = replace(c, status="torn_down", leftovers=e.leftovers)
    elif isinstance(e, ev.PreflightChecked):
        c = replace(c, preflight_ok=e.ok, preflight=e.reason, preflight_quotas=e.quotas)
    elif isinstance(e, ev.CloudApiObserved):
        stale = None if e.reachable else (c.api_stale_since_t or e.t)
        c = replace(c, api_stale_since_t=stale)
    else:
        return state
    return _update_cloud(state, name, c)


def _fold_node(state: RoomState, e: ev.NodeObserved) -> RoomState:
    old = state.nodes.get(e.node)
    if old is None:
        node = NodeState(
            node=e.node,
            cloud=e.cloud,
            liveness=e.liveness,
            since_t=e.t,
            node_id=e.node_id,
            address=e.address,
        )
    else:
        changed = old.liveness != e.liveness
        node = replace(
            old,
            liveness=e.liveness,
            since_t=e.t if changed else old.since_t,
            node_id=e.node_id if e.node_id is not None else old.node_id,
            address=e.address or old.address,
            # A node seen live again after a kill has been revived (or restarted by Kubernetes).
            killed_t=None if changed and e.liveness == "live" else old.killed_t,
        )
    kills = tuple(_kill_came_back(_kill_saw_node(k, e), node, e.t) for k in state.kills)
    return replace(state, nodes=_put(state.nodes, e.node, node), kills=kills)


def _kill_saw_node(k: KillRecord, e: ev.NodeObserved) -> KillRecord:
    if e.node not in k.nodes or e.t < k.at_t:
        return k
    if e.liveness in ("suspect", "dead"):
        k = _kill_saw_down(k, e.node)
    if e.liveness == "suspect" and k.suspect_t is None:
        return replace(k, suspect_t=e.t, degraded=True)
    if e.liveness == "dead" and k.dead_t is None:
        return replace(k, dead_t=e.t, suspect_t=k.suspect_t if k.suspect_t is not None else e.t)
    return k


def _kill_saw_down(k: KillRecord, node: str) -> KillRecord:
    if node in k.down_nodes:
        return k
    return replace(k, down_nodes=(*k.down_nodes, node))


def _kill_came_back(k: KillRecord, node: NodeState, t: float) -> KillRecord:
    """A node hit by ``k`` that was seen down and is now live and ready is back; once
    every node hit is back, ``back_t`` is set (a later kill of the same node is its own)."""
    if (
        k.back_t is not None
        or node.node not in k.down_nodes
        or node.node in k.back_nodes
        or t < k.at_t
        or node.liveness != "live"
        or node.probe not in ("ready", "")
    ):
        return k
    back = (*k.back_nodes, node.node)
    done = set(back) >= set(k.nodes)
    return replace(k, back_nodes=back, back_t=t if done else None)


def _kill_saw_health(k: KillRecord, e: ev.ClusterHealthObserved) -> KillRecord:
    if k.healed_t is not None or e.t < k.at_t:
        return k
    if e.under_replicated > 0 or e.unavailable > 0:
        return replace(k, degraded=True)
    if k.degraded:
        return replace(k, healed_t=e.t)
    return k


def _fold_probe(state: RoomState, e: ev.ProbeObserved) -> RoomState:
    old = state.nodes.get(e.node) or NodeState(node=e.node, cloud=e.cloud, since_t=e.t)
    if old.probe == e.status:
        return state
    # A restarted pod's node may never leave "live" in the cluster's eyes: its probe
    # answering again is what says it is back.
    returned = e.status == "ready" and old.probe in ("down", "not_ready") and old.liveness == "live"
    node = replace(
        old,
        probe=e.status,
        probe_since_t=e.t,
        killed_t=None if returned else old.killed_t,
    )
    kills = state.kills
    if e.status == "down":
        kills = tuple(
            replace(
                _kill_saw_down(k, e.node),
                probe_down_t=e.t if k.probe_down_t is None else k.probe_down_t,
            )
            if e.node in k.nodes and e.t >= k.at_t and k.back_t is None
            else k
            for k in kills
        )
    kills = tuple(_kill_came_back(k, node, e.t) for k in kills)
    return replace(state, nodes=_put(state.nodes, e.node, node), kills=kills)


def _fold_pod(state: RoomState, e: ev.PodObserved) -> RoomState:
    """A pod is a node-to-be: the grid shows it (and it can be killed) before the cluster
    reports it; the cluster's own view then takes over its liveness."""
    if e.pod in state.nodes or e.phase == "Deleted":
        return state
    node = NodeState(node=e.pod, cloud=e.cloud, liveness="joining", since_t=e.t)
    return replace(state, nodes=_put(state.nodes, e.pod, node))


def _fold_kill(state: RoomState, e: ev.KillIssued) -> RoomState:
    nodes = dict(state.nodes)
    for name in e.nodes:
        old = nodes.get(name)
        if old is not None:
            nodes[name] = replace(old, killed_t=e.t, killed_kind=e.target_kind)
    record = KillRecord(target=e.target, target_kind=e.target_kind, at_t=e.t, nodes=e.nodes)
    return replace(state, nodes=MappingProxyType(nodes), kills=(*state.kills, record))


def _fold_revive(state: RoomState, e: ev.ReviveIssued) -> RoomState:
    nodes = dict(state.nodes)
    for name in e.nodes:
        old = nodes.get(name)
        if old is not None:
            nodes[name] = replace(old, killed_t=None)
    return replace(state, nodes=MappingProxyType(nodes))


def apply(state: RoomState, e: ev.Event) -> RoomState:
    """Fold one event. Unknown or irrelevant events return ``state`` unchanged (same object)."""
    if e.t > state.t:
        state = replace(state, t=e.t)
    if isinstance(e, ev.RunStarted):
        clouds = {
            c.name: CloudState(
                name=c.name,
                label=c.label,
                region=c.region,
                provider=c.provider,
                expected_nodes=c.nodes,
                steps=tuple(StepState(s) for s in c.steps),
            )
            for c in e.clouds
        }
        return RoomState(
            run_id=e.run_id,
            demo=e.demo,
            simulated=e.simulated,
            speed=e.speed,
            run_dir=e.run_dir,
            started_wall=e.wall,
            t=e.t,
            cloud_order=tuple(c.name for c in e.clouds),
            clouds=immutables.Map(clouds),
        )
    if isinstance(e, ev.NodeObserved):
        return _fold_node(state, e)
    if isinstance(e, ev.ProbeObserved):
        return _fold_probe(state, e)
    if isinstance(e, ev.PodObserved):
        return _fold_pod(state, e)
    if isinstance(e, ev.ClusterHealthObserved):
        health = Health(e.ranges, e.under_replicated, e.unavailable, e.replicas, e.queries_per_s)
        kills = tuple(_kill_saw_health(k, e) for k in state.kills)
        return replace(state, health=health, kills=kills)
    if isinstance(e, ev.WorkloadSample):
        hist = (*state.workload.history, e.ops_per_s)[-WORKLOAD_HISTORY:]
        w = Workload(e.ops_per_s, e.errors_total, e.p50_ms, e.p95_ms, e.p99_ms, e.max_ms, hist)
        return replace(state, workload=w)
    if isinstance(e, ev.MonitorStatus):
        return replace(state, monitor=e.state, monitor_address=e.address)
    if isinstance(e, ev.KillIssued):
        return _fold_kill(state, e)
    if isinstance(e, ev.KillFailed):
        kills = tuple(
            replace(k, error=e.error) if k.target == e.target and not k.error else k
            for k in state.kills
        )
        return replace(state, kills=kills)
    if isinstance(e, ev.ReviveIssued):
        return _fold_revive(state, e)
    if isinstance(e, ev.Notice):
        return replace(state, notices=(*state.notices, e)[-50:])
    if isinstance(e, ev.SettingApplied):
        return replace(state, settings=(*state.settings[-MAX_SETTINGS + 1 :], e))
    if isinstance(e, ev.RunFinished):
        return replace(state, finished=True)
    if isinstance(e, ev.CloudStarted):
        state = replace(state, finished=False)
    if isinstance(e, _SCENARIO_EVENTS):
        return _fold_scenario(state, e)
    return _fold_cloud(state, e)


_SCENARIO_EVENTS = (
    ev.CueNext,
    ev.CueFired,
    ev.GateHeld,
    ev.GateReleased,
    ev.VerdictDecided,
    ev.EtaEstimated,
)
MAX_CUES_KEPT = 500
"""Cues and verdicts a state remembers (a run-sheet has a few dozen)."""


def _fold_scenario(state: RoomState, e: ev.Event) -> RoomState:
    if isinstance(e, ev.CueNext):
        return replace(state, cue_next=e if e.index >= 0 else None)
    if isinstance(e, ev.CueFired):
        return replace(state, cues_fired=(*state.cues_fired, e)[-MAX_CUES_KEPT:])
    if isinstance(e, ev.GateHeld):
        return replace(state, gate="held", gate_step=e.step)
    if isinstance(e, ev.GateReleased):
        return replace(state, gate="released")
    if isinstance(e, ev.VerdictDecided):
        return replace(state, verdicts=(*state.verdicts, e)[-MAX_CUES_KEPT:])
    if isinstance(e, ev.EtaEstimated) and e.cloud in state.clouds:
        return replace(state, eta=_put(state.eta, e.cloud, e))
    return state


def fold(events: Iterable[ev.Event], state: RoomState | None = None) -> RoomState:
    s = state if state is not None else RoomState()
    for e in events:
        s = apply(s, e)
    return s
