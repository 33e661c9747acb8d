"""Create-or-patch and delete-and-wait for the few kinds crossroom makes.

Apply is idempotent: create, and on 409 AlreadyExists merge-patch the spec (a Job's pod
template is immutable, so an existing Job is left as it is). Delete treats 404 as done and
then polls until the object is really gone, because a namespace can sit in Terminating
for a long time (finalizers) and the presenter must hear about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kubernetes.client.exceptions import ApiException

from engine.errors import StepError
from engine.kube.client import KUBE_ERRORS, KubeApi, step_error
from engine.plan import StepContext

Obj = dict[str, Any]
ApplyResult = Literal["created", "updated", "exists"]

MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Kind:
    """How to reach one kind through the typed client, and its ledger resource type."""

    name: str
    resource_type: str
    api: str
    suffix: str
    namespaced: bool = True
    patchable: bool = True

    def method(self, api: KubeApi, verb: str) -> Callable[..., Any]:
        fn: Callable[..., Any] = getattr(getattr(api, self.api), f"{verb}_{self.suffix}")
        return fn


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("Namespace", "k8s_namespace", "core", "namespace", namespaced=False, patchable=False),
        Kind("Secret", "k8s_secret", "core", "namespaced_secret"),
        Kind("Service", "k8s_service", "core", "namespaced_service"),
        Kind("StatefulSet", "k8s_statefulset", "apps", "namespaced_stateful_set"),
        Kind("PodDisruptionBudget", "k8s_pdb", "policy", "namespaced_pod_disruption_budget"),
        Kind("Job", "k8s_job", "batch", "namespaced_job", patchable=False),
    )
}
BY_RESOURCE_TYPE: dict[str, Kind] = {k.resource_type: k for k in KINDS.values()}


def record_id(kind: Kind, namespace: str, name: str) -> str:
    """Ledger id: the namespace name for a namespace, ``namespace/name`` for the rest."""
    return name if not kind.namespaced else f"{namespace}/{name}"


MUTABLE_SPEC: dict[str, tuple[str, ...] | None] = {
    # The fields the API server lets an update change (StatefulSet validation), so a
    # re-apply never trips "updates to statefulset spec ... are forbidden".
    "StatefulSet": (
        "replicas",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
    ),
    # Ports are left alone: a merge patch replaces the list and would lose the NodePorts
    # the server allocated, so a retry would move them.
    "Service": ("selector",),
    "PodDisruptionBudget": None,  # the whole spec is mutable
}


def patch_body(obj: Obj) -> Obj:
    """The JSON merge patch that brings an existing object to ``obj`` where that is allowed."""
    meta = obj["metadata"]
    patch: Obj = {"metadata": {k: meta[k] for k in ("labels", "annotations") if k in meta}}
    if "data" in obj:
        patch["data"] = obj["data"]
    if "spec" in obj:
        fields = MUTABLE_SPEC.get(obj["kind"])
        spec = obj["spec"]
        patch["spec"] = dict(spec) if fields is None else {k: spec[k] for k in fields if k in spec}
    return patch


def _target(kind: Kind, namespace: str, name: str) -> tuple[str, ...]:
    return (name, namespace) if kind.namespaced else (name,)


async def apply_object(api: KubeApi, obj: Obj) -> ApplyResult:
    """Create ``obj``; if it exists, bring its spec (and labels, data) to ours."""
    kind = KINDS[obj["kind"]]
    meta = obj["metadata"]
    name, namespace = meta["name"], meta.get("namespace", "")
    create_args = (namespace, obj) if kind.namespaced else (obj,)
    try:
        await api.call(kind.method(api, "create"), *create_args)
        return "created"
    except ApiException as err:
        if err.status != 409:
            raise
    if not kind.patchable:
        return "exists"
    patch = patch_body(obj)
    await api.call(
        kind.method(api, "patch"), *_target(kind, namespace, name), patch, _content_type=MERGE_PATCH
    )
    return "updated"


async def exists(api: KubeApi, kind: Kind, namespace: str, name: str, read_s: float) -> bool:
    try:
        await api.call(kind.method(api, "read"), *_target(kind, namespace, name), read_s=read_s)
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    return True


async def delete_and_wait(
    ctx: StepContext,
    api: KubeApi,
    kind: Kind,
    namespace: str,
    name: str,
    timeout_s: float,
    poll_s: float = 1.0,
) -> None:
    """Delete (404 = already gone) and wait until a read says 404.

    Raises ``StepError`` naming the object and how long it waited when it is stuck.
    """
    label = f"{kind.name.lower()} {record_id(kind, namespace, name)}"
    try:
        await api.call(
            kind.method(api, "delete"),
            *_target(kind, namespace, name),
            propagation_policy="Background",
        )
    except KUBE_ERRORS as err:
        if isinstance(err, ApiException) and err.status == 404:
            return
        raise step_error(f"delete {label}", err) from err
    deadline = ctx.clock.now() + timeout_s
    began = ctx.clock.now()
    told = False
    while True:
        try:
            if not await exists(api, kind, namespace, name, read_s=min(5.0, timeout_s)):
                if told:
                    ctx.log(f"{label} gone after {ctx.clock.now() - began:.0f}s")
                return
        except KUBE_ERRORS as err:
            raise step_error(f"delete {label}", err) from err
        if ctx.clock.now() >= deadline:
            hint = (
                " (stuck in Terminating: check its finalizers)" if kind.name == "Namespace" else ""
            )
            raise StepError(f"{label} still exists {timeout_s:.0f} s after delete{hint}")
        ctx.progress(f"waiting for {label} to go")
        if not told:
            ctx.log(f"waiting for {label} to go (up to {timeout_s:.0f}s)")
            told = True
        await ctx.clock.sleep(poll_s)
