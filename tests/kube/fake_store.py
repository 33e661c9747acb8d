"""The fake API server's memory: objects, resource versions, watch history, controllers.

Just enough of kube-apiserver and kube-controller-manager for crossroom's paths: objects
keyed by resource and namespace, a resource version bumped on every change, a history
that watches replay from, namespaces that terminate (or get stuck), a StatefulSet
controller that makes pods which turn Running/Ready and come back under the same name
when deleted, and Jobs that complete.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .fake_controllers import Controllers

Obj = dict[str, Any]

KINDS: dict[tuple[str, str], tuple[str, bool]] = {
    # (group/version, plural) -> (kind, namespaced)
    ("v1", "namespaces"): ("Namespace", False),
    ("v1", "nodes"): ("Node", False),
    ("v1", "pods"): ("Pod", True),
    ("v1", "services"): ("Service", True),
    ("v1", "secrets"): ("Secret", True),
    ("apps/v1", "statefulsets"): ("StatefulSet", True),
    ("policy/v1", "poddisruptionbudgets"): ("PodDisruptionBudget", True),
    ("batch/v1", "jobs"): ("Job", True),
}

GROUP_NAMES = {"v1": "", "apps/v1": "apps", "policy/v1": "policy", "batch/v1": "batch"}


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_body(code: int, reason: str, message: str, **details: Any) -> Obj:
    """A ``metav1.Status`` failure, as the real API server sends it."""
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.body = status_body(code, reason, message, **details)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def matches(obj: Obj, selector: str) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key.rstrip("=!")) != value.lstrip("="):
            return False
    return True


@dataclass
class Change:
    rv: int
    gv: str
    plural: str
    namespace: str
    type: str
    obj: Obj


@dataclass
class FakeCluster(Controllers):
    """All state; every method takes the one lock, and every change wakes the watchers."""

    nodes: int = 3
    nodes_ready_after: float = 0.0
    pod_ready_after: float = 0.3
    namespace_delete_after: float = 0.3
    job_complete_after: float = 0.2
    stuck_namespaces: set[str] = field(default_factory=set)
    bookmark_every_s: float = 60.0
    """The watch cache's bookmark period (``cacher.go``: one minute)."""
    pod_waiting_reason: str = ""
    """Non-empty: pods never start and say why, as the kubelet does (``ImagePullBackOff``)."""
    objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = field(default_factory=dict)
    history: list[Change] = field(default_factory=list)
    compacted_rv: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    patches: list[tuple[str, str, Obj]] = field(default_factory=list)
    node_names: list[str] = field(default_factory=list)
    """Node names (k3s: the servers' hostnames); empty: ``fake-node-N``."""
    schedule_seed: int = 7
    """Seeds the scheduler's shuffle of ordinals over nodes."""
    unschedulable: set[str] = field(default_factory=set)
    """Cordoned nodes (``spec.unschedulable``), set by a node PATCH."""
    bound: dict[tuple[str, str], str] = field(default_factory=dict)
    """(namespace, pod name) -> the node its volume is pinned to."""

    def __post_init__(self) -> None:
        self.cond = threading.Condition()
        self.rv = 1
        self.started = time.monotonic()
        self.closing = False
        self.watch_epoch = 0
        self.bookmarks_sent = 0
        self._timers: dict[tuple[str, str, str, str], float] = {}
        for key in KINDS:
            self.objects.setdefault(key, {})

    # --- low level -------------------------------------------------------------------------

    def _store(self, gv: str, plural: str) -> dict[tuple[str, str], Obj]:
        return self.objects[(gv, plural)]

    def _emit(self, gv: str, plural: str, ns: str, kind: str, obj: Obj) -> None:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.history.append(Change(self.rv, gv, plural, ns, kind, copy.deepcopy(obj)))
        self.cond.notify_all()

    def _put(self, gv: str, plural: str, ns: str, obj: Obj, event: str) -> Obj:
        self._store(gv, plural)[(ns, obj["metadata"]["name"])] = obj
        self._emit(gv, plural, ns, event, obj)
        return copy.deepcopy(obj)

    def _drop(self, gv: str, plural: str, ns: str, name: str) -> Obj:
        obj = self._store(gv, plural).pop((ns, name))
        self._emit(gv, plural, ns, "DELETED", obj)
        return copy.deepcopy(obj)

    def drop_watches(self) -> None:
        """End every open watch stream cleanly, as an API server restart or LB does."""
        with self.cond:
            self.watch_epoch += 1
            self.cond.notify_all()

    def compact(self) -> None:
        """Forget history, as etcd compaction does: older watches then get 410 Gone."""
        with self.cond:
            self.compacted_rv = self.rv
            self.history.clear()

    # --- API verbs -------------------------------------------------------------------------

    def create(self, gv: str, plural: str, ns: str, body: Obj) -> Obj:
        kind, namespaced = KINDS[(gv, plural)]
        group = GROUP_NAMES[gv]
        name = str((body.get("metadata") or {}).get("name", ""))
        with self.cond:
            if namespaced:
                space = self._store("v1", "namespaces").get(("", ns))
                if space is None:
                    raise ApiError(
                        404, "NotFound", f'namespaces "{ns}" not found', name=ns, kind="namespaces"
                    )
                if space["status"].get("phase") == "Terminating":
                    # The NamespaceLifecycle admission plugin (apiserver
                    # ``pkg/admission/plugin/namespace/lifecycle/admission.go``): Forbidden,
                    # with a NamespaceTerminating cause, for as long as the namespace lasts.
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'{plural} "{name}" is forbidden: unable to create new content in '
                        f"namespace {ns} because it is being terminated",
                        name=name,
                        kind=plural,
                        causes=[
                            {
                                "reason": "NamespaceTerminating",
                                "message": f"namespace {ns} is being terminated",
                                "field": "metadata.namespace",
                            }
                        ],
                    )
            if (ns, name) in self._store(gv, plural):
                dotted = f"{plural}.{group}" if group else plural
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{dotted} "{name}" already exists',
                    name=name,
                    group=group,
                    kind=plural,
                )
            obj = copy.deepcopy(body)
            obj["apiVersion"], obj["kind"] = gv, kind
            meta = obj.setdefault("metadata", {})
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
            if namespaced:
                meta["namespace"] = ns
            obj.setdefault("status", {})
            if kind == "Namespace":
                obj["status"] = {"phase": "Active"}
            self._timers[(gv, plural, ns, name)] = time.monotonic()
            return self._put(gv, plural, ns, obj, "ADDED")

    def get(self, gv: str, plural: str, ns: str, name: str) -> Obj:
        with self.cond:
            obj = self._store(gv, plural).get((ns, name))
            if obj is None:
                raise self._not_found(gv, plural, name)
            return copy.deepcopy(obj)

    def _not_found(self, gv: str, plural: str, name: str) -> ApiError:
        group = GROUP_NAMES[gv]
        dotted = f"{plural}.{group}" if group else plural
        return ApiError(
            404, "NotFound", f'{dotted} "{name}" not found', name=name, group=group, kind=plural
        )

    def list(self, gv: str, plural: str, ns: str | None, selector: str) -> Obj:
        kind, _ = KINDS[(gv, plural)]
        with self.cond:
            items = [
                copy.deepcopy(o)
                for (ons, _), o in sorted(self._store(gv, plural).items())
                if (ns is None or ons == ns) and matches(o, selector)
            ]
            return {
                "kind": f"{kind}List",
                "apiVersion": gv,
                "metadata": {"resourceVersion": str(self.rv)},
                "items": items,
            }

    def patch(self, gv: str, plural: str, ns: str, name: str, patch: Obj) -> Obj:
        with self.cond:
            obj = self._store(gv, plural).get((ns, name))
            if obj is None:
                raise self._not_found(gv, plural, name)
            self.patches.append((plural, name, copy.deepcopy(patch)))
            merged = merge_patch(obj, patch)
            if plural == "statefulsets":
                allowed = {
                    "replicas",
                    "ordinals",
                    "template",
                    "updateStrategy",
                    "persistentVolumeClaimRetentionPolicy",
                    "minReadySeconds",
                }
                old_rest = {k: v for k, v in obj.get("spec", {}).items() if k not in allowed}
                new_rest = {k: v for k, v in merged.get("spec", {}).items() if k not in allowed}
                if old_rest != new_rest:
                    raise ApiError(
                        422,
                        "Invalid",
                        f'StatefulSet.apps "{name}" is invalid: spec: Forbidden: updates to '
                        "statefulset spec for fields other than 'replicas', 'ordinals', "
                        "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                        "and 'minReadySeconds' are forbidden",
                        name=name,
                        group="apps",
                        kind="StatefulSet",
                    )
            if merged.get("spec") != obj.get("spec"):
                merged["metadata"]["generation"] = int(obj["metadata"].get("generation", 1)) + 1
            return self._put(gv, plural, ns, merged, "MODIFIED")

    def patch_node(self, name: str, patch: Obj) -> Obj:
        """``kubectl cordon``/``uncordon``: only ``spec.unschedulable`` may change here."""
        with self.cond:
            names = [self.node_name(i) for i in range(1, self.nodes + 1)]
            if name not in names:
                raise self._not_found("v1", "nodes", name)
            self.patches.append(("nodes", name, copy.deepcopy(patch)))
            spec = patch.get("spec") or {}
            if spec.get("unschedulable"):
                self.unschedulable.add(name)
            else:
                self.unschedulable.discard(name)
            self.cond.notify_all()
        node = next(n for n in self.node_list()["items"] if n["metadata"]["name"] == name)
        return node

    def delete(self, gv: str, plural: str, ns: str, name: str, grace: int | None) -> Obj:
        with self.cond:
            obj = self._store(gv, plural).get((ns, name))
            if obj is None:
                raise self._not_found(gv, plural, name)
            if plural == "namespaces":
                if obj["status"].get("phase") != "Terminating":
                    obj["status"]["phase"] = "Terminating"
                    obj["metadata"]["deletionTimestamp"] = now_rfc3339()
                    self._timers[(gv, plural, ns, name)] = time.monotonic()
                    self._emit(gv, plural, ns, "MODIFIED", obj)
                return copy.deepcopy(obj)
            return self._drop(gv, plural, ns, name)

    def set_node_ready(self, count: int) -> None:
        with self.cond:
            self.nodes_ready_after = 0.0
            self._ready_nodes = count
            self.cond.notify_all()

    # --- watch ------------------------------------------------------------------------------

    def changes_after(
        self, rv: int, gv: str, plural: str, ns: str | None, selector: str
    ) -> tuple[list[Change], int]:
        """Changes newer than ``rv`` for this collection; caller holds ``cond``."""
        if rv < self.compacted_rv:
            raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.compacted_rv})")
        out = [
            c
            for c in self.history
            if c.rv > rv
            and c.gv == gv
            and c.plural == plural
            and (ns is None or c.namespace == ns)
            and matches(c.obj, selector)
        ]
        return out, self.rv
