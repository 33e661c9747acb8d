"""CockroachDB pods of one cloud: watched (for the node grid) and killed (for the show).

The watch starts only once this cloud's Kubernetes API has answered (its "kubernetes"
step got through, or the ledger holds objects made through it on an earlier run): before
that there is nothing to watch and nothing to say. It lists first, then streams from that
resource version with ``allowWatchBookmarks``, so a quiet stream still learns how far the
API has moved (BOOKMARK events) and resumes from there instead of from a version the API
server's watch cache has long forgotten. When a stream ends it resumes from the last
version seen; on 410 Gone (inside the stream, as the watch cache answers, or as the HTTP
status) it lists again, quietly; on any other error it says so once, waits and reconnects,
until cancelled. The blocking stream runs in a worker thread that hands each event to the
loop; cancelling shuts the socket so the thread ends at once.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
from kubernetes.client.exceptions import ApiException

from engine.errors import StepError
from engine.events import PodObserved
from engine.kube import names
from engine.kube.apply import MERGE_PATCH
from engine.kube.client import (
    CONNECT_TIMEOUT_S,
    KUBE_ERRORS,
    ApiUnreachable,
    KubeApi,
    answer_of,
    step_error,
)
from engine.kube.identity import PodIdentity, identity_of, pod_of
from engine.kube.kubeconfig import api_answered, connect, is_existing
from engine.kube.teardown import is_kube_record
from engine.kube.topology import namespace_of
from engine.ledger import LedgerRecord
from engine.plan import StepContext
from engine.targets import node_name

Obj = dict[str, Any]

WATCH_S = 30
"""Server-side length of one watch; a silent connection is given this plus a margin."""
LIST_READ_S = 5.0
MIN_STREAM_S = 1.0
API_CHECK_S = 2.0
"""How often a watch not yet started looks whether an earlier run reached the API."""
WATCH_ERRORS: tuple[type[BaseException], ...] = (StepError, *KUBE_ERRORS)
CORDON_RECORD = "k8s_cordon"
"""Ledger type of a cordon this run made (id: the Kubernetes node): teardown uncordons it,
so a crash mid-show never leaves a shared cluster's node unschedulable."""


def pod_observed(
    cloud: str, pod: Obj, deleted: bool = False, identity: PodIdentity | None = None
) -> PodObserved | None:
    """A ``PodObserved`` for a StatefulSet pod (``pod`` = ``cloud/node-N``, node N as
    ``identity`` says: the node on server N), else None (also for a pod not yet placed)."""
    meta = pod.get("metadata") or {}
    identity = identity or PodIdentity({})
    index = identity.index(pod)
    if index is None:
        return None
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    if deleted:
        phase = "Deleted"
    elif meta.get("deletionTimestamp"):
        phase = "Terminating"
    restarts = sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or [])
    ready = not deleted and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return PodObserved(
        cloud=cloud,
        pod=node_name(cloud, index),
        phase=phase,
        restarts=restarts,
        host=str((pod.get("spec") or {}).get("nodeName") or ""),
        ready=ready,
    )


@dataclass
class _WatchState:
    """What the watcher knows between streams; touched only on the event loop."""

    resource_version: str = ""
    last: dict[str, PodObserved] = field(default_factory=dict)
    events: int = 0
    bookmarks: int = 0


def _publish(ctx: StepContext, state: _WatchState, event: PodObserved | None) -> None:
    if event is None or state.last.get(event.pod) == event:
        return
    state.last[event.pod] = event
    ctx.emit(event)


def _lines(resp: Any) -> Iterator[str]:
    """JSON lines of a chunked watch body, as they arrive."""
    buffer = b""
    for chunk in resp.stream(amt=None, decode_content=False):
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line.decode("utf-8", errors="replace")


def _stream(
    api: KubeApi,
    namespace: str,
    selector: str,
    resource_version: str,
    deliver: Any,
    stop: threading.Event,
    responses: list[Any],
) -> str:
    """Blocking: one watch stream; returns ``"expired"`` on 410 Gone, else ``"ended"``."""
    try:
        resp: Any = api.core.list_namespaced_pod(
            namespace,
            label_selector=selector,
            watch=True,
            allow_watch_bookmarks=True,
            resource_version=resource_version,
            timeout_seconds=WATCH_S,
            _preload_content=False,
            _request_timeout=(CONNECT_TIMEOUT_S, WATCH_S + 10),
        )
    except ApiException as err:
        if err.status == 410:  # the version is older than the server keeps
            return "expired"
        raise
    responses.append(resp)
    try:
        for line in _lines(resp):
            if stop.is_set():
                break
            if not line.strip():
                continue
            event = json.loads(line)
            if event.get("type") == "ERROR":
                code = int((event.get("object") or {}).get("code") or 0)
                if code == 410:
                    return "expired"
                raise ApiException(status=code, reason="watch error")
            anyio.from_thread.run_sync(deliver, event)
    finally:
        resp.release_conn()
    return "ended"


