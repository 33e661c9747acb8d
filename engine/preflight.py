"""One cloud's readiness for the show, whatever kind of cloud it is.

OpenStack clouds are asked through the provider's preflight (credentials, names,
quotas against the plan); the others have nothing to ask and say why.
"""

from __future__ import annotations

from engine.config.model import CloudConfig, DemoConfig


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
