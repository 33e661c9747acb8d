"""Chaos targets as the presenter names them, and what each kind of fault means.

``CLOUD/pod-N`` restarts node N's pod (the StatefulSet brings it back on the same node,
same store, same CockroachDB node ID, in seconds); ``CLOUD/node-N`` stops node N and keeps
it down until revived (cordon its Kubernetes node, delete the pod); ``CLOUD/server-N``
stops server N (the VM); ``CLOUD`` stops every server of the cloud. Inside a server, over
SSH (``engine.ssh_faults``): ``CLOUD/crash-N`` SIGKILLs node N's CockroachDB process (the
kubelet restarts the container: same node ID, nothing to revive) and ``CLOUD/freeze-N``
SIGSTOPs it (alive to Kubernetes, silent to the cluster; revive sends SIGCONT).
``CLOUD/partition`` cuts the cloud's CockroachDB nodes off from every other cloud (the
cross-cloud rules of the security groups; the venue keeps its access); revive heals it.

Node N is one identity everywhere (see ``docs/kubernetes.md``, "One identity per node"):
on a cloud whose servers we boot it is the CockroachDB node on server N, wherever the
StatefulSet's ordinals landed; on an existing Kubernetes cluster (no servers) it is the
StatefulSet's pod ordinal N-1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TargetKind = Literal["pod", "node", "server", "cloud", "crash", "freeze", "partition"]

KIND_TITLES: dict[str, str] = {
    "pod": "restart pod",
    "node": "stop node",
    "server": "stop server",
    "cloud": "kill cloud",
    "crash": "crash process",
    "freeze": "freeze process",
    "partition": "partition cloud",
}
"""Short words for a fault, for the screen and the printer."""

KIND_MEANINGS: dict[str, str] = {
    "pod": "delete its pod; the StatefulSet brings it back on the same node, same node ID",
    "node": "cordon its Kubernetes node and delete its pod; down until revived (uncordon)",
    "server": "stop the VM; the node and everything on it stays down until revived (start)",
    "cloud": "stop every server of the cloud; down until revived",
    "crash": "SIGKILL its cockroach process over SSH; the kubelet restarts it, same node ID",
    "freeze": "SIGSTOP its cockroach process over SSH: alive to Kubernetes, silent to the "
    "cluster; revive sends SIGCONT",
    "partition": "cut the cloud's nodes off from every other cloud (security group rules); "
    "the venue still sees both sides; revive heals",
}
"""One line each: what the fault does in the real system (the confirm bar shows it)."""

_TARGET = re.compile(
    r"^(?P<cloud>[A-Za-z0-9_.-]+)"
    r"(?:/(?P<kind>pod|node|server|crash|freeze)-(?P<n>[1-9][0-9]*)|/(?P<partition>partition))?$"
)
_NODE_KINDS: dict[str, TargetKind] = {
    "pod": "pod",
    "node": "node",
    "server": "server",
    "crash": "crash",
    "freeze": "freeze",
}
EXPECTED = (
    "CLOUD, CLOUD/pod-N, CLOUD/node-N, CLOUD/server-N, CLOUD/crash-N, CLOUD/freeze-N "
    "or CLOUD/partition"
)
REVIVES_ITSELF: frozenset[str] = frozenset({"pod", "crash"})
"""Faults the cluster recovers from by itself (the StatefulSet, the kubelet): no revive."""


@dataclass(frozen=True)
class Target:
    """What a kill or revive aims at; ``index`` is 1-based, ``None`` for a whole cloud
    (``cloud``) or all of its nodes at once (``partition``)."""

    cloud: str
    kind: TargetKind
    index: int | None = None

    def __str__(self) -> str:
        if self.kind == "partition":
            return f"{self.cloud}/partition"
        return self.cloud if self.index is None else f"{self.cloud}/{self.kind}-{self.index}"

    @property
    def node(self) -> str | None:
        """The one node this target names (pod, node, server, crash and freeze N all name
        node N)."""
        return None if self.index is None else node_name(self.cloud, self.index)


def parse_target(text: str) -> Target:
    """Parse ``vexxhost/pod-1``; raise ``ValueError`` with a one-line reason."""
    match = _TARGET.match(text.strip())
    if match is None:
        raise ValueError(f"bad target {text!r}: expected {EXPECTED}")
    if match.group("partition"):
        return Target(match.group("cloud"), "partition")
    kind = match.group("kind")
    if kind is None:
        return Target(match.group("cloud"), "cloud")
    return Target(match.group("cloud"), _NODE_KINDS[kind], int(match.group("n")))


def node_name(cloud: str, index: int) -> str:
    """The key every event and view uses for a CockroachDB node: ``cloud/node-N``."""
    return f"{cloud}/node-{index}"


def node_index(node: str) -> int | None:
    """``cloud/node-3`` -> 3; ``None`` for anything else."""
    _, _, tail = node.rpartition("/node-")
    return int(tail) if tail.isdigit() else None


def server_name(cloud: str, index: int) -> str:
    return f"{cloud}/server-{index}"


def pod_target(cloud: str, index: int) -> str:
    return f"{cloud}/pod-{index}"


def target_indexes(target: Target, count: int) -> tuple[int, ...]:
    """The node numbers a target names on a cloud of ``count`` nodes: N for a node's fault
    (one identity), every node for the whole cloud or its partition, none past the last."""
    if target.index is None:
        return tuple(range(1, count + 1))
    return (target.index,) if target.index <= count else ()


def target_nodes(target: Target, count: int) -> tuple[str, ...]:
    """The nodes (``cloud/node-N``) a target names on a cloud of ``count`` nodes."""
    return tuple(node_name(target.cloud, i) for i in target_indexes(target, count))