def _ledger_knows_api(ctx: StepContext) -> bool:
    """Objects recorded through this cloud's API on an earlier run (a resumed show)."""
    return any(is_kube_record(r) for r in ctx.ledger.live(cloud=ctx.cloud.name))


async def wait_for_api(ctx: StepContext) -> None:
    """Return once this cloud's Kubernetes API has answered, without a word before."""
    answered = api_answered(ctx)
    while not answered.is_set() and not _ledger_knows_api(ctx):
        with anyio.move_on_after(API_CHECK_S):
            await answered.wait()


async def watch_pods(ctx: StepContext, retry_s: float = 2.0) -> None:
    """Publish ``PodObserved`` for this cloud's CockroachDB pods until cancelled."""
    await wait_for_api(ctx)
    state = _WatchState()
    namespace = namespace_of(ctx)
    selector = names.selector(ctx.run_id, ctx.cloud.name)
    last_error = ""
    ctx.log(f"watching CockroachDB pods in namespace {namespace}")
    while True:
        try:
            api = await connect(ctx)
            if not state.resource_version:
                await _relist(ctx, api, namespace, selector, state)
            outcome = await _watch_once(ctx, api, namespace, selector, state)
            last_error = ""
            if outcome == "expired":
                state.resource_version = ""
            elif outcome == "too short":
                # A proxy that closes every stream at once must not make us spin.
                await ctx.clock.sleep(retry_s)
        except WATCH_ERRORS as err:
            # A bad kubeconfig, a dropped stream, a server stopped: the panes keep their
            # last state and the watcher keeps trying.
            message = (
                err.message if isinstance(err, StepError) else step_error("pod watch", err).message
            )
            if message != last_error:
                ctx.log(message + "; reconnecting", level="warning")
                last_error = message
            state.resource_version = ""
            await ctx.clock.sleep(retry_s)


async def _relist(
    ctx: StepContext, api: KubeApi, namespace: str, selector: str, state: _WatchState
) -> None:
    """List the pods (pods gone since are published as deleted) and note the version."""
    listing = await api.call(
        api.core.list_namespaced_pod, namespace, label_selector=selector, read_s=LIST_READ_S
    )
    seen = set()
    for pod in listing.get("items") or []:
        event = pod_observed(ctx.cloud.name, pod, identity=identity_of(ctx))
        _publish(ctx, state, event)
        if event is not None:
            seen.add(event.pod)
    for gone in [p for p in state.last if p not in seen]:
        _publish(ctx, state, PodObserved(cloud=ctx.cloud.name, pod=gone, phase="Deleted"))
    state.resource_version = str(listing["metadata"]["resourceVersion"])


async def _watch_once(
    ctx: StepContext, api: KubeApi, namespace: str, selector: str, state: _WatchState
) -> str:
    """One stream: ``"ended"``, ``"expired"`` (410: list again) or ``"too short"``."""
    stop = threading.Event()
    responses: list[Any] = []
    state.events = state.bookmarks = 0
    since = state.resource_version

    def deliver(event: Obj) -> None:
        if stop.is_set():
            return
        obj = event.get("object") or {}
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            state.resource_version = str(version)
        if event.get("type") == "BOOKMARK":  # only a newer version, no object
            state.bookmarks += 1
            return
        state.events += 1
        deleted = event.get("type") == "DELETED"
        _publish(ctx, state, pod_observed(ctx.cloud.name, obj, deleted, identity_of(ctx)))

    began = anyio.current_time()
    path = f"/api/v1/namespaces/{namespace}/pods"
    try:
        outcome: str = await anyio.to_thread.run_sync(
            lambda: _stream(api, namespace, selector, since, deliver, stop, responses),
            limiter=api.watch_limiter,
            abandon_on_cancel=True,
        )
    except KUBE_ERRORS as err:
        api.calls.request("WATCH", path, answer_of(err), anyio.current_time() - began, ok=False)
        raise
    finally:
        stop.set()
        for resp in responses:
            # Unblocks a thread still reading (cancel); a finished stream is already released.
            with contextlib.suppress(RuntimeError, OSError, AttributeError):
                resp.shutdown()
    took = anyio.current_time() - began
    if outcome == "expired":
        answer = f"410 Gone: version {since} is too old, listing again"
    else:
        answer = f"{state.events} change(s), {state.bookmarks} bookmark(s), ended"
    # Quiet streams (nothing changed) say so once, like a poll with the same answer.
    api.calls.request("WATCH", path, answer, took, ok=True)
    if outcome == "ended" and took < MIN_STREAM_S:
        return "too short"
    return outcome


# --- chaos ---------------------------------------------------------------------------------


async def _pods(ctx: StepContext, api: KubeApi, what: str) -> list[Obj]:
    try:
        listing = await api.call(
            api.core.list_namespaced_pod,
            namespace_of(ctx),
            label_selector=names.selector(ctx.run_id, ctx.cloud.name),
            read_s=LIST_READ_S,
        )
    except KUBE_ERRORS as err:
        raise step_error(what, err) from err
    return list(listing.get("items") or [])


