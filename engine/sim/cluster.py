"""The rehearsal CockroachDB cluster: nodes, liveness, ranges and the kv workload in one model.

The lead's simulated clouds call ``add_node`` / ``kill_node`` / ``revive_node`` /
``remove_node`` with demo times; ``run`` publishes what a cluster monitor would observe,
once a demo second, with CockroachDB's own timing (see ``engine.sim.liveness``).
Everything random comes from ``random.Random`` streams derived from the seed and a name,
so the same calls at the same times give the same events.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterator

from engine.clock import Clock
from engine.config.durations import parse_duration
from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import (
    ClusterHealthObserved,
    Event,
    EventSink,
    LivenessState,
    MonitorStatus,
    NodeObserved,
    Notice,
    ProbeObserved,
    SettingApplied,
    WorkloadSample,
)
from engine.sim.kv_model import KvView, KvWorkload, Stall
from engine.sim.liveness import (
    DEFAULT_TIME_UNTIL_STORE_DEAD_S,
    MIN_TIME_UNTIL_STORE_DEAD_S,
    SimNode,
)
from engine.sim.ranges import RangeMap, Topology

TICK_S = 1.0
_ADDRESS_BLOCKS = ("203.0.113", "198.51.100", "192.0.2")
"""Documentation address ranges (RFC 5737): plausible public IPs that route nowhere."""
STORE_DEAD_SETTING = "server.time_until_store_dead"
MONITOR_QPS = 3.0
"""Statements per second the cluster monitor's own polling adds to ``sql_query_count``."""


def fake_address(index: int, port: int) -> str:
    """The ``index``-th node's floating IP and SQL port, unique for the first 762 nodes."""
    block, host = divmod(index, 254)
    prefix = (
        _ADDRESS_BLOCKS[block]
        if block < len(_ADDRESS_BLOCKS)
        else f"100.{64 + block // 256}.{block % 256}"
    )
    return f"{prefix}.{host + 1}:{port}"


