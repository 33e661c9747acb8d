"""The monitor's SQL and the parsing of its rows; pure apart from the strings sent.

Every statement here runs unchanged on CockroachDB and on the PostgreSQL test fixture,
whose ``crdb_internal`` schema copies CockroachDB's column names and types. Differences
that remain are listed beside each statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.cockroach.classify import Liveness, parse_expiration

CLUSTER_CLOCK = "SELECT extract(epoch FROM now())"
"""The cluster's clock in Unix seconds (DECIMAL on CockroachDB, NUMERIC on PostgreSQL).

psycopg2 hands it over as a ``Decimal``; classification turns it into integer nanoseconds
and compares it with expirations in Python, instead of CockroachDB's
``split_part(expiration, ',', 1)::decimal > now()::decimal`` (``now()::decimal`` does not
exist in PostgreSQL). Never a float: see ``classify``.
"""

LIVENESS = """
SELECT l.node_id, l.epoch, l.expiration, l.draining, l.membership, l.updated_at,
       n.address, n.advertise_address, n.sql_address, n.advertise_sql_address,
       n.locality, n.is_live
FROM crdb_internal.gossip_liveness AS l
LEFT JOIN crdb_internal.gossip_nodes AS n ON n.node_id = l.node_id
ORDER BY l.node_id
"""
"""What ``cockroach node status`` reads (gossip_liveness LEFT JOIN gossip_nodes), local RAM.

``ON n.node_id = l.node_id`` instead of ``USING (node_id)`` only to keep the columns
qualified; both work in both databases.
"""

STORE_TOTALS = """
SELECT node_id,
       count(*),
       coalesce(sum((metrics->>'ranges')::DECIMAL), 0),
       coalesce(sum((metrics->>'replicas')::DECIMAL), 0),
       coalesce(sum((metrics->>'replicas.leaseholders')::DECIMAL), 0),
       coalesce(sum((metrics->>'ranges.underreplicated')::DECIMAL), 0),
       coalesce(sum((metrics->>'ranges.unavailable')::DECIMAL), 0)
FROM crdb_internal.kv_store_status
GROUP BY node_id
ORDER BY node_id
"""
"""Per-node sums of the store metrics ``cockroach node status --ranges`` shows.

Fans out over the cluster (expensive), so it runs less often than ``LIVENESS``. Summed
per node so that frozen rows of nodes that are not live can be left out in Python.
``metrics`` is JSONB in CockroachDB and JSON in the fixture; ``->>`` works on both.
"""

SETTING_VALUE = "SELECT value FROM crdb_internal.cluster_settings WHERE variable = %s"
"""The value in effect; the fixture has the same two columns (CockroachDB has more)."""


@dataclass(frozen=True)
class NodeRow:
    """One node as the connected node's gossip sees it."""

    liveness: Liveness
    address: str = ""
    """RPC address host:port (advertised if set); its host is where the HTTP port listens."""
    sql_address: str = ""
    """SQL address host:port (advertised if set); empty on versions that share the RPC port."""
    locality: str = ""
    gossip_live: bool = False
    """``gossip_nodes.is_live`` as CockroachDB computes it (``crdbInternalGossipNodesTable``
    in pkg/sql/crdb_internal.go): the connected node's local clock is before the node's
    liveness expiration (``now < expiration``). It is the same fact as ``classify``'s
    "alive", seen through one node's clock, not a separate gossip TTL (older versions
    looked at the gossip clients key instead). Read but not used for the state: the
    state needs expiration, epoch and membership anyway, on the cluster's clock."""


@dataclass(frozen=True)
class StoreTotals:
    """Store metrics of one node, summed over its stores."""

    node_id: int
    stores: int = 0
    ranges: int = 0
    replicas: int = 0
    leaseholders: int = 0
    under_replicated: int = 0
    unavailable: int = 0


def _text(value: object) -> str:
    return "" if value is None else str(value)


def parse_liveness_rows(rows: Iterable[Sequence[Any]]) -> tuple[tuple[NodeRow, ...], list[str]]:
    """Rows of ``LIVENESS`` -> nodes, plus one problem line per row that could not be read."""
    nodes: list[NodeRow] = []
    problems: list[str] = []
    for row in rows:
        try:
            node_id, epoch, expiration, draining, membership = row[:5]
            address, adv_address, sql_address, adv_sql_address, locality, is_live = row[6:12]
            live = Liveness(
                node_id=int(node_id),
                epoch=int(epoch),
                expiration_ns=parse_expiration(str(expiration)),
                draining=bool(draining),
                membership=_text(membership) or "active",
            )
        except (ValueError, TypeError) as exc:
            problems.append(f"unreadable liveness row {row[:1]}: {exc}")
            continue
        nodes.append(
            NodeRow(
                liveness=live,
                address=_text(adv_address) or _text(address),
                sql_address=_text(adv_sql_address) or _text(sql_address),
                locality=_text(locality),
                gossip_live=bool(is_live),
            )
        )
    return tuple(nodes), problems


def _int(value: object) -> int:
    if isinstance(value, (int, Decimal, float)):
        return int(value)
    return int(Decimal(str(value)))


def parse_store_rows(rows: Iterable[Sequence[Any]]) -> dict[int, StoreTotals]:
    """Rows of ``STORE_TOTALS`` -> totals by node id."""
    out: dict[int, StoreTotals] = {}
    for row in rows:
        node_id = int(row[0])
        out[node_id] = StoreTotals(node_id, *(_int(v) for v in row[1:7]))
    return out


def cluster_totals(stores: Mapping[int, StoreTotals], serving: Iterable[int]) -> StoreTotals:
    """The cluster's health from the stores of nodes with a fresh liveness record.

    A dead node's status row stays frozen at its last write and would count its ranges
    twice; exactly one live replica per range counts a range, so live nodes' sums suffice.
    """
    keep = [stores[n] for n in serving if n in stores]
    return StoreTotals(
        node_id=0,
        stores=sum(s.stores for s in keep),
        ranges=sum(s.ranges for s in keep),
        replicas=sum(s.replicas for s in keep),
        leaseholders=sum(s.leaseholders for s in keep),
        under_replicated=sum(s.under_replicated for s in keep),
        unavailable=sum(s.unavailable for s in keep),
    )


def locality_tier(locality: str, key: str) -> str:
    """``locality_tier("cloud=aws,region=us", "cloud")`` -> ``"aws"``; ``""`` if absent."""
    for tier in locality.split(","):
        k, sep, v = tier.strip().partition("=")
        if sep and k == key:
            return v
    return ""
