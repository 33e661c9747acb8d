"""What a room watches while it is open: the cluster, and what each cloud sees of its own.

Watchers run until the room closes. None of them may take the show down: the cluster's
watcher turns every failure into an event itself (``ClusterBackend.run``), and a cloud's
watch that raises is reported as one warning line for that cloud.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio

from engine.backend import Backend, CloudBackend
from engine.clock import Clock
from engine.events import EventSink, Notice
from engine.plan import StepContext
from engine.redact import one_line


async def watch_all(
    backend: Backend, contexts: Mapping[str, StepContext], publish: EventSink, clock: Clock
) -> None:
    """Run the cluster's watcher and every cloud's ``watch`` until cancelled."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.cluster.run, publish, clock)
        for name, cloud in backend.clouds.items():
            tg.start_soon(_watch_cloud, cloud, contexts[name], publish)


async def _watch_cloud(cloud: CloudBackend, ctx: StepContext, publish: EventSink) -> None:
    try:
        await cloud.watch(ctx)
    except Exception as exc:  # a watcher must never take the room down
        message = f"watching stopped: {one_line(str(exc))}"
        publish(Notice(level="warning", message=message, cloud=ctx.cloud.name))
