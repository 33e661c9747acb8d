"""k3s mode: the locally built kubeconfig reaches a TLS API that trusts only our CA set."""

from __future__ import annotations

import base64
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
import yaml
from cryptography import x509

from engine.cockroach.classify import Liveness
from engine.cockroach.cluster import CockroachCluster
from engine.cockroach.queries import NodeRow
from engine.config.model import (
    CloudConfig,
    ClusterConfig,
    DemoConfig,
    KubernetesConfig,
    WorkloadConfig,
)
from engine.errors import StepError
from engine.events import (
    CloudApiObserved,
    CloudInfo,
    Event,
    KillIssued,
    NodeObserved,
    PodObserved,
    RunStarted,
    StepProgress,
    encode,
)
from engine.kube import delete_kube_resource, kube_steps, start_node, stop_node, watch_pods
from engine.kube.pki import Issued, k3s_ca_set, load_key
from engine.kube.pki import issue_leaf as issue
from engine.kube.topology import SEEDS_META
from engine.ledger import LedgerRecord
from engine.providers.kubernetes_cloud import KubernetesCloud, _after
from engine.report import build_report
from engine.state import fold
from engine.targets import Target

from .conftest import Contexts, until
from .fake_apiserver import FakeApiServer, TLSFiles
from .fake_store import FakeCluster


def k3s_demo(secure: bool = False) -> DemoConfig:
    cloud = CloudConfig(name="vexx", label="Vexx", servers=3, kubernetes=KubernetesConfig())
    return DemoConfig(name="k3s", cluster=ClusterConfig(secure=secure), clouds=(cloud,))


def ca_from_set(cloud_dir: Path, name: str) -> Issued:
    cas = k3s_ca_set(cloud_dir)
    chain = x509.load_pem_x509_certificates(cas.files[f"{name}.crt"])
    return Issued(chain[0], load_key(cas.files[f"{name}.key"]), tuple(chain[1:]))


@pytest.fixture
async def k3s(
    contexts: Callable[..., Contexts], request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Contexts, FakeApiServer]]:
    secure = bool(getattr(request, "param", False))
    ctxs = contexts(k3s_demo(secure), speed=10.0)
    cloud_dir = ctxs.run.cloud_dir("vexx")
    serving = issue(
        ca_from_set(cloud_dir, "server-ca"), "kube-apiserver", server=True, ips=["127.0.0.1"]
    )
    tls = TLSFiles(
        serving.bundle_pem, serving.key_pem, k3s_ca_set(cloud_dir).files["client-ca.crt"]
    )
    hosts = [f"xr-20261127-051200-a1b2-vexx-server-{i}" for i in (1, 2, 3)]  # k3s: hostnames
    cluster = FakeCluster(nodes=3, pod_ready_after=0.1, node_names=hosts)
    server = FakeApiServer(cluster=cluster, token=None, tls=tls)
    server.start()
    ctxs("vexx", floating_ips=["127.0.0.1", "127.0.0.2", "127.0.0.3"], k3s_api_port=server.port)
    try:
        yield ctxs, server
    finally:
        server.stop()


