"""One cloud's readiness for the show, whatever kind of cloud it is.

OpenStack clouds are asked through the provider's preflight (credentials, names,
quotas against the plan); the others have nothing to ask and say why.
"""

from __future__ import annotations

import anyio

from engine.config.model import CloudConfig, DemoConfig
from engine.events import EventSink, PreflightChecked
from engine.redact import one_line


async def preflight_cloud(
    demo: DemoConfig, cloud: CloudConfig
) -> tuple[bool, str, tuple[str, ...]]:
    """``(ok, one-line reason, quota lines)``; read-only, never raises a StepError."""
    if cloud.provider == "sim":
        return True, "simulated cloud: nothing to check", ()
    from engine import kube

    if kube.is_existing(cloud):
        context = cloud.kubernetes.context or "its current context"
        return True, f"existing Kubernetes cluster ({context}): no OpenStack resources needed", ()
    from engine.providers.openstack.preflight import check_cloud

    row = await check_cloud(demo, cloud)
    return row.ok, row.reason, tuple(("ok  " if q.ok else "LOW ") + q.line() for q in row.quotas)


async def check_all(demo: DemoConfig, publish: EventSink) -> None:
    """Ask every cloud at once, read-only; each answer is one ``PreflightChecked``.

    A check that raises is that cloud's answer (not ready, and why): it never takes the
    room down, and the other clouds are still asked.
    """

    async def one(cloud: CloudConfig) -> None:
        try:
            ok, reason, quotas = await preflight_cloud(demo, cloud)
        except Exception as exc:  # a check must never take the room down
            ok, reason, quotas = False, f"{type(exc).__name__}: {one_line(str(exc))}", ()
        publish(PreflightChecked(cloud=cloud.name, ok=ok, reason=reason, quotas=quotas))

    async with anyio.create_task_group() as tg:
        for cloud in demo.clouds:
            tg.start_soon(one, cloud)
