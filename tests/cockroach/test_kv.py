"""The kv workload against real servers: rate, errors through a kill, real percentiles."""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import psycopg2
import pytest

from engine.cockroach.book import NodeBook
from engine.cockroach.connection import ConnectOptions, Endpoint, SqlSession, options_from_urls
from engine.cockroach.kv import (
    INSERT_ON_CONFLICT,
    UPSERT,
    KvStats,
    KvWorkload,
    OpFailed,
    _create_table,
    key_of,
    percentile,
    run_once,
    split_points,
    write_statement,
)
from engine.cockroach.publish import Publisher
from engine.events import WorkloadSample

from .events import EventCollector
from .local_cluster import LocalCluster


def test_percentile_is_hdr_style_nearest_rank() -> None:
    data = sorted(float(i) for i in range(1, 101))
    assert percentile(data, 0.50) == 50.0
    assert percentile(data, 0.95) == 95.0
    assert percentile(data, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0


def test_stats_tick_reports_the_interval_and_cumulative_errors() -> None:
    stats = KvStats()
    stats.tick(10.0)
    for ms in (1.0, 2.0, 3.0, 40.0):
        stats.ok(ms)
    stats.error(ambiguous=True)
    s = stats.tick(12.0)
    assert (s.ops_per_s, s.errors_total, s.p50_ms, s.max_ms) == (2.0, 1, 2.0, 40.0)
    s2 = stats.tick(13.0)
    assert (s2.ops_per_s, s2.errors_total, s2.p99_ms) == (0.0, 1, 0.0)
    assert stats.ambiguous_total == 1


def test_keys_spread_over_the_signed_64_bit_space() -> None:
    keys = {key_of(i) for i in range(1000)}
    assert len(keys) == 1000
    assert min(keys) < -(2**62) and max(keys) > 2**62
    assert all(-(2**63) <= k < 2**63 for k in keys)


def test_write_is_upsert_when_the_server_says_cockroachdb() -> None:
    crdb = "CockroachDB CCL v25.2.4 (x86_64-pc-linux-gnu, built 2025/07/25, go1.23.7)"
    assert write_statement(crdb) == UPSERT == "UPSERT INTO kv (k, v) VALUES (%s, %s)"
    pg = "PostgreSQL 18.6 on x86_64-pc-linux-gnu, compiled by gcc 13.3.0, 64-bit"
    assert write_statement(pg) == INSERT_ON_CONFLICT
    assert write_statement("") == INSERT_ON_CONFLICT


def test_splits_are_n_points_as_kv_go_split_finder() -> None:
    """``--splits N`` is N split points, N+1 ranges; values worked out by hand from
    splitFinder's Go arithmetic (division truncates towards zero)."""
    assert split_points(0) == []
    assert split_points(1) == [-1]
    assert split_points(2) == [-3074457345618258604, 3074457345618258600]
    assert split_points(3) == [-4611686018427387905, -2, 4611686018427387901]
    points = split_points(100)
    assert len(points) == 100 and points == sorted(set(points))
    assert all(-(2**63) < p < 2**63 - 1 for p in points)


@asynccontextmanager
async def running_workload(
    cluster: LocalCluster, rate: float, concurrency: int, speed: float = 1.0
) -> AsyncIterator[tuple[KvWorkload, EventCollector]]:
    rec = EventCollector()
    seeds, options = options_from_urls(cluster.sql_urls, 26257)
    book = NodeBook(seeds, 26257)
    kv = KvWorkload(
        options=options,
        candidates=book.spread,
        publish=Publisher(rec),
        read_percent=50,
        max_rate=rate,
        concurrency=concurrency,
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(kv.run)
        yield kv, rec
        tg.cancel_scope.cancel()


def samples(rec: EventCollector) -> list[WorkloadSample]:
    return [e for e in rec.of(WorkloadSample) if isinstance(e, WorkloadSample)]


@pytest.mark.anyio
@pytest.mark.slow
async def test_rate_respects_max_rate_and_percentiles_are_real(
    healthy_cluster: LocalCluster, record_property: pytest.RecordProperty
) -> None:
    # The room's demo clock runs 5x (a rehearsal --speed); the real cluster's load must not.
    async with running_workload(healthy_cluster, rate=200, concurrency=4, speed=5.0) as (kv, rec):
        await rec.wait_for(lambda e: len(samples(rec)) >= 7, within=15)
    got = samples(rec)[1:7]  # the first second includes connecting and CREATE TABLE
    rate = statistics.fmean(s.ops_per_s for s in got)
    record_property("kv_rate_at_200", round(rate, 1))
    print(f"\nkv at max_rate=200: {rate:.1f} ops/s; last sample {got[-1]}")
    assert rate == pytest.approx(200, rel=0.10)
    assert kv.write_sql == INSERT_ON_CONFLICT  # asked the server: PostgreSQL, not CockroachDB
    assert all(s.ops_per_s <= 200 * 1.15 for s in got)
    for s in got:
        assert 0 < s.p50_ms <= s.p95_ms <= s.p99_ms <= s.max_ms < 1000
        assert s.errors_total == 0
    # The writes really landed: the servers hold kv rows.
    total = 0
    for n in healthy_cluster.nodes:
        with psycopg2.connect(n.url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM kv")
            total += cur.fetchone()[0]
        conn.close()
    assert total > 0.3 * kv.stats.ops_total


@pytest.mark.anyio
@pytest.mark.slow
async def test_errors_are_counted_through_a_kill_and_load_continues(
    healthy_cluster: LocalCluster,
) -> None:
    async with running_workload(healthy_cluster, rate=150, concurrency=6) as (_kv, rec):
        await rec.wait_for(lambda e: len(samples(rec)) >= 2, within=10)
        before = samples(rec)[-1].errors_total
        healthy_cluster.kill(1)
        mark = len(rec.events)
        await rec.wait_for(
            lambda e: isinstance(e, WorkloadSample) and e.errors_total > before,
            within=5,
            after=mark,
        )
        await anyio.sleep(3.5)
    after = samples(rec)
    assert after[-1].errors_total > before
    # Workers whose node died moved on: the last seconds run near the full rate again.
    assert statistics.fmean(s.ops_per_s for s in after[-2:]) > 0.8 * 150


@pytest.mark.slow
def test_one_attempt_per_operation_40001_is_an_error_and_40003_ambiguous(
    healthy_cluster: LocalCluster,
) -> None:
    n = healthy_cluster.node(1)
    session = SqlSession(ConnectOptions(), lambda: [Endpoint(n.host, n.sql_port)])
    # A sequence counts attempts outside the failing statement's transaction.
    session.fetch(
        """
        CREATE SEQUENCE IF NOT EXISTS attempts;
        CREATE OR REPLACE FUNCTION contended(fail_first BIGINT) RETURNS INT
        LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('attempts') <= fail_first THEN
            RAISE EXCEPTION 'restart transaction' USING ERRCODE = '40001';
          END IF;
          RETURN 1;
        END $$;
        """
    )
    session.fetch("SELECT setval('attempts', 1, false)")
    with pytest.raises(OpFailed) as restart:
        run_once(lambda: session.fetch("SELECT contended(1)"))
    assert restart.value.code == "40001" and "40001" in restart.value.message
    assert not restart.value.ambiguous and not restart.value.lost
    assert session.fetch("SELECT last_value FROM attempts")[0][0] == 1  # no retry
    assert run_once(lambda: session.fetch("SELECT contended(1)")) >= 0  # the next op is new

    with pytest.raises(OpFailed) as ambiguous:
        run_once(
            lambda: session.fetch(
                "DO $$ BEGIN RAISE EXCEPTION 'result is ambiguous' USING ERRCODE = '40003'; END $$"
            )
        )
    assert ambiguous.value.ambiguous
    session.close()


@pytest.mark.slow
def test_the_write_statement_comes_from_asking_the_server(healthy_cluster: LocalCluster) -> None:
    """A server whose ``version()`` says CockroachDB gets UPSERT, which PostgreSQL refuses:
    proof that the choice follows the server's answer, not a setting."""
    n = healthy_cluster.node(2)
    where = [Endpoint(n.host, n.sql_port)]
    plain = SqlSession(ConnectOptions(), lambda: where)
    assert write_statement(_create_table(plain)) == INSERT_ON_CONFLICT
    plain.fetch(
        """
        CREATE SCHEMA IF NOT EXISTS looks_like_crdb;
        CREATE OR REPLACE FUNCTION looks_like_crdb.version() RETURNS text LANGUAGE sql
        AS $$ SELECT 'CockroachDB CCL v25.2.4 (x86_64-pc-linux-gnu, built 2025/07/25)' $$;
        """
    )
    try:
        options = ConnectOptions(
            params=(("options", "-c search_path=looks_like_crdb,pg_catalog,public"),)
        )
        crdb = SqlSession(options, lambda: where)
        sql = write_statement(_create_table(crdb))
        assert sql == UPSERT
        with pytest.raises(OpFailed) as refused:
            run_once(lambda: crdb.fetch(sql, (1, psycopg2.Binary(b"x"))))
        assert refused.value.code == "42601"  # PostgreSQL has no UPSERT
        crdb.close()
    finally:
        plain.fetch("DROP SCHEMA looks_like_crdb CASCADE")
        plain.close()