async def _delete_pod(
    ctx: StepContext, api: KubeApi, pod: str, what: str, grace_s: int | None
) -> None:
    """Delete one pod; ``grace_s`` None means the pod's own termination grace period."""
    extra = {} if grace_s is None else {"grace_period_seconds": grace_s}
    try:
        await api.call(api.core.delete_namespaced_pod, pod, namespace_of(ctx), **extra)
        how = "gracefully" if grace_s is None else f"with grace period {grace_s}"
        ctx.log(f"{what}: deleted pod {pod} {how}")
    except ApiException as err:
        if err.status != 404:
            raise step_error(what, err) from err
        ctx.log(f"{what}: pod {pod} was already gone")
    except KUBE_ERRORS as err:
        raise step_error(what, err) from err


async def _cordon(ctx: StepContext, api: KubeApi, host: str, on: bool, what: str) -> None:
    """``kubectl cordon``/``uncordon``: set the node's ``spec.unschedulable``."""
    body = {"spec": {"unschedulable": on}}
    try:
        await api.call(api.core.patch_node, host, body, _content_type=MERGE_PATCH)
    except KUBE_ERRORS as err:
        raise step_error(what, err) from err
    ctx.log(f"{what}: {'cordoned' if on else 'uncordoned'} Kubernetes node {host}")


async def _find(ctx: StepContext, api: KubeApi, index: int, what: str) -> Obj | None:
    return pod_of(identity_of(ctx), await _pods(ctx, api, what), index)


async def restart_pod(ctx: StepContext, index: int) -> tuple[str, ...]:
    """Restart node ``index``'s pod: a graceful delete (SIGTERM, CockroachDB drains); the
    StatefulSet recreates it under the same name on the same node, with the same store
    and node ID. Nothing to revive."""
    node = node_name(ctx.cloud.name, index)
    what = f"restart pod of {node}"
    api = await connect(ctx)
    pod = await _find(ctx, api, index, what)
    if pod is None:
        raise StepError(f"{what}: no pod of {node} is placed (is its node stopped?)")
    await _delete_pod(ctx, api, str(pod["metadata"]["name"]), what, None)
    return (node,)


def cordons(ctx: StepContext) -> dict[str, LedgerRecord]:
    """This cloud's cordons still in force, by the node (``cloud/node-N``) they stop."""
    return {
        r.get("node"): r
        for r in ctx.ledger.live(ctx.cloud.name)
        if r.resource_type == CORDON_RECORD
    }


async def stop_node(ctx: StepContext, index: int) -> tuple[str, ...]:
    """Stop node ``index`` and keep it down: cordon its Kubernetes node, then delete its pod
    (grace 0). The StatefulSet's new pod stays Pending until ``start_node`` uncordons."""
    node = node_name(ctx.cloud.name, index)
    what = f"stop {node}"
    api = await connect(ctx)
    identity = identity_of(ctx)
    pod = pod_of(identity, await _pods(ctx, api, what), index)
    host = identity.host(index) or str(((pod or {}).get("spec") or {}).get("nodeName") or "")
    if not host:
        raise StepError(f"{what}: no Kubernetes node found for it")
    if node not in cordons(ctx):
        ctx.record(CORDON_RECORD, host, host, node=node)
    await _cordon(ctx, api, host, True, what)
    if pod is not None:
        await _delete_pod(ctx, api, str(pod["metadata"]["name"]), what, 0)
    return (node,)


async def start_node(ctx: StepContext, index: int) -> tuple[str, ...]:
    """Revive a stopped node: uncordon its Kubernetes node; the Pending pod is scheduled."""
    node = node_name(ctx.cloud.name, index)
    record = cordons(ctx).get(node)
    if record is None:
        ctx.log(f"revive {node}: this run has not stopped it; nothing to uncordon")
        return (node,)
    api = await connect(ctx)
    await _cordon(ctx, api, record.resource_id, False, f"revive {node}")
    ctx.forget(record)
    return (node,)


async def undo_cordon(record: LedgerRecord, ctx: StepContext) -> bool:
    """Teardown of a cordon record: uncordon. False for any other record. On a k3s cluster
    of this run an unreachable API lets it go (the node goes with its server)."""
    if record.resource_type != CORDON_RECORD:
        return False
    try:
        api = await connect(ctx)
        await _cordon(ctx, api, record.resource_id, False, f"teardown of {record.get('node')}")
    except ApiUnreachable:
        if is_existing(ctx.cloud):
            raise
        ctx.log(f"uncordon {record.resource_id}: k3s API unreachable; it goes with its server")
    return True


async def node_indexes(ctx: StepContext) -> list[int]:
    """Every node index of this cloud: its servers, or (existing cluster) its pods."""
    identity = identity_of(ctx)
    if identity.hosts:
        return sorted(identity.hosts.values())
    api = await connect(ctx)
    pods = await _pods(ctx, api, f"list {ctx.cloud.name}")
    return sorted({i for i in (identity.index(p) for p in pods) if i is not None})
