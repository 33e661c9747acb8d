"""CockroachDB pods of one cloud: watched (for the node grid) and killed (for the show).

The watch lists first, then streams from that resource version; when a stream ends it
resumes from the last version seen, on 410 Gone it lists again, and on any error it waits
and reconnects, until cancelled. The blocking stream runs in a worker thread that hands
each event to the loop; cancelling shuts the socket so the thread ends at once.
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
from engine.kube.client import CONNECT_TIMEOUT_S, KUBE_ERRORS, KubeApi, step_error
from engine.kube.kubeconfig import connect
from engine.kube.topology import namespace_of
from engine.plan import StepContext
from engine.targets import node_name

Obj = dict[str, Any]

WATCH_S = 30
"""Server-side length of one watch; a silent connection is given this plus a margin."""
LIST_READ_S = 5.0
MIN_STREAM_S = 1.0
WATCH_ERRORS: tuple[type[BaseException], ...] = (StepError, *KUBE_ERRORS)


def pod_observed(cloud: str, pod: Obj, deleted: bool = False) -> PodObserved | None:
    """A ``PodObserved`` for a StatefulSet pod (``pod`` = ``cloud/node-N``), else None."""
    meta = pod.get("metadata") or {}
    index = names.node_index(str(meta.get("name", "")))
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
    resp: Any = api.core.list_namespaced_pod(
        namespace,
        label_selector=selector,
        watch=True,
        resource_version=resource_version,
        timeout_seconds=WATCH_S,
        _preload_content=False,
        _request_timeout=(CONNECT_TIMEOUT_S, WATCH_S + 10),
    )
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


async def watch_pods(ctx: StepContext, retry_s: float = 2.0) -> None:
    """Publish ``PodObserved`` for this cloud's CockroachDB pods until cancelled."""
    state = _WatchState()
    namespace = namespace_of(ctx)
    selector = names.selector(ctx.run_id, ctx.cloud.name)
    last_error = ""
    while True:
        try:
            api = await connect(ctx)
            if not state.resource_version:
                listing = await api.call(
                    api.core.list_namespaced_pod,
                    namespace,
                    label_selector=selector,
                    read_s=LIST_READ_S,
                )
                seen = set()
                for pod in listing.get("items") or []:
                    event = pod_observed(ctx.cloud.name, pod)
                    _publish(ctx, state, event)
                    if event is not None:
                        seen.add(event.pod)
                for gone in [p for p in state.last if p not in seen]:
                    _publish(
                        ctx, state, PodObserved(cloud=ctx.cloud.name, pod=gone, phase="Deleted")
                    )
                state.resource_version = str(listing["metadata"]["resourceVersion"])
            started = ctx.clock.now()
            outcome = await _watch_once(ctx, api, namespace, selector, state)
            if outcome == "expired":
                state.resource_version = ""
            last_error = ""
            if ctx.clock.now() - started < MIN_STREAM_S:
                # A proxy that closes every stream at once must not make us spin.
                await ctx.clock.sleep(retry_s)
        except WATCH_ERRORS as err:
            # No address yet (k3s still booting), a bad kubeconfig, a dropped stream: the
            # panes keep their last state and the watcher keeps trying.
            message = (
                err.message if isinstance(err, StepError) else step_error("pod watch", err).message
            )
            if message != last_error:
                ctx.log(message + "; reconnecting", level="warning")
                last_error = message
            state.resource_version = ""
            await ctx.clock.sleep(retry_s)


async def _watch_once(
    ctx: StepContext, api: KubeApi, namespace: str, selector: str, state: _WatchState
) -> str:
    stop = threading.Event()
    responses: list[Any] = []

    def deliver(event: Obj) -> None:
        if stop.is_set():
            return
        obj = event.get("object") or {}
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            state.resource_version = str(version)
        _publish(
            ctx, state, pod_observed(ctx.cloud.name, obj, deleted=event.get("type") == "DELETED")
        )

    try:
        outcome: str = await anyio.to_thread.run_sync(
            lambda: _stream(
                api, namespace, selector, state.resource_version, deliver, stop, responses
            ),
            limiter=api.watch_limiter,
            abandon_on_cancel=True,
        )
        return outcome
    finally:
        stop.set()
        for resp in responses:
            # Unblocks a thread still reading (cancel); a finished stream is already released.
            with contextlib.suppress(RuntimeError, OSError, AttributeError):
                resp.shutdown()


async def kill_pod(ctx: StepContext, index: int) -> None:
    """Kill node ``index``: delete its pod with grace period 0 (already gone is fine).

    The StatefulSet controller brings the pod back under the same name by itself.
    """
    api = await connect(ctx)
    pod = names.pod_name(index)
    try:
        await api.call(
            api.core.delete_namespaced_pod, pod, namespace_of(ctx), grace_period_seconds=0
        )
        ctx.log(f"deleted pod {pod} ({node_name(ctx.cloud.name, index)}) with grace period 0")
    except ApiException as err:
        if err.status != 404:
            raise step_error(f"kill {node_name(ctx.cloud.name, index)}", err) from err
        ctx.log(f"pod {pod} was already gone")
    except KUBE_ERRORS as err:
        raise step_error(f"kill {node_name(ctx.cloud.name, index)}", err) from err


async def kill_all_pods(ctx: StepContext) -> tuple[str, ...]:
    """Kill every CockroachDB pod of this cloud; returns the nodes hit."""
    api = await connect(ctx)
    try:
        listing = await api.call(
            api.core.list_namespaced_pod,
            namespace_of(ctx),
            label_selector=names.selector(ctx.run_id, ctx.cloud.name),
            read_s=LIST_READ_S,
        )
    except KUBE_ERRORS as err:
        raise step_error(f"kill {ctx.cloud.name}", err) from err
    indexes = sorted(
        i
        for i in (names.node_index(p["metadata"]["name"]) for p in listing.get("items") or [])
        if i is not None
    )
    async with anyio.create_task_group() as tg:
        for index in indexes:
            tg.start_soon(kill_pod, ctx, index)
    return tuple(node_name(ctx.cloud.name, i) for i in indexes)


async def revive_pod(ctx: StepContext, index: int) -> None:
    """Nothing to undo: the StatefulSet has already recreated the pod (or is doing so)."""
    ctx.log(f"{node_name(ctx.cloud.name, index)}: the StatefulSet brings its pod back by itself")
