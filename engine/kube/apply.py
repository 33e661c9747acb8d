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
Outcome = Literal["created", "updated", "exists"]

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


def _target(kind: Kind, namespace: str, name: str) -> tuple[str, ...]:
    return (name, namespace) if kind.namespaced else (name,)


async def apply_object(api: KubeApi, obj: Obj) -> Outcome:
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
    patch = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
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
    while True:
        try:
            if not await exists(api, kind, namespace, name, read_s=min(5.0, timeout_s)):
                return
        except KUBE_ERRORS as err:
            raise step_error(f"delete {label}", err) from err
        if ctx.clock.now() >= deadline:
            hint = (
                " (stuck in Terminating: check its finalizers)" if kind.name == "Namespace" else ""
            )
            raise StepError(f"{label} still exists {timeout_s:.0f} s after delete{hint}")
        ctx.progress(f"waiting for {label} to go")
        await ctx.clock.sleep(poll_s)
