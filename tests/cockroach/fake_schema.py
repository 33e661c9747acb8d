"""CockroachDB's ``crdb_internal`` tables reproduced in PostgreSQL for the test fixture.

Column names and order follow CockroachDB (docs: reference/cockroach.md §1); types map
INT -> BIGINT (CockroachDB INT is 64-bit), STRING -> TEXT, JSON -> JSON, FLOAT -> DOUBLE
PRECISION. Differences: CockroachDB's virtual tables have no primary keys (ours do, so the
fake nodes can upsert), and ``cluster_settings`` keeps only the columns the monitor reads
plus ``type``/``public``/``description``. Each server is its own database, so the
workload's ``kv`` table is created on every one up front: that stands in for CockroachDB
replicating the schema (the workload's own ``CREATE TABLE IF NOT EXISTS`` still runs).

``gossip_nodes`` is a view, so that ``is_live`` is computed when it is read, as CockroachDB
computes it (``crdbInternalGossipNodesTable``, pkg/sql/crdb_internal.go): the serving
node's clock is before the node's liveness expiration. The node rows the fake nodes gossip
live in ``gossip_node_rows``.
"""

from __future__ import annotations

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS crdb_internal;
CREATE TABLE IF NOT EXISTS crdb_internal.gossip_liveness (
    node_id BIGINT NOT NULL PRIMARY KEY,
    epoch BIGINT NOT NULL,
    expiration TEXT NOT NULL,
    draining BOOLEAN NOT NULL,
    decommissioning BOOLEAN NOT NULL,
    membership TEXT NOT NULL,
    updated_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS crdb_internal.gossip_node_rows (
    node_id BIGINT NOT NULL PRIMARY KEY,
    network TEXT NOT NULL,
    address TEXT NOT NULL,
    advertise_address TEXT NOT NULL,
    sql_network TEXT NOT NULL,
    sql_address TEXT NOT NULL,
    advertise_sql_address TEXT NOT NULL,
    attrs JSON NOT NULL,
    locality TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    server_version TEXT NOT NULL,
    build_tag TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ranges BIGINT NOT NULL,
    leases BIGINT NOT NULL
);
CREATE OR REPLACE VIEW crdb_internal.gossip_nodes AS
SELECT n.node_id, n.network, n.address, n.advertise_address, n.sql_network, n.sql_address,
       n.advertise_sql_address, n.attrs, n.locality, n.cluster_name, n.server_version,
       n.build_tag, n.started_at,
       coalesce(extract(epoch FROM clock_timestamp())
                < split_part(l.expiration, ',', 1)::numeric, false) AS is_live,
       n.ranges, n.leases
FROM crdb_internal.gossip_node_rows AS n
LEFT JOIN crdb_internal.gossip_liveness AS l ON l.node_id = n.node_id;
CREATE TABLE IF NOT EXISTS crdb_internal.kv_store_status (
    node_id BIGINT NOT NULL,
    store_id BIGINT NOT NULL,
    attrs JSON NOT NULL,
    capacity BIGINT NOT NULL,
    available BIGINT NOT NULL,
    used BIGINT NOT NULL,
    logical_bytes BIGINT NOT NULL,
    range_count BIGINT NOT NULL,
    lease_count BIGINT NOT NULL,
    writes_per_second DOUBLE PRECISION NOT NULL,
    bytes_per_replica JSON NOT NULL,
    writes_per_replica JSON NOT NULL,
    metrics JSON NOT NULL,
    properties JSON NOT NULL,
    PRIMARY KEY (node_id, store_id)
);
CREATE TABLE IF NOT EXISTS public.kv (k BIGINT NOT NULL PRIMARY KEY, v BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS crdb_internal.cluster_settings (
    variable TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    type TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    description TEXT NOT NULL
);
"""

UPSERT_SETTING = """
INSERT INTO crdb_internal.cluster_settings (variable, value, type, public, description)
VALUES (%s, %s, 'd', true, '') ON CONFLICT (variable) DO NOTHING
"""

UPSERT_LIVENESS = """
INSERT INTO crdb_internal.gossip_liveness
    (node_id, epoch, expiration, draining, decommissioning, membership, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, now() AT TIME ZONE 'UTC')
ON CONFLICT (node_id) DO UPDATE SET
    epoch = excluded.epoch, expiration = excluded.expiration, draining = excluded.draining,
    decommissioning = excluded.decommissioning, membership = excluded.membership,
    updated_at = excluded.updated_at
"""

UPSERT_NODE = """
INSERT INTO crdb_internal.gossip_node_rows
    (node_id, network, address, advertise_address, sql_network, sql_address,
     advertise_sql_address, attrs, locality, cluster_name, server_version, build_tag,
     started_at, ranges, leases)
VALUES (%s, 'tcp', %s, %s, 'tcp', %s, %s, '{}', %s, 'crossroom-fixture', '25.2',
        'v25.2.4-fixture', %s, %s, %s)
ON CONFLICT (node_id) DO UPDATE SET
    address = excluded.address, advertise_address = excluded.advertise_address,
    sql_address = excluded.sql_address, advertise_sql_address = excluded.advertise_sql_address,
    locality = excluded.locality, started_at = excluded.started_at,
    ranges = excluded.ranges, leases = excluded.leases
"""

UPSERT_STORE = """
INSERT INTO crdb_internal.kv_store_status
    (node_id, store_id, attrs, capacity, available, used, logical_bytes, range_count,
     lease_count, writes_per_second, bytes_per_replica, writes_per_replica, metrics, properties)
VALUES (%s, %s, '{}', 107374182400, 100000000000, %s, %s, %s, %s, %s,
        '{}', '{}', %s, '{"read_only": false, "encrypted": false}')
ON CONFLICT (node_id, store_id) DO UPDATE SET
    used = excluded.used, logical_bytes = excluded.logical_bytes,
    range_count = excluded.range_count, lease_count = excluded.lease_count,
    writes_per_second = excluded.writes_per_second, metrics = excluded.metrics
"""

READ_LIVENESS = """
SELECT node_id, epoch, expiration, membership FROM crdb_internal.gossip_liveness
"""

READ_SETTING = "SELECT value FROM crdb_internal.cluster_settings WHERE variable = %s"
