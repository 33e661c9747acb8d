"""The kv load generator, with ``cockroach workload run kv`` semantics.

Table ``kv(k BIGINT PRIMARY KEY, v BYTES)``; each operation is a read
(``SELECT k, v FROM kv WHERE k IN (...)``) with probability ``read_percent``, else an
upsert. One shared ``max_rate`` limiter (burst 1, like the workload's ``rate.Limiter``)
gates every worker; ``concurrency`` workers each hold their own connection, start on
different nodes and fail over like the monitor. One attempt per operation, as
``kvOp.run`` (pkg/workload/kv/kv.go) does: a 40001 is an error, counted, never retried
inside the latency measurement; 40003 counts as an ambiguous error. Every second a
``WorkloadSample`` carries ops/s, cumulative errors and p50/p95/p99/max of that second's
successful ops.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import anyio
import psycopg2

from engine.clock import Clock
from engine.cockroach.connection import (
    AMBIGUOUS_RESULT,
    ConnectOptions,
    Endpoint,
    SqlSession,
    SqlUnavailable,
    close_soon,
    describe,
)
from engine.cockroach.publish import Publisher
from engine.events import WorkloadSample

CREATE_TABLE = "CREATE TABLE IF NOT EXISTS kv (k BIGINT NOT NULL PRIMARY KEY, v BYTEA NOT NULL)"
"""``workload init kv``'s table. Differences: the workload says ``BYTES`` (CockroachDB's
alias BYTEA is PostgreSQL's name) and uses a database ``kv``; we use the connection's own."""

READ = "SELECT k, v FROM kv WHERE k IN (%s)"
UPSERT = "UPSERT INTO kv (k, v) VALUES (%s, %s)"
"""What ``workload kv`` writes. A blind write: ``INSERT ... ON CONFLICT`` reads the row
first, which skews write latency (CockroachDB docs, "insert vs upsert")."""
INSERT_ON_CONFLICT = (
    "INSERT INTO kv (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
)
"""The same write for PostgreSQL (the test fixture), which has no UPSERT."""
SERVER_VERSION = "SELECT version()"

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_MASK = (1 << 64) - 1


def write_statement(server_version: str) -> str:
    """``UPSERT`` when the server says it is CockroachDB, else PostgreSQL's form.

    Decided by asking the server (``SELECT version()`` starts "CockroachDB CCL v25.2..."),
    never by a setting: the fixture is PostgreSQL, a real show is CockroachDB.
    """
    return UPSERT if "cockroachdb" in server_version.lower() else INSERT_ON_CONFLICT


def _go_div(a: int, b: int) -> int:
    """Go's integer division: truncates towards zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def split_points(splits: int) -> list[int]:
    """``splits`` split points (``splits + 1`` ranges) over the hashed int64 key space.

    The same points as ``splitFinder`` in pkg/workload/kv/kv.go: stride
    ``max/(n+1) - min/(n+1)`` (Go division) and point ``i`` at ``min + (i+1)*stride``.
    """
    if splits <= 0:
        return []
    stride = _go_div(INT64_MAX, splits + 1) - _go_div(INT64_MIN, splits + 1)
    return [INT64_MIN + (i + 1) * stride for i in range(splits)]


