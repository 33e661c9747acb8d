"""Is every cloud ready for the show? Authenticate, resolve names, compare quotas to the plan.

``preflight(demo)`` checks all OpenStack clouds at once and returns one typed row per
cloud; ``crossroom check`` prints them and the presenter's check screen shows them.
Read-only: nothing is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import StepError
from engine.providers.openstack.access import lookup
from engine.providers.openstack.connection import API_TIMEOUT_S, CloudSession
from engine.providers.openstack.errors import step_error
from engine.providers.openstack.rules import DEFAULT_EGRESS_RULES, demo_rules


@dataclass(frozen=True)
class QuotaRow:
    """One quota: what the plan needs against what is left (``limit`` -1 = unlimited)."""

    service: str
    name: str
    need: int
    used: int
    limit: int

    @property
    def ok(self) -> bool:
        return self.limit < 0 or self.used + self.need <= self.limit

    def line(self) -> str:
        limit = "unlimited" if self.limit < 0 else str(self.limit)
        return f"{self.service} {self.name}: need {self.need}, used {self.used} of {limit}"


@dataclass(frozen=True)
class CloudCheck:
    """One row of the preflight table."""

    cloud: str
    label: str
    ok: bool
    reason: str
    quotas: tuple[QuotaRow, ...] = ()


def _limit(value: Any) -> int:
    return -1 if value is None else int(value)


def _quotas(conn: Any, project_id: str, cloud: CloudConfig, flavor: Any) -> list[QuotaRow]:
    n = cloud.servers
    lim = conn.compute.get_limits().absolute
    rows = [
        QuotaRow("compute", "instances", n, int(lim.instances_used or 0), _limit(lim.instances)),
        QuotaRow(
            "compute",
            "cores",
            n * int(flavor.vcpus or 0),
            int(lim.total_cores_used or 0),
            _limit(lim.total_cores),
        ),
        QuotaRow(
            "compute",
            "RAM MB",
            n * int(flavor.ram or 0),
            int(lim.total_ram_used or 0),
            _limit(lim.total_ram),
        ),
    ]
    net = conn.network.get_quota(project_id, details=True)
    for attr, name, need in (
        ("floating_ips", "floating IPs", n),
        ("security_groups", "security groups", 1),
        (
            "security_group_rules",
            "security group rules",
            len(demo_rules(cloud)) + DEFAULT_EGRESS_RULES,
        ),
    ):
        q = getattr(net, attr) or {}
        used = int(q.get("used", 0) or 0) + int(q.get("reserved", 0) or 0)
        rows.append(QuotaRow("network", name, need, used, _limit(q.get("limit"))))
    if cloud.volume_size_gb > 0:
        if not conn.has_service("block-storage"):
            rows.append(QuotaRow("block-storage", "service", 1, 0, 0))
        else:
            qs = conn.block_storage.get_quota_set(project_id, usage=True)
            usage = qs.usage or {}
            reserved = getattr(qs, "reservation", None) or {}
            for attr, name, need in (
                ("volumes", "volumes", n),
                ("gigabytes", "gigabytes", n * cloud.volume_size_gb),
            ):
                # openstacksdk splits Cinder's {in_use, reserved, limit} into ``usage`` and
                # ``reservation`` (plain numbers); accept the raw nested shape too.
                u = usage.get(attr)
                if isinstance(u, dict):
                    used = int(u.get("in_use", 0) or 0) + int(u.get("reserved", 0) or 0)
                else:
                    used = int(u or 0) + int(reserved.get(attr, 0) or 0)
                rows.append(QuotaRow("block-storage", name, need, used, _limit(getattr(qs, attr))))
    return rows


async def check_cloud(
    demo: DemoConfig, cloud: CloudConfig, *, api_timeout: float = API_TIMEOUT_S
) -> CloudCheck:
    """Check one cloud; every failure becomes the row's one-line reason."""
    session: CloudSession | None = None
    try:
        session = await CloudSession.open_async(cloud, api_timeout=api_timeout)
        session.retries = 1
        project_id = await session.authenticate()
        found = await session.call(
            lookup,
            session.connection,
            cloud.flavor,
            cloud.image,
            cloud.network,
            cloud.floating_ip_pool,
            what="resolve",
        )
        rows = tuple(
            await session.call(
                _quotas, session.connection, project_id, cloud, found["flavor"], what="quotas"
            )
        )
    except StepError as err:
        return CloudCheck(cloud.name, cloud.label, False, err.message)
    except Exception as exc:
        return CloudCheck(cloud.name, cloud.label, False, step_error(exc, "check").message)
    finally:
        if session is not None:
            session.close()
    short = [r for r in rows if not r.ok]
    if short:
        reason = "quota too small: " + "; ".join(r.line() for r in short)
        return CloudCheck(cloud.name, cloud.label, False, reason, rows)
    return CloudCheck(
        cloud.name,
        cloud.label,
        True,
        f"ready: {cloud.servers} x {cloud.flavor}, image {cloud.image}",
        rows,
    )


async def preflight(demo: DemoConfig, *, api_timeout: float = API_TIMEOUT_S) -> list[CloudCheck]:
    """Check every OpenStack cloud of the demo concurrently; rows in the demo's order."""
    clouds = [c for c in demo.clouds if c.provider == "openstack"]
    results: dict[str, CloudCheck] = {}

    async def one(cloud: CloudConfig) -> None:
        results[cloud.name] = await check_cloud(demo, cloud, api_timeout=api_timeout)

    async with anyio.create_task_group() as tg:
        for cloud in clouds:
            tg.start_soon(one, cloud)
    return [results[c.name] for c in clouds]
