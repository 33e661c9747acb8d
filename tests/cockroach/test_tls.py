"""Secure mode: the monitor, the workload's connections and the probes verify the
cluster's own CA, and nothing else.

Real TLS end to end: fake nodes whose SQL port negotiates TLS as pgwire does (the embedded
PostgreSQL is built without SSL, so the fake node's front door does the handshake) and
whose HTTP port serves TLS, both with a server certificate signed by a test CA made with
``cryptography``
(``engine.kube.pki``, the same code that makes a secure run's CA). The monitor connects with
``sslmode=verify-full``; the probes hand httpx an SSL context holding that CA only. A
different CA is refused, with one clear line.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from engine.clock import ScaledClock
from engine.cockroach.book import NodeBook
from engine.cockroach.classify import Liveness
from engine.cockroach.cluster import CockroachCluster
from engine.cockroach.connection import ConnectOptions, Endpoint, SqlSession, SqlUnavailable
from engine.cockroach.probes import NodeProbes
from engine.cockroach.publish import Publisher
from engine.cockroach.queries import NodeRow
from engine.cockroach.tls import ClusterTrust, cluster_trust
from engine.config.loader import load_demo
from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import MonitorStatus, Notice, ProbeObserved
from engine.kube.pki import cert_pem, issue_leaf, make_ca, write_private

from .events import EventCollector
from .local_cluster import LocalCluster, ServerTls


@dataclass(frozen=True)
class Pki:
    ca: Path
    wrong_ca: Path
    server: ServerTls


def make_pki(base: Path, hosts: list[str]) -> Pki:
    ca = make_ca("Cockroach CA")
    other = make_ca("Cockroach CA")  # same name, different key: only the key tells them apart
    leaf = issue_leaf(ca, "node", server=True, dns=("localhost", "node"), ips=tuple(hosts))
    write_private(base / "ca.crt", cert_pem(ca.cert))
    write_private(base / "wrong-ca.crt", cert_pem(other.cert))
    write_private(base / "node.crt", cert_pem(leaf.cert))
    write_private(base / "node.key", leaf.key_pem)
    for name in ("ca.crt", "wrong-ca.crt", "node.crt"):
        (base / name).chmod(0o644)
    return Pki(base / "ca.crt", base / "wrong-ca.crt", ServerTls(base / "ca.crt", *_leaf(base)))


def _leaf(base: Path) -> tuple[Path, Path]:
    return base / "node.crt", base / "node.key"


@pytest.fixture(scope="module")
def secure_cluster() -> Iterator[tuple[LocalCluster, Pki]]:
    base = Path(tempfile.mkdtemp(prefix="crossroom-crdb-tls-", dir="/tmp"))
    subnet = random.randrange(10, 250)
    pki_dir = base / "pki"
    pki = make_pki(pki_dir, [f"127.0.{subnet}.2", f"127.0.{subnet}.3"])
    for p in [pki_dir, base]:
        p.chmod(0o755)
    cluster = LocalCluster(
        base / "nodes",
        [("a", 1), ("b", 1)],
        subnet=subnet,
        ttl=2.0,
        heartbeat=1.0,
        status_every=1.0,
        tls=pki.server,
    )
    with cluster:
        yield cluster, pki
    shutil.rmtree(base, ignore_errors=True)


# --- where the settings come from (pure) ------------------------------------------------


def test_urls_win_then_the_demo_file_then_the_runs_own_ca(tmp_path: Path) -> None:
    url = {"sslmode": "verify-ca", "sslrootcert": "/from/url.crt"}
    t = cluster_trust(url, secure=True, sslmode="verify-full", sslrootcert="/from/demo.crt")
    assert (t.sslmode, t.sslrootcert) == ("verify-ca", "/from/url.crt")
    t = cluster_trust({}, secure=True, sslrootcert="/from/demo.crt", certs_dir=tmp_path)
    assert (t.sslmode, t.sslrootcert) == ("verify-full", "/from/demo.crt")
    t = cluster_trust({}, secure=True, certs_dir=tmp_path)
    assert t.sslrootcert == str(tmp_path / "ca.crt")
    assert t.sql_params()["sslcert"] == str(tmp_path / "client.root.crt")
    assert cluster_trust({}, secure=False).sql_params() == {"sslmode": "disable"}


@pytest.mark.parametrize(
    ("url", "demo_mode", "problem"),
    [
        ({}, "", "no CA to verify it with"),
        ({"sslmode": "require", "sslrootcert": "/ca.crt"}, "", "does not verify its CA"),
        ({}, "disable", "does not verify its CA"),
        ({"sslrootcert": "system"}, "", "system store"),
        ({"sslmode": "sometimes"}, "", "not a libpq sslmode"),
    ],
)
def test_secure_mode_never_goes_unverified(
    url: dict[str, str], demo_mode: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as info:
        cluster_trust(url, secure=True, sslmode=demo_mode)
    assert "\n" not in str(info.value)


def test_the_http_context_trusts_the_given_ca_only(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, ["127.0.0.1"])
    ctx = ClusterTrust("verify-full", str(pki.ca)).http_context()
    assert ctx.check_hostname and len(ctx.get_ca_certs()) == 1  # no system store
    assert not ClusterTrust("verify-ca", str(pki.ca)).http_context().check_hostname
    with pytest.raises(ValueError, match="cannot read sslrootcert"):
        ClusterTrust("verify-full", str(tmp_path / "missing.crt")).http_context()


# --- against real TLS servers -----------------------------------------------------------


@pytest.mark.slow
def test_sql_sessions_verify_full_against_the_clusters_ca(
    secure_cluster: tuple[LocalCluster, Pki],
) -> None:
    cluster, pki = secure_cluster
    n = cluster.node(1)
    trust = cluster_trust({}, secure=True, sslrootcert=str(pki.ca))
    options = ConnectOptions(params=tuple(trust.sql_params().items()))
    session = SqlSession(options, lambda: [Endpoint(n.host, n.sql_port)])
    assert session.fetch("SELECT 1") == [(1,)]
    assert session.conn.info.ssl_in_use and session.conn.info.ssl_attribute("protocol")
    session.close()


def secure_monitor(cluster: LocalCluster, ca: Path) -> CockroachCluster:
    """The real monitor and probes on every node of the secure fixture, trusting ``ca``."""
    return CockroachCluster(
        ClusterConfig(
            sql_urls=tuple(n.sql_address for n in cluster.nodes),
            http_port=cluster.http_port or 0,
            secure=True,
            sslrootcert=ca,
            settings=(),
        ),
        WorkloadConfig(enabled=False),
    )


@pytest.mark.anyio
@pytest.mark.slow
async def test_monitor_and_probes_verify_the_clusters_own_ca(
    secure_cluster: tuple[LocalCluster, Pki],
) -> None:
    cluster, pki = secure_cluster
    rec = EventCollector()
    backend = secure_monitor(cluster, pki.ca)
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.run, rec, ScaledClock(1.0))

        def all_ready(_: object) -> bool:
            s = rec.state
            return s.count("live") == 2 and all(n.probe == "ready" for n in s.nodes.values())

        await rec.wait_for(all_ready, within=30)
        tg.cancel_scope.cancel()
    assert rec.state.monitor == "connected"
    assert backend.probes is not None and backend.probes.scheme == "https"
    assert [e for e in rec.of(Notice) if isinstance(e, Notice) and e.level == "error"] == []


@pytest.mark.anyio
@pytest.mark.slow
async def test_a_url_naming_the_right_ca_wins_over_the_demo_files_wrong_one(
    secure_cluster: tuple[LocalCluster, Pki],
) -> None:
    """libpq semantics: the URL's own ``sslrootcert`` wins."""
    cluster, pki = secure_cluster
    n = cluster.node(2)
    url = f"postgresql://root@{n.sql_address}/defaultdb?sslmode=verify-full&sslrootcert={pki.ca}"
    rec = EventCollector()
    backend = CockroachCluster(
        ClusterConfig(sql_urls=(url,), secure=True, sslrootcert=pki.wrong_ca, settings=()),
        WorkloadConfig(enabled=False),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.run, rec, ScaledClock(1.0))
        await rec.wait_for(lambda _: rec.state.count("live") == 2, within=30)
        tg.cancel_scope.cancel()