def key_of(seq: int) -> int:
    """Spread sequence numbers over the key space (the workload's default hashed keys)."""
    z = (seq + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return z - (1 << 64) if z >= 1 << 63 else z


def percentile(sorted_ms: Sequence[float], q: float) -> float:
    """The smallest value with at least ``q`` of the samples at or below it (HDR-style)."""
    if not sorted_ms:
        return 0.0
    index = max(0, math.ceil(q * len(sorted_ms)) - 1)
    return sorted_ms[min(index, len(sorted_ms) - 1)]


class RateLimiter:
    """One token bucket (burst 1) shared by all workers; ``rate <= 0`` means no limit."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self.clock = clock
        self._next = float("-inf")

    async def wait(self) -> None:
        if self.rate <= 0:
            return
        now = self.clock.now()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        if slot > now:
            await self.clock.sleep(slot - now)


class OpFailed(Exception):
    def __init__(
        self, message: str, *, ambiguous: bool = False, lost: bool = False, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.ambiguous = ambiguous
        self.lost = lost
        self.code = code


def run_once(op: Callable[[], object]) -> float:
    """Blocking: run ``op`` once and return the milliseconds it took.

    Like ``kvOp.run``: no retry. Any error, 40001 included, raises ``OpFailed`` and is
    counted by the caller; only successful operations have a latency.
    """
    started = time.perf_counter()
    try:
        op()
    except SqlUnavailable as exc:
        raise OpFailed(exc.message, lost=True) from None
    except psycopg2.Error as exc:
        code = getattr(exc, "pgcode", None)
        raise OpFailed(describe(exc), ambiguous=code == AMBIGUOUS_RESULT, code=code) from None
    return (time.perf_counter() - started) * 1000.0


def _create_table(session: SqlSession) -> str:
    """Blocking: ``workload init kv``'s table; returns the server's ``version()``."""
    session.fetch(CREATE_TABLE)
    rows = session.fetch(SERVER_VERSION)
    return str(rows[0][0]) if rows else ""


@dataclass
class KvStats:
    """Loop-owned tallies; ``tick`` turns one interval into the workload's per-second line."""

    errors_total: int = 0
    ambiguous_total: int = 0
    ops_total: int = 0
    _tick_ms: list[float] = field(default_factory=list)
    _tick_started: float | None = None

    def ok(self, ms: float) -> None:
        self._tick_ms.append(ms)
        self.ops_total += 1

    def error(self, ambiguous: bool) -> None:
        self.errors_total += 1
        self.ambiguous_total += ambiguous

    def tick(self, now: float) -> WorkloadSample:
        started = self._tick_started if self._tick_started is not None else now - 1.0
        elapsed = max(1e-6, now - started)
        lat = sorted(self._tick_ms)
        self._tick_ms, self._tick_started = [], now
        return WorkloadSample(
            ops_per_s=round(len(lat) / elapsed, 1),
            errors_total=self.errors_total,
            p50_ms=round(percentile(lat, 0.50), 2),
            p95_ms=round(percentile(lat, 0.95), 2),
            p99_ms=round(percentile(lat, 0.99), 2),
            max_ms=round(lat[-1], 2) if lat else 0.0,
        )


@dataclass
class KvWorkload:
    """Runs until cancelled; never raises. ``candidates(i)`` gives worker ``i`` its hosts."""

    options: ConnectOptions
    candidates: Callable[[int], Sequence[Endpoint]]
    publish: Publisher
    read_percent: int = 50
    max_rate: float = 500.0
    concurrency: int = 8
    block_bytes: int = 1
    sample_every_s: float = 1.0
    op_timeout_s: float = 12.0
    splits: int = 0
    """Split points made first (``workload init kv --splits N``: N points, N+1 ranges;
    CockroachDB only)."""
    stats: KvStats = field(default_factory=KvStats)
    write_sql: str = ""
    """The write statement, chosen by asking the server once the table is made."""
    _written: int = 0
    _rng: random.Random = field(default_factory=random.Random)

    async def run(self) -> None:
        limiter = anyio.CapacityLimiter(max(1, self.concurrency) + 1)
        rate = RateLimiter(self.max_rate, self.publish.pace)
        if not await self._create_table(limiter):
            return
        self.stats.tick(self.publish.pace.now())
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._sampler)
            for i in range(max(1, self.concurrency)):
                tg.start_soon(self._worker, i, rate, limiter)

    def _session(self, i: int) -> SqlSession:
        opts = replace(self.options, application_name="crossroom-kv")
        return SqlSession(opts, partial(self.candidates, i))

    async def _create_table(self, limiter: anyio.CapacityLimiter) -> bool:
        session = self._session(0)
        clock = self.publish.pace
        last = ""
        while True:
            try:
                with anyio.fail_after(self.op_timeout_s):
                    version = await anyio.to_thread.run_sync(
                        partial(_create_table, session),
                        abandon_on_cancel=True,
                        limiter=limiter,
                    )
                self.write_sql = write_statement(version)
                if self.splits > 0:
                    await self._split(session, limiter)
                await close_soon(session, limiter)
                self.publish.notice("info", "kv: table kv ready; workload starting")
                return True
            except (SqlUnavailable, psycopg2.Error, TimeoutError) as exc:
                text = exc.message if isinstance(exc, SqlUnavailable) else describe(exc)
                if text != last:
                    self.publish.notice("warning", f"kv: cannot create table kv yet: {text}")
                    last = text
                if isinstance(exc, TimeoutError):
                    session = self._session(0)
                await clock.sleep(2.0)

    async def _split(self, session: SqlSession, limiter: anyio.CapacityLimiter) -> None:
        """Pre-split like the 2017 init pod's ``kv --splits=100``; refusal is only a notice."""
        points = ", ".join(f"({p})" for p in split_points(self.splits))
        try:
            with anyio.fail_after(self.op_timeout_s):
                await anyio.to_thread.run_sync(
                    partial(session.fetch, f"ALTER TABLE kv SPLIT AT VALUES {points}"),
                    abandon_on_cancel=True,
                    limiter=limiter,
                )
            self.publish.notice(
                "info", f"kv: {self.splits} split points made ({self.splits + 1} ranges)"
            )
        except (SqlUnavailable, psycopg2.Error, TimeoutError) as exc:
            text = exc.message if isinstance(exc, SqlUnavailable) else describe(exc)
            self.publish.notice("warning", f"kv: splits refused: {text}")

    def _next_op(self) -> tuple[str, tuple[object, ...]]:
        if self._rng.random() * 100 < self.read_percent and self._written > 0:
            return READ, (key_of(self._rng.randrange(self._written)),)
        seq, self._written = self._written, self._written + 1
        return self.write_sql, (key_of(seq), psycopg2.Binary(self._rng.randbytes(self.block_bytes)))

    async def _worker(self, i: int, rate: RateLimiter, limiter: anyio.CapacityLimiter) -> None:
        sessions = [self._session(i)]
        try:
            await self._work(i, sessions, rate, limiter)
        finally:
            await close_soon(sessions[-1], limiter)

    async def _work(
        self,
        i: int,
        sessions: list[SqlSession],
        rate: RateLimiter,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        session = sessions[-1]
        lost_in_row = 0
        while True:
            await rate.wait()
            sql, params = self._next_op()
            op = partial(run_once, partial(session.fetch, sql, params))
            try:
                with anyio.fail_after(self.op_timeout_s):
                    ms = await anyio.to_thread.run_sync(op, abandon_on_cancel=True, limiter=limiter)
            except OpFailed as exc:
                self.stats.error(exc.ambiguous)
                if exc.lost:
                    lost_in_row += 1
                    await self.publish.pace.sleep(min(1.0, 0.05 * 2**lost_in_row))
                continue
            except TimeoutError:
                self.stats.error(False)
                session = self._session(i)  # the abandoned call keeps the old one
                sessions.append(session)
                continue
            lost_in_row = 0
            self.stats.ok(ms)

    async def _sampler(self) -> None:
        clock = self.publish.pace
        ambiguous = 0
        while True:
            await clock.sleep(self.sample_every_s)
            self.publish(self.stats.tick(clock.now()))
            if self.stats.ambiguous_total != ambiguous:
                ambiguous = self.stats.ambiguous_total
                self.publish.notice("warning", f"kv: {ambiguous} ambiguous results (40003) so far")
