"""Find what crossroom runs left in a cloud, by their marks (see ``naming``).

Blocking functions: call them through ``CloudSession.call``. Steps use them to stay
idempotent (find before create), teardown to confirm a resource is gone, and the sweep
to find leftovers after a crash. Only resources that carry our marks are ever returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.providers.openstack import naming

KINDS: tuple[str, ...] = ("volume", "server", "port", "floating_ip", "security_group", "keypair")
"""Resource kinds, in the order they can be deleted (dependents first)."""


@dataclass(frozen=True)
class Found:
    """One resource in the cloud that carries a crossroom mark."""

    cloud: str
    resource_type: str
    resource_id: str
    name: str
    run_id: str
    index: int | None = None
    status: str = ""
    address: str = ""


def _ours(found: dict[str, str], cloud: str, run_id: str | None) -> bool:
    run = found.get(naming.RUN_KEY)
    if not run or (run_id is not None and run != run_id):
        return False
    return found.get(naming.CLOUD_KEY, cloud) == cloud


def servers(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    out = []
    for s in conn.compute.servers(details=True):
        found = naming.parse_marks(s.metadata or {})
        if _ours(found, cloud, run_id):
            out.append(
                Found(
                    cloud,
                    "server",
                    s.id,
                    s.name,
                    found[naming.RUN_KEY],
                    naming.index_of(found),
                    str(s.status or ""),
                )
            )
    return sorted(out, key=lambda f: (f.run_id, f.index or 0))


def volumes(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    if not conn.has_service("block-storage"):
        return []
    out = []
    for v in conn.block_storage.volumes(details=True):
        found = naming.parse_marks(v.metadata or {})
        if _ours(found, cloud, run_id):
            out.append(
                Found(
                    cloud,
                    "volume",
                    v.id,
                    v.name or "",
                    found[naming.RUN_KEY],
                    naming.index_of(found),
                    str(v.status or ""),
                )
            )
    return sorted(out, key=lambda f: (f.run_id, f.index or 0))


def _neutron_marks(res: Any) -> dict[str, str]:
    found = naming.parse_marks(res.description or "")
    found.update(naming.parse_marks(list(res.tags or [])))
    return found


def floating_ips(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    out = []
    for ip in conn.network.ips():
        found = _neutron_marks(ip)
        if _ours(found, cloud, run_id):
            out.append(
                Found(
                    cloud,
                    "floating_ip",
                    ip.id,
                    str(ip.floating_ip_address or ""),
                    found[naming.RUN_KEY],
                    naming.index_of(found),
                    str(ip.port_id or ""),
                    str(ip.floating_ip_address or ""),
                )
            )
    return sorted(out, key=lambda f: (f.run_id, f.index or 0))


def fixed_ip(port: Any) -> str:
    """The port's IPv4 fixed address (k3s runs on it), else its first one."""
    addresses = [str(f.get("ip_address", "")) for f in port.fixed_ips or []]
    v4 = [a for a in addresses if a and ":" not in a]
    return (v4 or addresses or [""])[0]


def ports(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    """Ports made before their servers (so their fixed IPs are known); status = device."""
    out = []
    for port in conn.network.ports():
        found = _neutron_marks(port)
        if _ours(found, cloud, run_id):
            out.append(
                Found(
                    cloud,
                    "port",
                    port.id,
                    str(port.name or ""),
                    found[naming.RUN_KEY],
                    naming.index_of(found),
                    str(port.device_id or ""),
                    fixed_ip(port),
                )
            )
    return sorted(out, key=lambda f: (f.run_id, f.index or 0))


def security_groups(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    out = []
    for sg in conn.network.security_groups():
        found = _neutron_marks(sg)
        if _ours(found, cloud, run_id):
            out.append(Found(cloud, "security_group", sg.id, sg.name, found[naming.RUN_KEY]))
    return out


def keypairs(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    out = []
    for kp in conn.compute.keypairs():
        run = naming.keypair_run(kp.name, cloud, run_id)
        if run is not None:
            out.append(Found(cloud, "keypair", kp.name, kp.name, run))
    return out


def everything(conn: Any, cloud: str, run_id: str | None) -> list[Found]:
    """All marked resources of one cloud, dependents first (the order to delete them)."""
    return [
        *volumes(conn, cloud, run_id),
        *servers(conn, cloud, run_id),
        *ports(conn, cloud, run_id),
        *floating_ips(conn, cloud, run_id),
        *security_groups(conn, cloud, run_id),
        *keypairs(conn, cloud, run_id),
    ]
