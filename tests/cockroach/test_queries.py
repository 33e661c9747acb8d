"""Row parsing, cluster totals and node naming (pure)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg2
import pytest

from engine.cockroach.book import NodeBook
from engine.cockroach.classify import Liveness
from engine.cockroach.connection import Endpoint
from engine.cockroach.queries import (
    NodeRow,
    StoreTotals,
    cluster_totals,
    locality_tier,
    parse_liveness_rows,
    parse_store_rows,
)

from . import fake_schema as sch
from .local_cluster import LocalCluster

TS = datetime(2026, 11, 27, 5, 0, 0)


def liveness_row(node_id: int, **kw: object) -> tuple[object, ...]:
    base: dict[str, object] = {
        "epoch": 1,
        "expiration": "1795756284.355475903,0",
        "draining": False,
        "membership": "active",
        "updated_at": TS,
        "address": f"10.0.0.{node_id}:26257",
        "advertise_address": f"n{node_id}.example:26257",
        "sql_address": f"10.0.0.{node_id}:26257",
        "advertise_sql_address": f"n{node_id}.example:26257",
        "locality": f"cloud=c{node_id % 2},region=r1",
        "is_live": True,
    }
    base.update(kw)
    return (node_id, *base.values())


def test_parse_liveness_rows_prefers_advertised_addresses() -> None:
    nodes, problems = parse_liveness_rows([liveness_row(1), liveness_row(2, draining=True)])
    assert problems == []
    assert nodes[0].liveness == Liveness(1, 1, 1_795_756_284_355_475_903, False, "active")
    assert nodes[0].address == "n1.example:26257" and nodes[0].sql_address == "n1.example:26257"
    assert nodes[1].liveness.draining and nodes[1].gossip_live


def test_parse_liveness_rows_survives_a_missing_gossip_row_and_bad_rows() -> None:
    left_join_miss = (3, 2, "1795756284.0,0", False, "active", TS, *([None] * 6))
    bad = liveness_row(4, expiration="garbage")
    nodes, problems = parse_liveness_rows([left_join_miss, bad])
    assert [n.liveness.node_id for n in nodes] == [3]
    assert nodes[0].address == "" and nodes[0].locality == "" and not nodes[0].gossip_live
    assert len(problems) == 1 and "HLC" in problems[0]


def test_store_totals_leave_out_frozen_rows_of_nodes_that_are_not_live() -> None:
    rows = [
        (1, 1, Decimal(200), Decimal(600), Decimal(200), Decimal(150), Decimal(0)),
        (2, 1, Decimal(200), Decimal(600), Decimal(200), Decimal(150), Decimal(1)),
        (3, 1, Decimal(200), Decimal(600), Decimal(200), Decimal(0), Decimal(0)),  # dead, frozen
    ]
    stores = parse_store_rows(rows)
    assert stores[2] == StoreTotals(2, 1, 200, 600, 200, 150, 1)
    total = cluster_totals(stores, [1, 2])
    assert (total.ranges, total.replicas, total.under_replicated, total.unavailable) == (
        400,
        1200,
        300,
        1,
    )
    assert cluster_totals(stores, []).ranges == 0


def test_locality_tier() -> None:
    assert locality_tier("cloud=aws,region=us-east", "cloud") == "aws"
    assert locality_tier("region=us-east, cloud=gce", "cloud") == "gce"
    assert locality_tier("region=x", "cloud") == ""


def row(node_id: int, cloud: str, sql: str = "") -> NodeRow:
    return NodeRow(
        Liveness(node_id, 1, 2 * 10**18),
        address=f"h{node_id}:26357",
        sql_address=sql,
        locality=f"cloud={cloud}",
    )


def test_book_names_nodes_by_rank_within_their_cloud_and_keeps_names() -> None:
    book = NodeBook([Endpoint("seed", 26257)], 26257)
    book.learn([row(5, "b"), row(2, "a"), row(9, "a"), row(3, "b")], {})
    names = {n.node_id: n.name for n in book.nodes.values()}
    assert names == {2: "a/node-1", 9: "a/node-2", 3: "b/node-1", 5: "b/node-2"}
    changed = book.learn([row(2, "a"), row(12, "a")], {2: "suspect"})
    assert [(n.node_id, n.name, n.liveness) for n in changed] == [
        (2, "a/node-1", "suspect"),
        (12, "a/node-3", ""),
    ]
    assert book.learn([row(2, "a")], {2: "suspect"}) == []


def test_book_candidates_put_live_nodes_first_and_derive_sql_addresses() -> None:
    book = NodeBook([Endpoint("seed", 26257)], 26000)
    book.learn([row(1, "a", "h1:26001"), row(2, "a")], {1: "suspect", 2: "live"})
    assert book.candidates == (
        Endpoint("h2", 26000),
        Endpoint("seed", 26257),
        Endpoint("h1", 26001),
    )
    assert book.spread(1)[0] == Endpoint("seed", 26257)


def test_book_uses_the_callers_names() -> None:
    book = NodeBook([], 26257, node_name=lambda cloud, node_id, addr: f"{cloud}/n{node_id}")
    book.learn([row(4, "z")], {4: "live"})
    assert book.nodes[4].name == "z/n4"


@pytest.mark.slow
def test_fake_is_live_is_now_before_the_liveness_expiration(healthy_cluster: LocalCluster) -> None:
    """``gossip_nodes.is_live`` as CockroachDB computes it (``crdbInternalGossipNodesTable``):
    the serving node's clock before the liveness expiration, whatever gossiped it lately."""
    n = healthy_cluster.node(1)
    conn = psycopg2.connect(n.url)
    try:
        with conn.cursor() as cur:  # one transaction, rolled back: other tests never see it
            cur.execute("SELECT extract(epoch FROM clock_timestamp())")
            now = cur.fetchone()[0]
            for node_id, offset in ((98, Decimal(3600)), (99, Decimal(-1))):
                exp = f"{now + offset:.9f},0"
                cur.execute(sch.UPSERT_LIVENESS, (node_id, 1, exp, False, False, "active"))
                cur.execute(
                    sch.UPSERT_NODE,
                    (node_id, "h:1", "h:1", "h:2", "h:2", "cloud=x", TS, 0, 0),
                )
            cur.execute(
                "SELECT node_id, is_live FROM crdb_internal.gossip_nodes "
                "WHERE node_id IN (98, 99) ORDER BY node_id"
            )
            # 99 heartbeated just now (updated_at is fresh) but its expiration has passed.
            assert cur.fetchall() == [(98, True), (99, False)]
    finally:
        conn.rollback()
        conn.close()
