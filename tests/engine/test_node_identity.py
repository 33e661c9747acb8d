"""One identity per node: pods by the server they run on, CockroachDB node IDs by address."""

from __future__ import annotations

from engine.cockroach.book import NodeBook
from engine.cockroach.classify import Liveness
from engine.cockroach.queries import NodeRow
from engine.kube.identity import PodIdentity, pod_of
from engine.kube.names import server_node_name


def pod(name: str, host: str = "") -> dict[str, object]:
    return {"metadata": {"name": name}, "spec": {"nodeName": host} if host else {}}


def test_a_pod_is_the_node_of_the_server_it_runs_on_and_keeps_it_while_pending() -> None:
    hosts = {server_node_name(f"xr-1-vexx-server-{i}"): i for i in (1, 2, 3)}
    identity = PodIdentity(hosts)
    # ordinal 0 landed on server 3, ordinal 2 on server 1
    assert identity.index(pod("cockroachdb-0", "xr-1-vexx-server-3")) == 3
    assert identity.index(pod("cockroachdb-2", "xr-1-vexx-server-1")) == 1
    assert identity.index(pod("cockroachdb-1")) is None  # never placed: nobody yet
    assert identity.index(pod("cockroachdb-1", "xr-1-vexx-server-2")) == 2
    # cordoned and recreated: Pending, no node, still node 2 (its volume is pinned there)
    assert identity.index(pod("cockroachdb-1")) == 2
    assert identity.index(pod("cluster-init-x7", "xr-1-vexx-server-1")) is None
    assert identity.host(2) == "xr-1-vexx-server-2"
    pods = [pod("cockroachdb-0", "xr-1-vexx-server-3"), pod("cockroachdb-1", "xr-1-vexx-server-2")]
    assert pod_of(identity, pods, 3) == pods[0]
    assert pod_of(identity, pods, 1) is None


def test_on_an_existing_cluster_node_n_is_ordinal_n_minus_1_wherever_it_runs() -> None:
    identity = PodIdentity({})
    assert identity.index(pod("cockroachdb-0", "worker-7")) == 1
    assert identity.index(pod("cockroachdb-2")) == 3
    assert identity.host(1) is None


def row(node_id: int, address: str, cloud: str = "vexx") -> NodeRow:
    return NodeRow(Liveness(node_id, 1, 2e9), address=address, locality=f"cloud={cloud}")


def test_the_monitor_names_node_ids_by_advertised_address_not_by_arrival() -> None:
    book = NodeBook([], 26257)
    book.identify("vexx", {"203.0.113.7": 1, "203.0.113.8": 2, "203.0.113.9": 3})
    dns = "cockroachdb-1.cockroachdb.crossroom-xr-1-alpha.svc.cluster.local:26257"
    book.learn(
        [
            row(1, "203.0.113.9:26257"),
            row(2, "203.0.113.7:26257"),
            row(3, dns, cloud="alpha"),
            row(4, "203.0.113.8:26257"),
            row(5, "198.51.100.1:26257", cloud="other"),  # nothing known: by arrival
        ],
        {},
    )
    names = {n.node_id: n.name for n in book.nodes.values()}
    assert names == {
        1: "vexx/node-3",
        2: "vexx/node-1",
        3: "alpha/node-2",
        4: "vexx/node-2",
        5: "other/node-1",
    }