class SimCluster:
    """Implements ``engine.backend.ClusterBackend`` for the rehearsal fleet.

    The simulated clouds call ``add_node``/``kill_node``/``revive_node``/``remove_node``
    with demo times; ``run`` (or a test calling ``advance``) publishes what a monitor sees:
    ``NodeObserved`` on each liveness change, ``ProbeObserved`` on each probe change,
    ``ClusterHealthObserved`` and ``WorkloadSample`` every tick once the cluster exists,
    ``SettingApplied`` at bootstrap and ``MonitorStatus`` when the monitor's node changes.

    Not thread-safe: call it from the engine's event loop only. Every mutator is idempotent
    (killing a dead node, reviving a running one, removing an unknown one do nothing).
    """

    def __init__(self, cluster: ClusterConfig, workload: WorkloadConfig, seed: int) -> None:
        self._cluster = cluster
        self._workload_config = workload
        self._seed = seed
        self._nodes: dict[str, SimNode] = {}
        self._added = 0
        self._next_node_id = 1
        self._ranges = RangeMap(cluster.ranges, cluster.replication_factor, self._rng("ranges"))
        self._workload = KvWorkload(workload, self._rng("workload"))
        self._settings, self._dead_after_s = self._validate_settings(cluster)
        self._last_t: float | None = None
        self._seen_liveness: dict[str, LivenessState] = {}
        self._seen_probe: dict[str, str] = {}
        self._monitor_node: str | None = None
        self._monitor_lost = False
        self._workload_started = False
        self._partitioned: set[str] = set()

    # --- what the simulated clouds do ---------------------------------------------------

    def add_node(self, node: str, cloud: str, now: float, address: str | None = None) -> None:
        """Start ``cockroach start --join …`` for ``node`` at ``now``; it joins within 1-3 s.

        ``address`` (``ip:port``) overrides the made-up one, e.g. the sim server's floating IP.
        """
        old = self._nodes.get(node)
        if old is not None and not old.removed:
            return
        if old is not None:
            self._ranges.forget(node)
            self._seen_liveness.pop(node, None)
            self._seen_probe.pop(node, None)
        incarnation = self._added
        self._added += 1
        self._nodes[node] = SimNode.started(
            node,
            cloud,
            address or fake_address(incarnation, self._cluster.sql_port),
            self._rng(f"node/{node}/{incarnation}"),
            now,
        )
        if self._partitioned:
            self._apply_partition(now)

    def kill_node(self, node: str, now: float) -> None:
        """The process dies at once (pod deleted); it stays down until ``revive_node``."""
        n = self._nodes.get(node)
        if n is not None and not n.removed:
            n.kill(now)

    def revive_node(self, node: str, now: float) -> None:
        """Restart the process on its old store: same node id, live after its first heartbeat."""
        n = self._nodes.get(node)
        if n is not None and not n.removed:
            n.restart(now)

    def freeze_node(self, node: str, now: float) -> None:
        """SIGSTOP of the node's process: alive to Kubernetes, silent to the cluster."""
        n = self._nodes.get(node)
        if n is not None and not n.removed:
            n.freeze(now)

    def thaw_node(self, node: str, now: float) -> None:
        """SIGCONT: the process carries on; live again at its next heartbeat."""
        n = self._nodes.get(node)
        if n is not None and not n.removed:
            n.thaw(now)

    def partition_cloud(self, cloud: str, now: float) -> None:
        """Cut ``cloud``'s nodes off from every other cloud (the venue still reaches both)."""
        self._partitioned.add(cloud)
        self._apply_partition(now)

    def heal_cloud(self, cloud: str, now: float) -> None:
        self._partitioned.discard(cloud)
        self._apply_partition(now)

    @property
    def partitioned(self) -> frozenset[str]:
        return frozenset(self._partitioned)

    def _apply_partition(self, now: float) -> None:
        """Which nodes' heartbeats cannot reach the liveness range's quorum.

        Each cut-off cloud is its own island; the rest of the fleet is one more. The island
        with the most nodes keeps the quorum (replicas spread one per locality, so the
        largest island holds most replicas of every range); every other island's nodes
        are cut off. Ties go to the uncut side.
        """
        islands: dict[str, list[SimNode]] = {}
        for n in self._nodes.values():
            if not n.removed:
                key = n.cloud if n.cloud in self._partitioned else ""
                islands.setdefault(key, []).append(n)
        if not self._partitioned or len(islands) < 2:
            majority = ""
        else:
            majority = max(sorted(islands), key=lambda k: (len(islands[k]), k == ""))
        for key, members in islands.items():
            for n in members:
                n.set_cut_off(key != majority, now)

    def remove_node(self, node: str, now: float) -> None:
        """Teardown: the node is gone for good and no longer reported; its replicas get
        replaced right away (as if decommissioned)."""
        n = self._nodes.get(node)
        if n is not None and not n.removed:
            n.kill(now)
            n.removed = True
            self._seen_liveness.pop(node, None)
            self._seen_probe.pop(node, None)

    def liveness(self, node: str) -> str | None:
        """The cluster's classification as of the last ``advance``; ``None`` if unknown."""
        return self._seen_liveness.get(node)

    @property
    def time_until_store_dead_s(self) -> float:
        """The dead threshold in force (the default 5m if the configured value was refused)."""
        return self._dead_after_s

    def placement(self) -> tuple[tuple[str, ...], ...]:
        """Each range's replicas (node names), for tests and the rehearsal report."""
        return tuple(tuple(reps) for reps in self._ranges.replicas)

    @property
    def replica_moves(self) -> int:
        """Replicas moved between nodes so far (recovery and rebalancing), for reports."""
        return self._ranges.moves

    # --- the model ----------------------------------------------------------------------

    def advance(self, now: float) -> list[Event]:
        """Move the model to demo time ``now``; return unstamped events to publish.

        Long gaps are walked in steps of at most one second so timing stays exact; node
        and probe changes from every step are returned, health and workload only once.
        """
        if self._last_t is None:
            self._last_t = now - TICK_S
        if now <= self._last_t:
            return []
        events: list[Event] = []
        t0 = self._last_t
        while t0 < now:
            t1 = min(now, t0 + TICK_S)
            if now - t1 < 1e-9:
                t1 = now
            events.extend(self._step(t0, t1, final=t1 >= now))
            t0 = t1
        self._last_t = now
        return events

    def _step(self, t0: float, t1: float, final: bool) -> Iterator[Event]:
        classes: dict[str, LivenessState | None] = {}
        for name, n in self._nodes.items():
            if not n.removed:
                classes[name] = n.classify(t1, self._dead_after_s)
        yield from self._node_events(t1, classes)
        yield from self._probe_events(t1, classes)
        topo = self._topology(classes)
        if not self._ranges.bootstrapped:
            first = next((n for n in topo.targets), None)
            if first is None:
                return
            self._ranges.bootstrap(first)
            yield from self._settings
        self._ranges.step(t1, t1 - t0, topo)
        h = self._ranges.health(topo)
        yield from self._monitor_events(topo)
        view = self._kv_view(t1, topo, h.unavailable)
        kv = None
        if self._workload_config.enabled and (self._workload_started or view.gateways):
            self._workload_started = True
            kv = self._workload.tick(t0, t1, view)
        if not final:
            return
        yield ClusterHealthObserved(
            ranges=h.ranges,
            under_replicated=h.under_replicated,
            unavailable=h.unavailable,
            replicas=h.replicas,
            queries_per_s=round((kv.ops_per_s if kv is not None else 0.0) + MONITOR_QPS, 1),
        )
        if kv is not None:
            yield WorkloadSample(
                ops_per_s=round(kv.ops_per_s, 1),
                errors_total=kv.errors_total,
                p50_ms=kv.p50_ms,
                p95_ms=kv.p95_ms,
                p99_ms=kv.p99_ms,
                max_ms=kv.max_ms,
            )

    def _node_events(self, now: float, classes: dict[str, LivenessState | None]) -> Iterator[Event]:
        joined = sorted(
            (n for n in self._nodes.values() if classes.get(n.name) and n.node_id is None),
            key=lambda n: (n.first_heartbeat_at, n.name),
        )
        for n in joined:
            n.node_id = self._next_node_id
            self._next_node_id += 1
        ordered = sorted(
            (n for n in self._nodes.values() if n.node_id is not None and not n.removed),
            key=lambda n: n.node_id or 0,
        )
        for n in ordered:
            liveness = classes.get(n.name)
            if liveness is None or self._seen_liveness.get(n.name) == liveness:
                continue
            self._seen_liveness[n.name] = liveness
            yield NodeObserved(
                node=n.name,
                cloud=n.cloud,
                liveness=liveness,
                node_id=n.node_id,
                address=n.address,
                locality=f"cloud={n.cloud}",
            )

    def _probe_events(
        self, now: float, classes: dict[str, LivenessState | None]
    ) -> Iterator[Event]:
        for name, n in self._nodes.items():
            if n.removed:
                continue
            status = n.probe(now, classes.get(name))
            if self._seen_probe.get(name) == status:
                continue
            self._seen_probe[name] = status
            detail = {
                "down": "timed out (no answer)" if n.running else "connection refused",
                "not_ready": "503 node is not healthy",
                "ready": "200",
            }[status]
            yield ProbeObserved(node=name, cloud=n.cloud, status=status, detail=detail)

    def _topology(self, classes: dict[str, LivenessState | None]) -> Topology:
        live = [name for name, c in classes.items() if c == "live"]
        gone = [name for name, n in self._nodes.items() if n.removed or classes.get(name) == "dead"]
        return Topology(
            clouds={name: n.cloud for name, n in self._nodes.items()},
            live=frozenset(live),
            targets=tuple(name for name in live if self._nodes[name].heartbeating),
            gone=frozenset(gone),
        )

    def _kv_view(self, now: float, topo: Topology, unavailable: int) -> KvView:
        ranges = max(1, len(self._ranges.replicas))
        leases = self._ranges.lease_counts()
        stalls: list[Stall] = []
        for name, n in self._nodes.items():
            if name in topo.live and not n.heartbeating and leases.get(name, 0) > 0:
                until = n.expiration(now)
                if until is not None:
                    stalls.append(Stall(leases[name] / ranges, until))
        killed = {
            name: n.killed_at
            for name, n in self._nodes.items()
            if not n.running and n.killed_at is not None
        }
        ready = tuple(
            n
            for n in topo.targets
            if now >= self._nodes[n].first_heartbeat_at and self._nodes[n].heartbeating
        )
        stuck = tuple(
            name
            for name, n in self._nodes.items()
            if n.running and not n.removed and (n.frozen or n.cut_off)
        )
        return KvView(
            stuck=stuck,
            gateways=ready,
            killed_at=killed,
            stalls=tuple(stalls),
            unavailable_fraction=unavailable / ranges,
            serving_nodes=len(ready),
        )

    def _monitor_events(self, topo: Topology) -> Iterator[Event]:
        """The monitor's SQL connection: it fails over when the node it talks to dies."""
        current = self._monitor_node
        if current is not None and current in topo.targets:
            return
        if current is not None and not self._monitor_lost:
            self._monitor_lost = True
            yield MonitorStatus(
                state="reconnecting",
                address=self._nodes[current].address,
                message="server closed the connection unexpectedly",
            )
            return
        if not topo.targets:
            return
        self._monitor_node = topo.targets[0]
        self._monitor_lost = False
        yield MonitorStatus(state="connected", address=self._nodes[topo.targets[0]].address)

    # --- setup --------------------------------------------------------------------------

    def _rng(self, stream: str) -> random.Random:
        """An independent, reproducible stream (string seeds hash with SHA-512, not hash())."""
        return random.Random(f"{self._seed}/{stream}")

    @staticmethod
    def _validate_settings(cluster: ClusterConfig) -> tuple[list[Event], float]:
        """``SET CLUSTER SETTING`` as CockroachDB would answer it, and the dead threshold."""
        events: list[Event] = []
        dead_after = DEFAULT_TIME_UNTIL_STORE_DEAD_S
        for name, value in cluster.settings:
            if name != STORE_DEAD_SETTING:
                events.append(SettingApplied(name=name, value=value))
                continue
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                events.append(SettingApplied(name=name, value=value, ok=False, message=str(exc)))
                continue
            if seconds < MIN_TIME_UNTIL_STORE_DEAD_S:
                message = f"cannot set {name} to less than 1m15s"
                events.append(SettingApplied(name=name, value=value, ok=False, message=message))
                continue
            dead_after = seconds
            events.append(SettingApplied(name=name, value=value))
        return events, dead_after

    # --- the ClusterBackend -------------------------------------------------------------

    async def run(self, emit: EventSink, clock: Clock) -> None:
        """Advance once a demo second and publish events until cancelled (the room's hub
        stamps them, on the same clock, as they arrive).

        Never raises into the engine: a model failure becomes an error ``Notice`` and the
        loop carries on; cancellation propagates as it must.
        """
        next_tick = clock.now()
        while True:
            now = clock.now()
            try:
                events = self.advance(now)
            except Exception as exc:  # a model bug must not stop the show
                events = [Notice(level="error", message=f"simulated cluster: {exc!r}")]
            for e in events:
                # A broken sink is the engine's to report, not ours.
                with contextlib.suppress(Exception):
                    emit(e)
            next_tick += TICK_S
            if next_tick <= clock.now():
                next_tick = math.floor(clock.now() / TICK_S) * TICK_S + TICK_S
            await clock.sleep(next_tick - clock.now())