@pytest.mark.anyio
async def test_nodes_ready_progress_then_deploy_over_tls(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    ctxs, server = k3s
    ctx = ctxs("vexx")
    server.cluster.set_node_ready(1)
    steps = {s.name: s for s in kube_steps(ctxs.demo, ctx.cloud)}
    async with anyio.create_task_group() as tg:

        async def kubernetes() -> None:
            ctx.step = "kubernetes"
            await steps["kubernetes"].run(ctx)

        tg.start_soon(kubernetes)
        await until(lambda: any(e.message == "nodes ready 1 of 3" for e in ctxs.of(StepProgress)))
        server.cluster.set_node_ready(3)
    progress = [(e.done, e.total) for e in ctxs.of(StepProgress) if e.step == "kubernetes"]
    assert (1, 3) in progress and progress[-1] == (3, 3)
    # Every request was authenticated by the admin certificate we signed ourselves.
    assert ("GET", "/api/v1/nodes") in server.cluster.requests

    ctx.step = "cockroach"
    with anyio.fail_after(20):
        await steps["cockroach"].run(ctx)
    records = ctxs.ledger.live(cloud="vexx")
    url = f"https://127.0.0.1:{server.port}"
    assert all(r.get("api") == url for r in records)  # teardown after a crash can find it
    sts = next(r for r in records if r.resource_type == "k8s_statefulset")
    assert sts.get(SEEDS_META) == "127.0.0.1:26257,127.0.0.2:26257,127.0.0.3:26257"
    assert ctx.facts["sql_addresses"] == ("127.0.0.1:26257", "127.0.0.2:26257", "127.0.0.3:26257")
    kubeconfig = ctx.cloud_dir / "kubeconfig.yaml"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == url


@pytest.mark.anyio
@pytest.mark.parametrize("k3s", [True], indirect=True)
async def test_secure_mode_ships_node_and_client_certificates_as_secrets(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    ctxs, server = k3s
    ctx = ctxs("vexx")
    for step in kube_steps(ctxs.demo, ctx.cloud):
        ctx.step = step.name
        with anyio.fail_after(20):
            await step.run(ctx)
    ns = "crossroom-xr-20261127-051200-a1b2-vexx"
    node = server.cluster.get("v1", "secrets", ns, "cockroachdb-node")["data"]
    client = server.cluster.get("v1", "secrets", ns, "cockroachdb-client")["data"]
    assert set(node) == {"ca.crt", "node.crt", "node.key"}
    assert set(client) == {"ca.crt", "client.root.crt", "client.root.key"}
    cert = x509.load_pem_x509_certificate(base64.b64decode(node["node.crt"]))
    ca = x509.load_pem_x509_certificate(base64.b64decode(node["ca.crt"]))
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "127.0.0.2", "127.0.0.3", "10.0.0.11", "203.0.113.11"} <= ips
    dns = san.get_values_for_type(x509.DNSName)
    assert f"*.cockroachdb.{ns}.svc.cluster.local" in dns
    # The fake's nodes report a Hostname as every real kubelet does: a DNS SAN, not an IP.
    addresses = server.cluster.node_list()["items"][0]["status"]["addresses"]
    assert [a["type"] for a in addresses] == ["InternalIP", "ExternalIP", "Hostname"]
    hostnames = {
        a["address"]
        for item in server.cluster.node_list()["items"]
        for a in item["status"]["addresses"]
        if a["type"] == "Hostname"
    }
    assert len(hostnames) == 3 and hostnames <= set(dns)
    sts = server.cluster.get("apps/v1", "statefulsets", ns, "cockroachdb")
    assert "--certs-dir=/cockroach/cockroach-certs" in str(sts["spec"]["template"])
    # No key material in any event (the recording and the screen) or in the ledger.
    pem_b64 = base64.b64encode(b"-----BEGIN PRIVATE KEY").decode()[:20]
    ledger = ctxs.run.ledger.read_text()
    for text in [encode(e).decode() for e in ctxs.events] + [ledger]:
        assert "PRIVATE KEY" not in text and pem_b64 not in text
    assert node["node.key"][:20] not in ledger


@pytest.mark.anyio
async def test_teardown_lets_go_when_the_k3s_api_is_gone_but_not_for_existing(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    ctxs, server = k3s
    ctx = ctxs("vexx")
    url = f"https://127.0.0.1:{server.port}"
    record = LedgerRecord(
        "vexx",
        "k8s_namespace",
        "crossroom-x",
        "crossroom-x",
        "cockroach",
        (("api", url), ("namespace", "")),
    )
    server.stop()
    with anyio.fail_after(10):
        assert await delete_kube_resource(record, ctx) is True
    logs = [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]
    assert any("goes with this run's servers" in line for line in logs)
    other = LedgerRecord("vexx", "server", "abc")
    assert await delete_kube_resource(other, ctx) is False


@pytest.mark.anyio
async def test_existing_cluster_unreachable_teardown_is_an_error(
    kubeconfig: Path, fake_api: FakeApiServer, contexts: Callable[..., Contexts]
) -> None:
    from .conftest import existing_demo

    ctx = contexts(existing_demo(kubeconfig), speed=10.0)("alpha")
    fake_api.stop()
    record = LedgerRecord("alpha", "k8s_namespace", "crossroom-x", "crossroom-x")
    with pytest.raises(StepError, match="cannot reach the Kubernetes API"):
        await delete_kube_resource(record, ctx)
    fake_api.start()  # the fixture stops it again


@pytest.mark.anyio
async def test_watch_says_nothing_until_the_api_answers_then_follows_the_pods(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    """The room starts every cloud's watch at open: before the cloud's Kubernetes step has
    reached the API there is nothing to watch, so no request and no line in the pane."""
    ctxs, server = k3s
    ctx = ctxs("vexx")
    fips = ctx.facts.pop("floating_ips")

    def logs() -> list[str]:
        return [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, ctx)
        await anyio.sleep(1.0)  # long enough for the old watch to complain twice
        assert logs() == [] and server.cluster.requests == []
        ctx.facts["floating_ips"] = fips  # the OpenStack provider allocated them
        for step in kube_steps(ctxs.demo, ctx.cloud):
            ctx.step = step.name
            with anyio.fail_after(20):
                await step.run(ctx)
        await until(
            lambda: (
                {e.pod for e in ctxs.of(PodObserved) if e.ready}
                == {"vexx/node-1", "vexx/node-2", "vexx/node-3"}
            )
        )
        tg.cancel_scope.cancel()
    assert not [line for line in logs() if "reconnecting" in line or "address yet" in line]
    first_watch = next(i for i, (_, p) in enumerate(server.cluster.requests) if "watch=" in p)
    assert any(p.startswith("/version") for _, p in server.cluster.requests[:first_watch])


@pytest.mark.anyio
async def test_after_a_restart_the_api_is_found_from_the_floating_ip_record(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    ctxs, server = k3s
    ctx = ctxs("vexx")
    ctx.facts.pop("floating_ips")  # facts are memory only: a restarted engine has none
    ctx.step = "floating_ips"
    ctx.record("floating_ip", "fip-2", "127.0.0.2", index="2", address="127.0.0.2")
    ctx.record("floating_ip", "fip-1", "127.0.0.1", index="1", address="127.0.0.1")
    await stop_node(ctx, 2)  # no pods yet: it cordons server 2's Kubernetes node
    patches = [p for m, p in server.cluster.requests if m == "PATCH"]
    assert patches == ["/api/v1/nodes/xr-20261127-051200-a1b2-vexx-server-2"]
    assert server.cluster.unschedulable == {"xr-20261127-051200-a1b2-vexx-server-2"}


@pytest.mark.anyio
async def test_an_api_with_a_foreign_ca_is_named_as_a_tls_problem(
    contexts: Callable[..., Contexts], tmp_path: Path
) -> None:
    # What a k3s that generated its own CA looks like: a valid TLS server we do not trust.
    ctxs = contexts(k3s_demo(), speed=10.0)
    foreign = issue(
        ca_from_set(tmp_path / "other", "server-ca"),
        "kube-apiserver",
        server=True,
        ips=["127.0.0.1"],
    )
    ours = k3s_ca_set(ctxs.run.cloud_dir("vexx")).files["client-ca.crt"]
    server = FakeApiServer(token=None, tls=TLSFiles(foreign.bundle_pem, foreign.key_pem, ours))
    server.start()
    try:
        ctx = ctxs("vexx", floating_ips=["127.0.0.1"], k3s_api_port=server.port)
        ctx.step = "kubernetes"
        with anyio.move_on_after(5.0):
            await kube_steps(ctxs.demo, ctx.cloud)[0].run(ctx)
    finally:
        server.stop()
    logs = [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]
    tls = "TLS handshake with the Kubernetes API failed (certificate not from this cloud's CA?)"
    # Polled many times, told once: the request (with its duration), then the step's reason.
    assert len(logs) == 2
    assert logs[0].startswith(f"GET /version/ -> {tls} (")
    assert logs[1] == f"Kubernetes API: {tls}"
    assert (
        ctxs.of(StepProgress)[-1].message
        == f"waiting for the API at https://127.0.0.1:{server.port}"
    )


@pytest.mark.anyio
async def test_node_n_is_the_pod_on_server_n_for_kills_grid_monitor_and_report(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    """The scheduler put the ordinals anywhere; node 2 is still the pod on server 2, for
    the kill, the pod feed (grid), the monitor's node-ID naming and the report."""
    ctxs, server = k3s
    ctx = ctxs("vexx")
    store = server.cluster
    server_of = {o: store.placement(o) for o in (0, 1, 2)}  # ordinal -> server index
    assert any(server_of[o] != o + 1 for o in server_of)  # not ordinal N-1 on server N
    ordinal_on_2 = next(o for o, s in server_of.items() if s == 2)
    host_2 = "xr-20261127-051200-a1b2-vexx-server-2"
    book = CockroachCluster(ClusterConfig(), WorkloadConfig())
    steps = {s.name: s for s in kube_steps(ctxs.demo, ctx.cloud)}
    cockroach = _after(steps["cockroach"], book)
    for name, step in (("kubernetes", steps["kubernetes"]), ("cockroach", cockroach)):
        ctx.step = name
        with anyio.fail_after(20):
            await step.run(ctx)

    def pods(node: str) -> list[PodObserved]:
        return [e for e in ctxs.of(PodObserved) if e.pod == node]

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, ctx)
        for n in (1, 2, 3):  # the grid's cells: node N runs on server N
            await until(
                lambda n=n: bool(pods(f"vexx/node-{n}")) and pods(f"vexx/node-{n}")[-1].ready
            )
            assert pods(f"vexx/node-{n}")[-1].host == f"xr-20261127-051200-a1b2-vexx-server-{n}"

        # Stop node 2: server 2's Kubernetes node is cordoned and the pod ON it is deleted.
        seen = len(pods("vexx/node-2"))
        assert await stop_node(ctx, 2) == ("vexx/node-2",)
        assert store.unschedulable == {host_2}
        assert store.requests[-1] == (
            "DELETE",
            f"/api/v1/namespaces/crossroom-xr-20261127-051200-a1b2-vexx/pods/"
            f"cockroachdb-{ordinal_on_2}?gracePeriodSeconds=0",
        )
        # Its replacement is Pending with no node yet: still node 2, not a new node.
        await until(lambda: any(e.phase == "Pending" for e in pods("vexx/node-2")[seen:]))
        assert {e.pod for e in ctxs.of(PodObserved)} == {f"vexx/node-{n}" for n in (1, 2, 3)}
        assert all(pods(f"vexx/node-{n}")[-1].ready for n in (1, 3))
        assert await start_node(ctx, 2) == ("vexx/node-2",)
        assert not store.unschedulable
        await until(lambda: pods("vexx/node-2")[-1].ready)
        assert pods("vexx/node-2")[-1].host == host_2
        tg.cancel_scope.cancel()

    # The monitor: node IDs come in join order, names from each node's advertised address
    # (k3s: its server's floating IP).
    joined = {7: "127.0.0.3", 8: "127.0.0.1", 9: "127.0.0.2"}
    rows = [
        NodeRow(Liveness(i, 1, 2e9), address=f"{ip}:26257", locality="cloud=vexx")
        for i, ip in joined.items()
    ]
    book.book.learn(rows, {7: "live", 8: "live", 9: "live"})
    assert {i: n.name for i, n in book.book.nodes.items()} == {
        7: "vexx/node-3",
        8: "vexx/node-1",
        9: "vexx/node-2",
    }

    # The screen and the report fold the same names: one cell per node, kill on node 2.
    events: list[Event] = [
        RunStarted(
            run_id="r",
            demo="d",
            simulated=False,
            speed=1.0,
            seed=0,
            run_dir="",
            clouds=(CloudInfo(name="vexx", label="Vexx"),),
        ),
        *ctxs.of(PodObserved),
        *(
            NodeObserved(node=n.name, cloud="vexx", liveness="live", node_id=i, t=1.0)
            for i, n in book.book.nodes.items()
        ),
        KillIssued(target="vexx/node-2", target_kind="node", nodes=("vexx/node-2",), t=2.0),
        NodeObserved(node="vexx/node-2", cloud="vexx", liveness="suspect", node_id=9, t=8.0),
    ]
    state = fold(events)
    assert [n.node for n in state.nodes_of("vexx")] == ["vexx/node-1", "vexx/node-2", "vexx/node-3"]
    assert state.nodes["vexx/node-2"].node_id == 9
    assert build_report(state, 0.0)["kills"][0]["nodes"] == ["vexx/node-2"]
    assert build_report(state, 0.0)["kills"][0]["suspect_after_s"] == 6.0


class _Servers:
    """The OpenStack side of a ``KubernetesCloud``, as far as kills go: servers stop, start."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def kill(self, target: Target, ctx: object) -> tuple[str, ...]:
        self.calls.append(("stop", str(target)))
        return (f"{target.cloud}/node-{target.index or 1}",)

    async def revive(self, target: Target, ctx: object) -> tuple[str, ...]:
        self.calls.append(("start", str(target)))
        return (f"{target.cloud}/node-{target.index or 1}",)


@pytest.mark.anyio
async def test_stopping_server_1_says_the_api_is_gone_and_starting_it_waits_for_the_api(
    k3s: tuple[Contexts, FakeApiServer],
) -> None:
    ctxs, server = k3s
    ctx = ctxs("vexx")
    cloud = KubernetesCloud(ctxs.demo, ctx.cloud, None)
    servers = _Servers()
    cloud.base = servers  # type: ignore[assignment]
    await cloud.kill(Target("vexx", "server", 2), ctx)
    assert ctxs.of(CloudApiObserved) == []  # an agent's server: the API stays
    await cloud.kill(Target("vexx", "server", 1), ctx)
    (gone,) = ctxs.of(CloudApiObserved)
    assert not gone.reachable
    await cloud.revive(Target("vexx", "server", 1), ctx)  # the API answers: it says so
    assert [e.reachable for e in ctxs.of(CloudApiObserved)] == [False, True]
    assert any(p.startswith("/version") for _, p in server.cluster.requests)
    # Pod faults go through Kubernetes, never to the servers.
    await cloud.revive(Target("vexx", "pod", 2), ctx)
    assert servers.calls == [
        ("stop", "vexx/server-2"),
        ("stop", "vexx/server-1"),
        ("start", "vexx/server-1"),
    ]
