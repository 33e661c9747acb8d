"""Is every cloud ready for the show? Authenticate, resolve names, compare quotas to the plan.

``preflight(demo)`` checks all OpenStack clouds at once and returns one typed row per
cloud; ``crossroom check`` prints them and the presenter's check screen shows them.
Where a run's security groups already exist, their rules are read back and judged flow by
flow against the fleet's floating IPs (``rules.reachability``). Read-only: nothing is
created.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import anyio

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import StepError
from engine.providers.openstack import inventory
from engine.providers.openstack.access import lookup
from engine.providers.openstack.connection import API_TIMEOUT_S, CloudSession
from engine.providers.openstack.errors import step_error
from engine.providers.openstack.rules import Reachability, reachability, rule_count


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
    flows: tuple[str, ...] = ()
    """Per run found in the cloud: the reachability summary, then each problem."""


@dataclass(frozen=True)
class _Network:
    """What a cloud holds of existing runs: each run's group rules and floating IPs."""

    groups: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    addresses: dict[str, list[str]] = field(default_factory=dict)


def _network(conn: Any, cloud: str) -> _Network:
    net = _Network()
    for g in inventory.security_groups(conn, cloud, None):
        group = conn.network.get_security_group(g.resource_id)
        net.groups[g.run_id] = (g.resource_id, [dict(r) for r in group.security_group_rules or []])
    for ip in inventory.floating_ips(conn, cloud, None):
        net.addresses.setdefault(ip.run_id, []).append(ip.address)
    return net


def _limit(value: Any) -> int:
    return -1 if value is None else int(value)


def _quotas(
    conn: Any, project_id: str, cloud: CloudConfig, flavor: Any, peers: int
) -> list[QuotaRow]:
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
        ("security_group_rules", "security group rules", rule_count(cloud, peers)),
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


def _peers(demo: DemoConfig, cloud: CloudConfig) -> int:
    """Floating IPs the other OpenStack clouds will have (one /32 rule pair each)."""
    return sum(c.servers for c in demo.clouds if c.provider == "openstack" and c.name != cloud.name)


async def check_cloud(
    demo: DemoConfig, cloud: CloudConfig, *, api_timeout: float = API_TIMEOUT_S
) -> CloudCheck:
    """Check one cloud; every failure becomes the row's one-line reason."""
    return (await _check_cloud(demo, cloud, api_timeout))[0]


async def _check_cloud(
    demo: DemoConfig, cloud: CloudConfig, api_timeout: float
) -> tuple[CloudCheck, _Network]:
    session: CloudSession | None = None
    none = _Network()
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
                _quotas,
                session.connection,
                project_id,
                cloud,
                found["flavor"],
                _peers(demo, cloud),
                what="quotas",
            )
        )
        network = await session.call(
            _network, session.connection, cloud.name, what="security groups"
        )
    except StepError as err:
        return CloudCheck(cloud.name, cloud.label, False, err.message), none
    except Exception as exc:
        return CloudCheck(cloud.name, cloud.label, False, step_error(exc, "check").message), none
    finally:
        if session is not None:
            session.close()
    short = [r for r in rows if not r.ok]
    if short:
        reason = "quota too small: " + "; ".join(r.line() for r in short)
        return CloudCheck(cloud.name, cloud.label, False, reason, rows), network
    return CloudCheck(
        cloud.name,
        cloud.label,
        True,
        f"ready: {cloud.servers} x {cloud.flavor}, image {cloud.image}",
        rows,
    ), network


def fleet_reachability(
    demo: DemoConfig, networks: dict[str, _Network]
) -> dict[str, list[tuple[str, Reachability]]]:
    """For each cloud, each run whose group exists there: its rules against the fleet."""
    out: dict[str, list[tuple[str, Reachability]]] = {}
    for cloud in demo.clouds:
        net = networks.get(cloud.name)
        if net is None:
            continue
        for run_id, (group_id, rules) in sorted(net.groups.items()):
            peers = [
                a
                for name, other in networks.items()
                if name != cloud.name
                for a in other.addresses.get(run_id, [])
            ]
            result = reachability(cloud, group_id, rules, peers)
            out.setdefault(cloud.name, []).append((run_id, result))
    return out


def _with_flows(row: CloudCheck, results: list[tuple[str, Reachability]]) -> CloudCheck:
    lines: list[str] = []
    ok = row.ok
    for run_id, result in results:
        lines.append(f"run {run_id}: {result.summary()}")
        lines += [f"  {line}" for line in result.lines() if not line.startswith("ok")]
        ok = ok and result.ok
    reason = row.reason
    if row.ok and not ok:
        reason = "security group: " + "; ".join(
            f"run {r}: {res.summary()}" for r, res in results if not res.ok
        )
    return replace(row, ok=ok, reason=reason, flows=tuple(lines))


async def preflight(demo: DemoConfig, *, api_timeout: float = API_TIMEOUT_S) -> list[CloudCheck]:
    """Check every OpenStack cloud of the demo concurrently; rows in the demo's order."""
    clouds = [c for c in demo.clouds if c.provider == "openstack"]
    results: dict[str, CloudCheck] = {}
    networks: dict[str, _Network] = {}

    async def one(cloud: CloudConfig) -> None:
        results[cloud.name], networks[cloud.name] = await _check_cloud(demo, cloud, api_timeout)

    async with anyio.create_task_group() as tg:
        for cloud in clouds:
            tg.start_soon(one, cloud)
    flows = fleet_reachability(demo, networks)
    return [_with_flows(results[c.name], flows.get(c.name, [])) for c in clouds]
