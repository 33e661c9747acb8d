"""One identity per node: which CockroachDB pod is node N of a cloud, from real data.

StatefulSet ordinals land on any Kubernetes node (the manifests' anti-affinity is only
preferred), so ordinal N-1 is not "the node on server N". The truth is the pod's
``spec.nodeName``: on a cloud whose servers we boot, each k3s node is named after its
server's hostname (``names.server_node_name``), so the pod on the Kubernetes node of
server N is node N. With a local-path volume the pod is pinned to that node for good, so
once seen, an ordinal keeps its node even while its pod is Pending (after a cordon).
On an existing cluster there are no servers: node N is the pod with ordinal N-1 (its name,
volume and CockroachDB store are what persist there). See ``docs/kubernetes.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.kube import names
from engine.kube.kubeconfig import is_existing
from engine.plan import StepContext

Obj = dict[str, Any]
FACT = "pod_identity"


@dataclass
class PodIdentity:
    """Kubernetes node name -> server index (empty on an existing cluster), and what each
    pod name was last seen as. Touched only on the event loop."""

    hosts: Mapping[str, int]
    learned: dict[str, int] = field(default_factory=dict)

    def index(self, pod: Obj) -> int | None:
        """The node index of a CockroachDB pod; ``None`` for other pods, or a pod never
        yet scheduled onto one of this cloud's servers."""
        meta = pod.get("metadata") or {}
        name = str(meta.get("name", ""))
        ordinal = names.node_index(name)
        if ordinal is None:
            return None
        if not self.hosts:
            return ordinal
        host = str((pod.get("spec") or {}).get("nodeName") or "")
        index = self.hosts.get(host)
        if index is not None:
            self.learned[name] = index
            return index
        return self.learned.get(name)

    def host(self, index: int) -> str | None:
        """The Kubernetes node of server ``index`` (``None`` on an existing cluster)."""
        for host, i in self.hosts.items():
            if i == index:
                return host
        return None


def identity_of(ctx: StepContext) -> PodIdentity:
    """This cloud's identity map, made once and kept in the cloud's facts."""
    found = ctx.facts.get(FACT)
    if isinstance(found, PodIdentity):
        return found
    hosts: dict[str, int] = {}
    if not is_existing(ctx.cloud):
        for i in range(1, ctx.cloud.servers + 1):
            hosts[names.server_node_name(ctx.resource_name(f"server-{i}"))] = i
    identity = PodIdentity(hosts)
    ctx.facts[FACT] = identity
    return identity


def pod_of(identity: PodIdentity, pods: list[Obj], index: int) -> Obj | None:
    """The pod that is node ``index`` among ``pods`` (a fresh listing)."""
    for pod in pods:
        if identity.index(pod) == index:
            return pod
    return None
