"""The cluster monitor: polls liveness about once a second, store health less often.

Every query runs in a worker thread under the monitor's own ``CapacityLimiter`` and is
bounded twice: libpq/statement timeouts inside the thread, and ``call_timeout_s`` around
it (after which the call is abandoned with its session and a fresh session takes over).
Between polls the monitor waits on its idle socket, so a dead node is noticed at once.
The next poll starts only after the previous one finished, so a slow cluster never piles
polls up. Nothing raises out of ``run``: failures become ``MonitorStatus`` events and
notices, and a lost node is replaced by the next candidate at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import anyio
import psycopg2

from engine.cockroach import queries as q
from engine.cockroach.book import KnownNode, NodeBook
from engine.cockroach.classify import LIVE, classify, nanos
from engine.cockroach.connection import (
    ConnectOptions,
    Endpoint,
    SqlSession,
    SqlUnavailable,
    close_soon,
)
from engine.cockroach.connection import describe as describe_error
from engine.cockroach.publish import Publisher, log
from engine.config.durations import parse_duration
from engine.events import ClusterHealthObserved, MonitorStatus, NodeObserved

T = TypeVar("T")

CONNECTED = "connected"
RECONNECTING = "reconnecting"
DOWN = "down"
WAITING = "waiting"
"""No node has answered yet (none may exist: the first cloud is still being built). Not
an error: "down" is kept for a cluster that answered once and then stopped."""
WAITING_MESSAGE = "waiting for the first node"


@dataclass(frozen=True)
class MonitorTiming:
    poll_s: float = 1.0
    store_every_s: float = 10.0
    """``crdb_internal.kv_store_status`` is a cluster RPC to every node ("cluster RPC;
    expensive!", pkg/sql/crdb_internal.go): read it no more often than the DB Console
    polls nodes (10 s) and than nodes write their status (``DefaultMetricsSampleInterval``,
    10 s); a faster read only sees the same numbers again."""
    metrics_settle_s: float = 10.0
    """After a node starts or stops serving, store metrics are stale for up to one metrics
    tick (CockroachDB's ``DefaultMetricsSampleInterval``, 10 s). Health is held back that
    long, so a stale "0 under-replicated" is never published right after a kill. Without
    this hold, the report would show the kill healed before the node is even dead."""
    setting_every_s: float = 30.0
    call_timeout_s: float = 12.0


@dataclass(frozen=True)
class Snapshot:
    """One poll's worth of rows, read in a worker thread."""

    endpoint: Endpoint
    reconnected: bool
    now_ns: int
    """The cluster's clock in Unix nanoseconds (exact: see ``classify``)."""
    nodes: tuple[q.NodeRow, ...]
    problems: tuple[str, ...] = ()
    stores: dict[int, q.StoreTotals] | None = None
    time_until_store_dead: float | None = None


def read_snapshot(session: SqlSession, want_stores: bool, want_setting: bool) -> Snapshot:
    """Blocking: one poll on ``session`` (connecting first if needed).

    Raises ``SqlUnavailable`` when no node answers or the connection breaks, and
    ``psycopg2.Error`` when the liveness statement itself fails.
    """
    reconnected = session.conn is None or bool(session.conn.closed)
    endpoint = session.ensure()
    clock_rows = session.fetch(q.CLUSTER_CLOCK)
    nodes, problems = q.parse_liveness_rows(session.fetch(q.LIVENESS))
    problems_out = list(problems)
    stores: dict[int, q.StoreTotals] | None = None
    threshold: float | None = None
    if want_stores:
        try:
            stores = q.parse_store_rows(session.fetch(q.STORE_TOTALS))
        except psycopg2.Error as exc:  # timeout or missing privilege: liveness still counts
            problems_out.append(f"store status unavailable: {describe_error(exc)}")
    if want_setting:
        try:
            rows = session.fetch(q.SETTING_VALUE, ("server.time_until_store_dead",))
            threshold = parse_duration(str(rows[0][0])) if rows else None
        except (psycopg2.Error, ValueError) as exc:
            problems_out.append(f"time_until_store_dead unreadable: {exc}")
    return Snapshot(
        endpoint=endpoint,
        reconnected=reconnected,
        now_ns=nanos(clock_rows[0][0]),
        nodes=nodes,
        problems=tuple(problems_out),
        stores=stores,
        time_until_store_dead=threshold,
    )


@dataclass
class ClusterMonitor:
    """Publishes ``NodeObserved``, ``ClusterHealthObserved`` and ``MonitorStatus``."""

    book: NodeBook
    options: ConnectOptions
    publish: Publisher
    time_until_store_dead: float = 300.0
    """From the demo file; replaced by the cluster's own value once read."""
    timing: MonitorTiming = field(default_factory=MonitorTiming)
    up: anyio.Event = field(default_factory=anyio.Event)
    """Set on the first poll that sees a live node (settings and workload wait for it)."""
    queries_per_s: Callable[[], float | None] = lambda: None
    """Cluster-wide SQL throughput from the probes, attached to health events."""
    status: str = ""
    endpoint: Endpoint | None = None
    _limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(2))
    _last_problem: str = ""
    _ever: bool = False
    _waiting_reason: str = ""
    _settle_until: float = float("-inf")

    def _new_session(self) -> SqlSession:
        book = self.book
        return SqlSession(self.options, lambda: book.candidates)

    async def _in_thread(self, fn: Callable[[], T]) -> T:
        with anyio.fail_after(self.timing.call_timeout_s):
            return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True, limiter=self._limiter)

    def _set_status(self, state: str, message: str = "") -> None:
        address = str(self.endpoint) if self.endpoint else ""
        if state == self.status and state != CONNECTED:
            return
        self.status = state
        self.publish(MonitorStatus(state=state, address=address, message=message))

    async def run(self) -> None:
        sessions = [self._new_session()]
        try:
            await self._poll_forever(sessions)
        finally:
            await close_soon(sessions[-1], self._limiter)

    async def _poll_forever(self, sessions: list[SqlSession]) -> None:
        session = sessions[-1]
        clock = self.publish.pace
        next_store = next_setting = float("-inf")
        failures = 0
        woke_early = False
        while True:
            started = clock.now()
            want_stores, want_setting = started >= next_store, started >= next_setting
            try:
                snap = await self._in_thread(
                    partial(read_snapshot, session, want_stores, want_setting)
                )
            except SqlUnavailable as exc:
                failures, woke_early = failures + 1, False
                self._lost(exc, failures)
                if failures == 1 and self.status != DOWN:
                    continue  # the node we used went away: try the next one at once
                await clock.sleep(min(self.timing.poll_s * failures, 3.0))
                continue
            except TimeoutError:
                session = self._new_session()  # the stuck call keeps the old one
                sessions.append(session)
                failures += 1
                self._lost(SqlUnavailable("poll timed out; abandoning the connection"), failures)
                continue
            except (psycopg2.Error, ValueError, IndexError, TypeError) as exc:
                self._problem(f"monitor: poll failed: {describe_error(exc)}")
                await clock.sleep(self.timing.poll_s)
                continue
            failures = 0
            if want_stores:
                next_store = started + self.timing.store_every_s
            if want_setting:
                next_setting = started + self.timing.setting_every_s
            self._apply(snap)
            remaining = self.timing.poll_s - (clock.now() - started)
            if remaining <= 0:
                continue
            if woke_early:
                # Woken, yet the poll worked: something unread sits on the socket. Use a
                # timer this once so it cannot turn into a busy loop.
                woke_early = False
                await clock.sleep(remaining)
                continue
            # Idle on the socket rather than a timer: a node that dies between polls wakes
            # us at once (failover in milliseconds, not at the next tick).
            with contextlib.suppress(TimeoutError):
                woke_early = await self._in_thread(partial(session.wait_idle, remaining))

    def _lost(self, exc: SqlUnavailable, failures: int) -> None:
        was = self.endpoint
        self.endpoint = None
        if not self._ever and exc.refused:
            # A node answered and refused us (its certificate, our credentials): waiting
            # will not help. One clear line, once.
            if self.status != DOWN:
                self.publish.notice("error", f"monitor: {exc.message}")
            self._set_status(DOWN, exc.message)
            return
        if not self._ever:
            if self._waiting_reason != exc.message:
                self._waiting_reason = exc.message
                log.info("monitor: %s: %s", WAITING_MESSAGE, exc.message)
            self._set_status(WAITING, WAITING_MESSAGE)
            return
        if failures == 1 and was is not None:
            self.publish.notice("warning", f"monitor: {exc.message}; failing over")
            self._set_status(RECONNECTING, exc.message)
        elif failures >= 2 or was is None:
            if self.status != DOWN:
                self.publish.notice("error", f"monitor: cluster unreachable: {exc.message}")
            self._set_status(DOWN, exc.message)

    def _problem(self, text: str) -> None:
        if text != self._last_problem:
            self._last_problem = text
            self.publish.notice("warning", text)

    def _apply(self, snap: Snapshot) -> None:
        if snap.time_until_store_dead is not None:
            self.time_until_store_dead = snap.time_until_store_dead
        moved = snap.endpoint != self.endpoint
        self.endpoint = snap.endpoint
        if moved or self.status != CONNECTED:
            again = snap.reconnected and self.status in (RECONNECTING, DOWN) and self._ever
            self._set_status(CONNECTED, "reconnected" if again else "")
        self._ever = True
        for text in snap.problems:
            self._problem(f"monitor: {text}")
        dead_after_ns = nanos(self.time_until_store_dead)
        states = {
            row.liveness.node_id: classify(row.liveness, snap.now_ns, dead_after_ns)
            for row in snap.nodes
        }
        known_before = set(self.book.nodes)
        serving_before = set(self.book.serving())
        changed = self.book.learn(snap.nodes, states)
        serving_now = set(self.book.serving())
        left, back = serving_before - serving_now, (serving_now - serving_before) & known_before
        if left or back:
            self._settle_until = self.publish.pace.now() + self.timing.metrics_settle_s
        show: list[KnownNode] = list(self.book.nodes.values()) if snap.reconnected else changed
        for node in show:
            if not node.liveness:  # learnt from a row the cluster did not classify
                continue
            self.publish(
                NodeObserved(
                    node=node.name,
                    cloud=node.cloud,
                    liveness=node.liveness,
                    node_id=node.node_id,
                    address=node.address,
                    locality=node.locality,
                )
            )
        if snap.stores is not None and self.publish.pace.now() >= self._settle_until:
            totals = q.cluster_totals(snap.stores, self.book.serving())
            self.publish(self.health(totals))
        if not self.up.is_set() and any(s == LIVE for s in states.values()):
            self.up.set()

    def health(self, totals: q.StoreTotals) -> ClusterHealthObserved:
        return ClusterHealthObserved(
            ranges=totals.ranges or totals.leaseholders,
            under_replicated=totals.under_replicated,
            unavailable=totals.unavailable,
            replicas=totals.replicas,
            queries_per_s=self.queries_per_s(),
        )
