"""Chaos targets as the presenter names them, and what each kind of fault means.

``CLOUD/pod-N`` restarts node N's pod (the StatefulSet brings it back on the same node,
same store, same CockroachDB node ID, in seconds); ``CLOUD/node-N`` stops node N and keeps
it down until revived (cordon its Kubernetes node, delete the pod); ``CLOUD/server-N``
stops server N (the VM); ``CLOUD`` stops every server of the cloud.

Node N is one identity everywhere (see ``docs/kubernetes.md``, "One identity per node"):
on a cloud whose servers we boot it is the CockroachDB node on server N, wherever the
StatefulSet's ordinals landed; on an existing Kubernetes cluster (no servers) it is the
StatefulSet's pod ordinal N-1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TargetKind = Literal["pod", "node", "server", "cloud"]

KIND_TITLES: dict[str, str] = {
    "pod": "restart pod",
    "node": "stop node",
    "server": "stop server",
    "cloud": "kill cloud",
}
"""Short words for a fault, for the screen and the printer."""

KIND_MEANINGS: dict[str, str] = {
    "pod": "delete its pod; the StatefulSet brings it back on the same node, same node ID",
    "node": "cordon its Kubernetes node and delete its pod; down until revived (uncordon)",
    "server": "stop the VM; the node and everything on it stays down until revived (start)",
    "cloud": "stop every server of the cloud; down until revived",
}
"""One line each: what the fault does in the real system (the confirm bar shows it)."""

_TARGET = re.compile(
    r"^(?P<cloud>[A-Za-z0-9_.-]+)(?:/(?P<kind>pod|node|server)-(?P<n>[1-9][0-9]*))?$"
)


@dataclass(frozen=True)
class Target:
    """What a kill or revive aims at; ``index`` is 1-based, ``None`` for a whole cloud."""

    cloud: str
    kind: TargetKind
    index: int | None = None

    def __str__(self) -> str:
        return self.cloud if self.index is None else f"{self.cloud}/{self.kind}-{self.index}"

    @property
    def node(self) -> str | None:
        """The one node this target names (pod, node and server N all name node N)."""
        return None if self.index is None else node_name(self.cloud, self.index)


def parse_target(text: str) -> Target:
    """Parse ``vexxhost/pod-1``; raise ``ValueError`` with a one-line reason."""
    match = _TARGET.match(text.strip())
    if match is None:
        raise ValueError(
            f"bad target {text!r}: expected CLOUD, CLOUD/pod-N, CLOUD/node-N or CLOUD/server-N"
        )
    kind = match.group("kind")
    if kind is None:
        return Target(match.group("cloud"), "cloud")
    kinds: dict[str, TargetKind] = {"pod": "pod", "node": "node", "server": "server"}
    return Target(match.group("cloud"), kinds[kind], int(match.group("n")))


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
    """The node numbers a target names on a cloud of ``count`` nodes: N for pod, node and
    server N (one identity), every node for the whole cloud, none past the last node."""
    if target.index is None:
        return tuple(range(1, count + 1))
    return (target.index,) if target.index <= count else ()


def target_nodes(target: Target, count: int) -> tuple[str, ...]:
    """The nodes (``cloud/node-N``) a target names on a cloud of ``count`` nodes."""
    return tuple(node_name(target.cloud, i) for i in target_indexes(target, count))
