"""Names and labels of what one cloud's CockroachDB looks like inside Kubernetes.

Each cloud gets its own namespace (run id + cloud), so inside it the objects keep the
names CockroachDB's own manifests use, and several clouds may share one existing cluster.
Pod ordinals are not node numbers: node N is the pod on server N's Kubernetes node
(``engine.kube.identity``); only on an existing cluster is node N pod ordinal N-1.
"""

from __future__ import annotations

import hashlib
import re

APP = "cockroachdb"
STATEFULSET = "cockroachdb"
HEADLESS_SERVICE = "cockroachdb"
PUBLIC_SERVICE = "cockroachdb-public"
BUDGET = "cockroachdb-budget"
INIT_JOB = "cluster-init"
NODE_SECRET = "cockroachdb-node"
CLIENT_SECRET = "cockroachdb-client"
CONTAINER = "cockroachdb"

LABEL_APP = "app"
LABEL_RUN = "crossroom.io/run"
LABEL_CLOUD = "crossroom.io/cloud"

_BAD = re.compile(r"[^a-z0-9-]+")


def dns_label(text: str, limit: int = 63) -> str:
    """A valid DNS-1123 label; long or rewritten names keep a short hash to stay unique."""
    clean = _BAD.sub("-", text.lower()).strip("-") or "x"
    if clean == text and len(clean) <= limit:
        return clean
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{clean[: limit - 7].rstrip('-')}-{digest}"


def label_value(text: str) -> str:
    """A valid label value (63 chars of ``[A-Za-z0-9._-]``, alphanumeric at both ends)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return clean[:63].rstrip("-._") or "x"


def namespace(prefix: str, run_id: str, cloud: str) -> str:
    return dns_label(f"{prefix}-{run_id}-{cloud}")


def labels(run_id: str, cloud: str) -> dict[str, str]:
    return {
        LABEL_APP: APP,
        LABEL_RUN: label_value(run_id),
        LABEL_CLOUD: label_value(cloud),
    }


def selector(run_id: str, cloud: str) -> str:
    return ",".join(f"{k}={v}" for k, v in labels(run_id, cloud).items())


def server_node_name(server: str) -> str:
    """The Kubernetes node name of a server we boot: k3s names its node after the host,
    and the server's hostname is its (DNS-safe) resource name (``kube.userdata``)."""
    return dns_label(server)


def pod_name(index: int) -> str:
    """The pod with ordinal ``index - 1`` (an existing cluster's node ``index``)."""
    if index < 1:
        raise ValueError("node index is 1-based")
    return f"{STATEFULSET}-{index - 1}"


def node_index(pod: str) -> int | None:
    """A StatefulSet pod name's ordinal + 1, or ``None`` for other pods."""
    prefix = f"{STATEFULSET}-"
    if pod.startswith(prefix) and pod[len(prefix) :].isdigit():
        return int(pod[len(prefix) :]) + 1
    return None


def peer_address(index: int, namespace_name: str) -> str:
    """The in-cluster DNS name of node N, through the headless service."""
    return f"{pod_name(index)}.{HEADLESS_SERVICE}.{namespace_name}.svc.cluster.local"
