"""Multi-host DSNs and the session's failure handling, against a real server."""

from __future__ import annotations

import time

import psycopg2
import pytest

from engine.cockroach.connection import (
    ConnectOptions,
    Endpoint,
    SqlSession,
    SqlUnavailable,
    options_from_urls,
    parse_address,
    parse_sql_url,
)

from .local_cluster import LocalCluster


def test_parse_address_forms() -> None:
    assert parse_address("10.0.0.1:26257", 1) == Endpoint("10.0.0.1", 26257)
    assert parse_address("node-1.cockroachdb", 26257) == Endpoint("node-1.cockroachdb", 26257)
    assert parse_address("[::1]:26258", 1) == Endpoint("::1", 26258)
    assert str(Endpoint("::1", 26258)) == "[::1]:26258"
    with pytest.raises(ValueError, match="host:port"):
        parse_address("a:b:c", 1)


def test_parse_sql_url_keeps_params_and_every_host() -> None:
    eps, params = parse_sql_url(
        "postgresql://root:s3cret@h1:26257,h2:26258/defaultdb?sslmode=verify-full", 26257
    )
    assert eps == [Endpoint("h1", 26257), Endpoint("h2", 26258)]
    assert params["password"] == "s3cret" and params["sslmode"] == "verify-full"
    assert parse_sql_url("h3:1234", 26257) == ([Endpoint("h3", 1234)], {})


def test_dsn_has_bounds_and_options_merge_hosts() -> None:
    eps, opts = options_from_urls(["postgresql://bob@a:1/db", "b:2", "a:1"], 26257)
    assert eps == [Endpoint("a", 1), Endpoint("b", 2)]
    dsn = psycopg2.extensions.parse_dsn(opts.dsn(eps))
    assert dsn["host"] == "a,b" and dsn["port"] == "1,2" and dsn["user"] == "bob"
    assert dsn["dbname"] == "db"
    assert int(dsn["connect_timeout"]) >= 2 and dsn["keepalives"] == "1"
    assert "tcp_user_timeout" in dsn and "keepalives_idle" in dsn


@pytest.mark.slow
def test_session_skips_dead_hosts_and_reports_drain(healthy_cluster: LocalCluster) -> None:
    n1, n2 = healthy_cluster.node(1), healthy_cluster.node(2)
    dead = Endpoint("127.0.0.1", 9)  # nothing listens on discard: refused at once
    hosts = [dead, Endpoint(n1.host, n1.sql_port), Endpoint(n2.host, n2.sql_port)]
    session = SqlSession(ConnectOptions(), lambda: hosts)
    t0 = time.monotonic()
    assert session.connect() == hosts[1]
    assert time.monotonic() - t0 < 1.5
    assert session.fetch("SHOW statement_timeout") == [("3s",)]

    # CockroachDB answers a statement on a draining node with 57P01 "server is shutting
    # down" and closes. (A PostgreSQL backend terminated mid-statement reaches psycopg2 as a
    # plain EOF without SQLSTATE, observed with libpq 17, so the server raises the code.)
    with pytest.raises(SqlUnavailable) as info:
        session.fetch(
            "DO $$ BEGIN RAISE EXCEPTION 'server is shutting down' USING ERRCODE = '57P01'; END $$"
        )
    assert info.value.sqlstate == "57P01" and info.value.drained
    assert "drained" in info.value.message and str(hosts[1]) in info.value.message
    # The drained node is tried last: the next statement lands on the other node.
    session.fetch("SELECT 1")
    assert session.endpoint == hosts[2]
    session.close()


def test_no_reachable_host_is_one_clean_error() -> None:
    session = SqlSession(
        ConnectOptions(params=(("password", "hunter2"),)), lambda: [Endpoint("127.0.0.1", 9)]
    )
    with pytest.raises(SqlUnavailable) as info:
        session.fetch("SELECT 1")
    assert "127.0.0.1:9" in info.value.message and "hunter2" not in info.value.message
    assert "Connection refused" in info.value.message
    assert "Is the server running" not in info.value.message  # libpq's hint is dropped
