"""The simulated ``cockroach workload run kv``: closed-loop workers behind one rate limiter.

Semantics from reference/cockroach.md §6: ``concurrency`` workers each run one op at a time;
``--max-rate`` is ONE limiter shared by all of them (0 = unlimited); each op is a read with
probability ``read_percent``; a tick reports successful ops/s and the p50/p95/p99/max of
the tick's successful ops, and the CUMULATIVE error count. The sim runs as if started with
``--tolerate-errors --timeout=3s`` and a multi-host URL, so a worker whose gateway dies
gets an error, reconnects to another node and carries on.

Disturbances come from the cluster model, not from dice: an op on a range whose lease is
held by a killed node blocks until that node's liveness expires and another replica takes
the lease (up to ~6 s, the failover stall CockroachDB's own benchmarks measure); an op on
a range without quorum fails at the timeout. A worker whose gateway is stuck (stopped, or
on the cut-off side of a partition) keeps its connection, since nothing closes it, and
each of its ops fails at the timeout until the gateway answers again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.config.model import WorkloadConfig

OP_TIMEOUT_S = 3.0
"""Client-side statement timeout the simulated workload runs with."""
LEASE_ACQUIRE_S = 0.3
"""After the old lease expires, a live replica needs a moment to acquire it."""
RECONNECT_S = (0.5, 1.5)
"""A worker whose connection died opens a new one to another node after this long."""
NODE_OPS_CAPACITY = 400.0
"""kv ops/s one small (2 vCPU) node serves before queueing sets in."""
SUBSTEP_S = 0.1
LATENCY_SAMPLE_CAP = 250
"""Per tick, at most this many healthy latencies are drawn; the rest are weighted in."""
READ_MEDIAN_MS, READ_SIGMA = 1.2, 0.5
WRITE_MEDIAN_MS, WRITE_SIGMA = 6.0, 0.75
"""Writes wait for a quorum of replicas in other clouds: slower and more spread than reads."""


@dataclass(frozen=True)
class Stall:
    """Ranges whose lease is held by a killed node, blocked until ``until`` (demo s)."""

    fraction: float
    until: float


@dataclass(frozen=True)
class KvView:
    """The cluster as the workload meets it during one tick."""

    gateways: tuple[str, ...]
    """Nodes that accept connections and serve SQL (process running, live)."""
    killed_at: Mapping[str, float]
    """Nodes whose process is down, with the moment it died."""
    stalls: tuple[Stall, ...]
    unavailable_fraction: float
    serving_nodes: int
    stuck: tuple[str, ...] = ()
    """Nodes that keep their connections but answer nothing: a stopped (SIGSTOP) process,
    or one cut off from the quorum by a partition. Each op there fails at the timeout."""


@dataclass(frozen=True)
class KvTick:
    ops_per_s: float
    errors_total: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class _Worker:
    gateway: str | None = None
    connect_at: float = 0.0
    busy_until: float = -math.inf
    pending_ms: float | None = None
    """Latency of the blocked op when it completes; ``None`` with ``busy`` means it fails."""
    pending: bool = False


@dataclass
class KvWorkload:
    """One ``workload run kv`` process; ``tick`` moves it over ``[t0, t1)``."""

    config: WorkloadConfig
    rng: random.Random
    errors_total: int = 0
    _workers: list[_Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._workers = [_Worker() for _ in range(max(1, self.config.concurrency))]

    def tick(self, t0: float, t1: float, view: KvView) -> KvTick:
        dt = max(1e-9, t1 - t0)
        rate = self.config.max_rate if self.config.max_rate > 0 else math.inf
        capacity = NODE_OPS_CAPACITY * max(0, view.serving_nodes)
        offered = min(rate, capacity)
        load = 1.0 / (1.0 - min(0.9, offered / capacity)) if capacity > 0 else 1.0
        mean_ms = self._mean_latency_ms() * load
        worker_max = 1000.0 / mean_ms
        bad = sum(s.fraction for s in view.stalls) + view.unavailable_fraction
        ok_ops = 0.0
        slow: list[float] = []
        steps = max(1, round(dt / SUBSTEP_S))
        h = dt / steps
        for i in range(steps):
            s = t0 + i * h
            self._connections(s, s + h, view)
            self._completions(s + h, slow)
            ready = []
            for w in self._workers:
                if w.gateway is None or w.connect_at > s or w.busy_until > s:
                    continue
                if w.gateway in view.stuck:
                    w.busy_until, w.pending, w.pending_ms = s + OP_TIMEOUT_S, True, None
                else:
                    ready.append(w)
            if not ready:
                continue
            share = min(min(rate, capacity) * h / len(ready), worker_max * h)
            for w in ready:
                good = self._ops_before_trouble(bad)
                if good < share:
                    ok_ops += good
                    self._block(w, s + h * good / share, bad, view)
                else:
                    ok_ops += share
        self._completions(t1, slow)
        count = max(0.0, ok_ops * (1.0 + self.rng.gauss(0.0, 0.008)))
        p50, p95, p99, pmax = self._percentiles(round(count), load, slow)
        return KvTick(
            ops_per_s=(count + len(slow)) / dt,
            errors_total=self.errors_total,
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            max_ms=pmax,
        )

    def _mean_latency_ms(self) -> float:
        reads = min(100, max(0, self.config.read_percent)) / 100.0
        read = READ_MEDIAN_MS * math.exp(READ_SIGMA**2 / 2)
        write = WRITE_MEDIAN_MS * math.exp(WRITE_SIGMA**2 / 2)
        return reads * read + (1 - reads) * write

    def _ops_before_trouble(self, bad: float) -> float:
        """How many ops a worker completes before one lands on a stalled or unavailable
        range (geometric: each op picks its range uniformly, as hashed kv keys do)."""
        if bad <= 0.0:
            return math.inf
        if bad >= 1.0:
            return 0.0
        return math.floor(math.log(1.0 - self.rng.random()) / math.log(1.0 - bad))

    def _connections(self, s: float, e: float, view: KvView) -> None:
        """Drop workers whose gateway died (the in-flight op fails) and reconnect others."""
        for w in self._workers:
            if w.gateway is not None and w.gateway in view.stuck:
                continue  # the connection stays open; its ops time out (``tick``)
            if w.gateway is not None and w.gateway not in view.gateways:
                died = view.killed_at.get(w.gateway)
                if died is not None and died >= e:
                    continue
                at = s if died is None else max(s, died)
                self.errors_total += 1  # EOF on the in-flight (or blocked) op
                w.gateway, w.pending, w.busy_until = None, False, -math.inf
                w.connect_at = at + self.rng.uniform(*RECONNECT_S)
            if w.gateway is None and w.connect_at < e:
                if view.gateways:
                    w.gateway = view.gateways[self.rng.randrange(len(view.gateways))]
                    w.connect_at = max(w.connect_at, s)
                else:
                    self.errors_total += 1  # connection refused everywhere; retry later
                    w.connect_at = max(w.connect_at, s) + self.rng.uniform(*RECONNECT_S)

    def _block(self, w: _Worker, start: float, bad: float, view: KvView) -> None:
        """The op at ``start`` hit a stalled or unavailable range."""
        pick = self.rng.random() * bad
        for stall in view.stalls:
            if pick < stall.fraction:
                wait = stall.until + LEASE_ACQUIRE_S - start
                if wait <= OP_TIMEOUT_S:
                    w.busy_until, w.pending = start + max(0.0, wait), True
                    w.pending_ms = max(0.0, wait) * 1000.0 + self._one_latency(1.0)
                    return
                break
            pick -= stall.fraction
        w.busy_until, w.pending, w.pending_ms = start + OP_TIMEOUT_S, True, None

    def _completions(self, until: float, slow: list[float]) -> None:
        for w in self._workers:
            if w.pending and w.busy_until <= until:
                w.pending = False
                if w.pending_ms is None:
                    self.errors_total += 1
                else:
                    slow.append(w.pending_ms)

    def _one_latency(self, load: float) -> float:
        if self.rng.random() * 100 < self.config.read_percent:
            return self.rng.lognormvariate(math.log(READ_MEDIAN_MS * load), READ_SIGMA)
        return self.rng.lognormvariate(math.log(WRITE_MEDIAN_MS * load), WRITE_SIGMA)

    def _percentiles(
        self, healthy: int, load: float, slow: Sequence[float]
    ) -> tuple[float, float, float, float]:
        """HDR-style percentiles (value at rank ceil(q*N)) of one tick's successful ops."""
        drawn = min(healthy, LATENCY_SAMPLE_CAP)
        weight = healthy / drawn if drawn else 0.0
        samples = [(self._one_latency(load), weight) for _ in range(drawn)]
        samples.extend((ms, 1.0) for ms in slow)
        if not samples:
            return (0.0, 0.0, 0.0, 0.0)
        samples.sort()
        total = sum(wt for _, wt in samples)
        out: list[float] = []
        for q in (0.50, 0.95, 0.99):
            rank, acc = q * total, 0.0
            value = samples[-1][0]
            for ms, wt in samples:
                acc += wt
                if acc >= rank:
                    value = ms
                    break
            out.append(round(value, 1))
        return (out[0], out[1], out[2], round(samples[-1][0], 1))
