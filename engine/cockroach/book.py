"""Every node learned so far: its stage name, addresses and last liveness.

The stage name is the one identity of a node (``engine.targets``): ``cloud/node-N`` for the
node on server N. CockroachDB numbers nodes by the order they joined, so the book maps each
node's advertised address to N (``identify``: a k3s node advertises its server's floating
IP; an existing cluster's node its host IP, or its pod's DNS name, which names the ordinal).
Only a node whose address says nothing is named by arrival within its cloud.

Owned by the event loop (monitor, probes and workload read it there); worker threads only
ever see ``candidates``, an immutable tuple swapped whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from engine.cockroach.classify import LIVE, SERVING
from engine.cockroach.connection import Endpoint, parse_address
from engine.cockroach.queries import NodeRow, locality_tier
from engine.events import LivenessState
from engine.kube.names import node_index as pod_ordinal_index

NodeNamer = Callable[[str, int, str], str]
"""``(cloud, node_id, address) -> "cloud/node-k"``: how the screen names a node."""


@dataclass(frozen=True)
class KnownNode:
    node_id: int
    name: str
    cloud: str
    address: str
    """RPC host:port; the HTTP probe goes to its host."""
    sql: Endpoint | None
    locality: str
    liveness: LivenessState | Literal[""] = ""
    """Empty until the cluster has classified the node."""

    @property
    def host(self) -> str:
        if not self.address:
            return self.sql.host if self.sql else ""
        try:
            return parse_address(self.address, 0).host
        except ValueError:
            return ""


class NodeBook:
    """Names are sticky: once ``cloud/node-k`` is given to a node id it keeps it."""

    def __init__(
        self, seeds: Iterable[Endpoint], sql_port: int, node_name: NodeNamer | None = None
    ) -> None:
        self.seeds = tuple(dict.fromkeys(seeds))
        self.sql_port = sql_port
        self.node_name = node_name
        self.nodes: dict[int, KnownNode] = {}
        self.candidates: tuple[Endpoint, ...] = self.seeds
        self.identities: dict[str, str] = {}
        """Advertised host -> ``cloud/node-N``."""

    def identify(self, cloud: str, hosts: Mapping[str, int]) -> None:
        """Say which advertised host is node N of ``cloud`` (before its nodes join)."""
        for host, index in hosts.items():
            self.identities[host] = f"{cloud}/node-{index}"

    def _identified(self, cloud: str, address: str) -> str | None:
        try:
            host = parse_address(address, 0).host if address else ""
        except ValueError:
            return None
        if host in self.identities:
            return self.identities[host]
        # ``--advertise-addr`` of a pod DNS name: cockroachdb-K.cockroachdb.<namespace>...
        index = pod_ordinal_index(host.split(".")[0]) if "." in host else None
        return f"{cloud}/node-{index}" if index is not None else None

    def add_seeds(self, endpoints: Iterable[Endpoint]) -> None:
        """More places to start from (e.g. a cloud's nodes once its pods are Ready)."""
        self.seeds = tuple(dict.fromkeys((*self.seeds, *endpoints)))
        self._refresh_candidates()

    def _default_name(self, cloud: str, node_id: int) -> str:
        taken = {n.name for n in self.nodes.values()}
        k = 1 + sum(1 for n in self.nodes.values() if n.cloud == cloud)
        while f"{cloud}/node-{k}" in taken:
            k += 1
        return f"{cloud}/node-{k}"

    def learn(
        self, rows: Iterable[NodeRow], states: Mapping[int, LivenessState]
    ) -> list[KnownNode]:
        """Fold one poll in; return the nodes whose name, address or liveness changed."""
        changed: list[KnownNode] = []
        for row in sorted(rows, key=lambda r: r.liveness.node_id):
            node_id = row.liveness.node_id
            old = self.nodes.get(node_id)
            cloud = locality_tier(row.locality, "cloud") or (old.cloud if old else "") or "cluster"
            sql: Endpoint | None = None
            for text in (row.sql_address, row.address):
                if text:
                    try:
                        sql = parse_address(text, self.sql_port)
                    except ValueError:
                        continue
                    if not row.sql_address:  # old versions: SQL shares the RPC address's host
                        sql = Endpoint(sql.host, self.sql_port)
                    break
            if old is not None:
                name = old.name
            elif self.node_name is not None:
                name = self.node_name(cloud, node_id, row.address)
            else:
                name = self._identified(cloud, row.address) or self._default_name(cloud, node_id)
            node = KnownNode(
                node_id=node_id,
                name=name,
                cloud=cloud,
                address=row.address or (old.address if old else ""),
                sql=sql or (old.sql if old else None),
                locality=row.locality or (old.locality if old else ""),
                liveness=states.get(node_id, old.liveness if old else ""),
            )
            if node != old:
                changed.append(node)
            self.nodes[node_id] = node
        self._refresh_candidates()
        return changed

    def _refresh_candidates(self) -> None:
        """Seeds and learned SQL addresses, nodes believed live first, then the rest."""
        learned = sorted(self.nodes.values(), key=lambda n: n.node_id)
        live = [n.sql for n in learned if n.sql is not None and n.liveness == LIVE]
        rest = [n.sql for n in learned if n.sql is not None and n.liveness != LIVE]
        ordered = [*live, *self.seeds, *rest]
        self.candidates = tuple(dict.fromkeys(ordered))

    def spread(self, index: int) -> tuple[Endpoint, ...]:
        """The candidates rotated by ``index``: worker ``i`` starts on a different node."""
        c = self.candidates
        if not c:
            return c
        i = index % len(c)
        return c[i:] + c[:i]

    def serving(self) -> list[int]:
        return [n.node_id for n in self.nodes.values() if n.liveness in SERVING]

    def live_count(self) -> int:
        return sum(1 for n in self.nodes.values() if n.liveness == LIVE)