@pytest.mark.anyio
@pytest.mark.slow
async def test_a_wrong_ca_is_refused_with_one_clear_line(
    secure_cluster: tuple[LocalCluster, Pki],
) -> None:
    cluster, pki = secure_cluster
    rec = EventCollector()
    backend = secure_monitor(cluster, pki.wrong_ca)
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.run, rec, ScaledClock(1.0))
        await rec.wait_for(lambda e: isinstance(e, MonitorStatus) and e.state == "down", within=15)
        await anyio.sleep(2.0)  # still refusing, and still only one line
        tg.cancel_scope.cancel()
    errors = [e for e in rec.of(Notice) if isinstance(e, Notice) and e.level == "error"]
    assert len(errors) == 1, errors
    line = errors[0].message
    assert "certificate verify failed" in line and "\n" not in line
    assert len(rec.state.nodes) == 0  # nothing was believed from an unverified server


@pytest.mark.anyio
@pytest.mark.slow
async def test_probes_refuse_a_node_certificate_from_another_ca(
    secure_cluster: tuple[LocalCluster, Pki],
) -> None:
    cluster, pki = secure_cluster
    n = cluster.node(1)
    book = NodeBook([], 26257)
    book.learn([NodeRow(Liveness(1, 1, 2 * 10**18), address=f"{n.host}:26357")], {1: "live"})
    rec = EventCollector()
    for ca, want in ((pki.ca, "ready"), (pki.wrong_ca, "down")):
        probes = NodeProbes(
            book,
            Publisher(rec),
            n.http_port,
            tls=ClusterTrust("verify-full", str(ca)),
        )
        mark = len(rec.events)
        async with anyio.create_task_group() as tg:
            tg.start_soon(probes.run)
            e = await rec.wait_for(lambda e: isinstance(e, ProbeObserved), within=10, after=mark)
            tg.cancel_scope.cancel()
        assert isinstance(e, ProbeObserved) and e.status == want
    assert isinstance(e, ProbeObserved)
    assert e.detail.startswith("TLS: certificate verify failed") and "\n" not in e.detail


def test_the_demo_files_ca_is_read_relative_to_it_and_given_to_the_monitor(
    tmp_path: Path,
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_text("x")
    demo = tmp_path / "demo.yaml"
    demo.write_text(
        "name: d\ncluster:\n  secure: true\n  sslmode: verify-ca\n  sslrootcert: certs/ca.crt\n"
        "clouds:\n  - name: c\n    provider: sim\n"
    )
    config = load_demo(demo)
    assert config.cluster.sslrootcert == tmp_path / "certs" / "ca.crt"
    assert config.cluster.sslmode == "verify-ca"


@pytest.mark.slow
def test_a_secure_node_refuses_a_plaintext_client(
    secure_cluster: tuple[LocalCluster, Pki],
) -> None:
    """As a secure CockroachDB does: what the old ``sslmode=disable`` default met."""
    cluster, _ = secure_cluster
    n = cluster.node(1)
    session = SqlSession(
        ConnectOptions(params=(("sslmode", "disable"),)), lambda: [Endpoint(n.host, n.sql_port)]
    )
    with pytest.raises(SqlUnavailable, match="SSL connection required") as info:
        session.fetch("SELECT 1")
    assert "\n" not in info.value.message
