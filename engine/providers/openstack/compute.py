"""Floating IPs, servers, volumes and the wait for boot: the steps that make machines.

Floating IPs come first (the k3s certificate must name them) and are associated once
their server is ACTIVE. Each server's Neutron port is made before the servers, so its
fixed IP is known when the user data is rendered: k3s runs on fixed IPs inside a cloud
and never depends on the cloud hairpinning traffic to its own floating IPs. Waits are
polling loops on the demo clock, never ``wait=True``, so every poll reports progress
("server 2/3 ACTIVE") and a cancel lands between polls.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from engine.errors import PermanentStepError
from engine.plan import StepContext
from engine.providers.openstack import inventory, naming
from engine.providers.openstack.access import ensure_recorded, ensure_resolved, sync_rules
from engine.providers.openstack.connection import CloudSession
from engine.providers.openstack.errors import one_line, quota_message

POLL_S = 2.0
"""Demo seconds between two polls of a wait."""

UserData = Callable[[StepContext, int], str]


def default_user_data(ctx: StepContext, index: int) -> str:
    """A minimal cloud-config: the hostname, nothing to install."""
    return f"#cloud-config\nhostname: {naming.server_name(ctx.run_id, ctx.cloud.name, index)}\n"


def _by_index(found: list[inventory.Found]) -> dict[int, inventory.Found]:
    return {f.index: f for f in found if f.index is not None}


async def _ours(s: CloudSession, ctx: StepContext, kind: str) -> dict[int, inventory.Found]:
    fn = getattr(inventory, kind)
    found: list[inventory.Found] = await s.call(
        fn, s.connection, ctx.cloud.name, ctx.run_id, what=f"list {kind.replace('_', ' ')}"
    )
    return _by_index(found)


def _create_ip(conn: Any, pool_id: str, run_id: str, cloud: str, index: int) -> Any:
    return conn.network.create_ip(
        floating_network_id=pool_id, description=naming.description(run_id, cloud, index)
    )


async def floating_ips(s: CloudSession, ctx: StepContext) -> None:
    """One floating IP per server, allocated before boot and tagged with the run."""
    await ensure_resolved(s, ctx)
    n, run, cloud = ctx.cloud.servers, ctx.run_id, ctx.cloud.name
    have = await _ours(s, ctx, "floating_ips")
    for i in range(1, n + 1):
        if i not in have:
            ip = await s.call(
                _create_ip,
                s.connection,
                ctx.facts["pool_id"],
                run,
                cloud,
                i,
                what=f"allocate floating IP {i}/{n}",
                idempotent=False,
            )
            address = str(ip.floating_ip_address)
            ctx.record("floating_ip", ip.id, address, index=str(i), address=address)
            await s.call(
                s.connection.network.set_tags, ip, naming.tags(run, cloud, i), what="tag IP"
            )
            have[i] = inventory.Found(cloud, "floating_ip", ip.id, address, run, i, "", address)
        else:
            f = have[i]
            ensure_recorded(
                ctx, "floating_ip", f.resource_id, f.name, index=str(i), address=f.address
            )
        ctx.progress(f"floating IP {i}/{n}: {have[i].address}", i, n)
    ctx.facts["floating_ips"] = [have[i].address for i in range(1, n + 1)]
    ctx.facts["floating_ip_ids"] = [have[i].resource_id for i in range(1, n + 1)]
    # publish: the ledger now holds this cloud's addresses; open our group to the fleet's
    group_id = await _ensure_group_id(s, ctx)
    await sync_rules(s, ctx, group_id)


async def ensure_floating_ips(s: CloudSession, ctx: StepContext) -> None:
    if "floating_ip_ids" not in ctx.facts:
        have = await _ours(s, ctx, "floating_ips")
        n = ctx.cloud.servers
        ctx.facts["floating_ips"] = [have[i].address for i in range(1, n + 1) if i in have]
        ctx.facts["floating_ip_ids"] = [have[i].resource_id for i in range(1, n + 1) if i in have]


async def _ensure_group_id(s: CloudSession, ctx: StepContext) -> str:
    if "security_group_id" not in ctx.facts:
        found = await s.call(
            inventory.security_groups,
            s.connection,
            ctx.cloud.name,
            ctx.run_id,
            what="find security group",
        )
        if not found:
            raise PermanentStepError("servers: the run's security group is gone")
        ctx.facts["security_group_id"] = found[0].resource_id
    return str(ctx.facts["security_group_id"])


def _create_port(
    conn: Any, network_id: str, group_id: str, run_id: str, cloud: str, index: int
) -> Any:
    return conn.network.create_port(
        network_id=network_id,
        name=naming.port_name(run_id, cloud, index),
        description=naming.description(run_id, cloud, index),
        security_group_ids=[group_id],
    )


async def ports(s: CloudSession, ctx: StepContext, group_id: str) -> None:
    """One port per server, in the run's group, made (and recorded) before any server."""
    n, run, cloud = ctx.cloud.servers, ctx.run_id, ctx.cloud.name
    have = await _ours(s, ctx, "ports")
    for i in range(1, n + 1):
        if i not in have:
            port = await s.call(
                _create_port,
                s.connection,
                ctx.facts["network_id"],
                group_id,
                run,
                cloud,
                i,
                what=f"create port {i}/{n}",
                idempotent=False,
            )
            fixed = inventory.fixed_ip(port)
            ctx.record("port", port.id, str(port.name), index=str(i), address=fixed)
            await s.call(
                s.connection.network.set_tags, port, naming.tags(run, cloud, i), what="tag port"
            )
            have[i] = inventory.Found(cloud, "port", port.id, str(port.name), run, i, "", fixed)
        else:
            f = have[i]
            ensure_recorded(ctx, "port", f.resource_id, f.name, index=str(i), address=f.address)
        if not have[i].address:
            raise PermanentStepError(f"port {i}/{n} got no fixed IP on network {ctx.cloud.network}")
        ctx.progress(f"port {i}/{n}: fixed IP {have[i].address}", i, n)
    ctx.facts["port_ids"] = [have[i].resource_id for i in range(1, n + 1)]
    ctx.facts["fixed_ips"] = [have[i].address for i in range(1, n + 1)]


async def ensure_ports(s: CloudSession, ctx: StepContext) -> None:
    if "fixed_ips" not in ctx.facts:
        have = await _ours(s, ctx, "ports")
        n = ctx.cloud.servers
        ctx.facts["port_ids"] = [have[i].resource_id for i in range(1, n + 1) if i in have]
        ctx.facts["fixed_ips"] = [have[i].address for i in range(1, n + 1) if i in have]


async def servers(s: CloudSession, ctx: StepContext, user_data: UserData) -> None:
    """Create the ports, then the servers on them (without waiting for ACTIVE)."""
    await ensure_resolved(s, ctx)
    await ensure_floating_ips(s, ctx)
    group_id = await _ensure_group_id(s, ctx)
    await ports(s, ctx, group_id)
    n, run, cloud = ctx.cloud.servers, ctx.run_id, ctx.cloud.name
    have = await _ours(s, ctx, "servers")
    for i in range(1, n + 1):
        name = naming.server_name(run, cloud, i)
        if i not in have:
            text = user_data(ctx, i)
            server = await s.call(
                s.connection.compute.create_server,
                name=name,
                flavor_id=ctx.facts["flavor_id"],
                image_id=ctx.facts["image_id"],
                # the port carries the security group; Nova leaves a given port's alone
                networks=[{"port": ctx.facts["port_ids"][i - 1]}],
                key_name=naming.keypair_name(run, cloud),
                user_data=base64.b64encode(text.encode()).decode(),
                metadata=naming.marks(run, cloud, i),
                what=f"create server {i}/{n}",
                idempotent=False,
            )
            ctx.record("server", server.id, name, index=str(i))
            have[i] = inventory.Found(cloud, "server", server.id, name, run, i, "BUILD")
        else:
            ensure_recorded(ctx, "server", have[i].resource_id, name, index=str(i))
        ctx.progress(f"server {i}/{n} created", i, n)
    ctx.facts["servers"] = [have[i].resource_id for i in range(1, n + 1)]
    ctx.facts["server_names"] = [have[i].name for i in range(1, n + 1)]


async def ensure_servers(s: CloudSession, ctx: StepContext) -> list[str]:
    if "servers" not in ctx.facts:
        have = await _ours(s, ctx, "servers")
        if len(have) < ctx.cloud.servers:
            raise PermanentStepError(
                f"only {len(have)} of {ctx.cloud.servers} servers exist; re-run the servers step"
            )
        n = ctx.cloud.servers
        ctx.facts["servers"] = [have[i].resource_id for i in range(1, n + 1)]
        ctx.facts["server_names"] = [have[i].name for i in range(1, n + 1)]
    return list(ctx.facts["servers"])


async def restore_facts(s: CloudSession, ctx: StepContext) -> None:
    """After a restart (facts empty), rebuild what later steps read, from the cloud's marks.

    Runs before every extra step (Kubernetes, CockroachDB) so they can rely on
    ``floating_ips``, ``fixed_ips``, ``servers``, ``server_names``, ``keypair_path`` and
    ``security_group_id`` whichever step the cloud resumes from.
    """
    if all(k in ctx.facts for k in ("servers", "floating_ips", "fixed_ips")):
        return
    await ensure_floating_ips(s, ctx)
    await ensure_ports(s, ctx)
    await ensure_servers(s, ctx)
    await _ensure_group_id(s, ctx)
    ctx.facts.setdefault("keypair_path", str(ctx.cloud_dir / "id_ed25519"))
    ctx.facts.setdefault("keypair_name", naming.keypair_name(ctx.run_id, ctx.cloud.name))


class _WaitLog:
    """Tells a wait's progress to the pane when it changes, with the time waited so far."""

    def __init__(self, ctx: StepContext, what: str) -> None:
        self.ctx = ctx
        self.what = what
        self.began = ctx.clock.now()
        self.last = ""

    def __call__(self, progress: str, done: bool) -> None:
        if progress != self.last or done:
            waited = self.ctx.clock.now() - self.began
            verb = "done" if done else "waiting"
            self.ctx.log(f"{verb}: {self.what} {progress} after {waited:.0f}s")
            self.last = progress


def _fault(server: Any) -> str:
    """The fault Nova recorded; a quota recheck in the conductor reads like the API's 403."""
    fault = server.fault or {}
    message = one_line(str(fault.get("message") or "no fault message"))
    return quota_message("compute", message) if "Quota exceeded" in message else message


async def wait_active(s: CloudSession, ctx: StepContext) -> None:
    """Poll until every server is ACTIVE; a server in ERROR stops the cloud with its fault."""
    ids = await ensure_servers(s, ctx)
    n = len(ids)
    tell = _WaitLog(ctx, "servers ACTIVE")
    while True:
        states = []
        for sid in ids:
            server = await s.call(
                s.connection.compute.get_server, sid, what="poll server", quiet=True
            )
            if server.status == "ERROR":
                raise PermanentStepError(f"server {server.name} went to ERROR: {_fault(server)}")
            states.append(server.status)
        active = states.count("ACTIVE")
        ctx.progress(f"server {active}/{n} ACTIVE", active, n)
        tell(f"{active}/{n} ({', '.join(states)})", active == n)
        if active == n:
            return
        await ctx.clock.sleep(POLL_S)


async def _poll_volumes(
    s: CloudSession, ctx: StepContext, ids: list[str], ok: set[str], label: str
) -> None:
    n = len(ids)
    tell = _WaitLog(ctx, f"volumes {label}")
    while True:
        done = 0
        for vid in ids:
            vol = await s.call(
                s.connection.block_storage.get_volume, vid, what="poll volume", quiet=True
            )
            if str(vol.status).startswith("error"):
                raise PermanentStepError(f"volume {vol.name} went to {vol.status}")
            done += vol.status in ok
        ctx.progress(f"volume {done}/{n} {label}", done, n)
        tell(f"{done}/{n}", done == n)
        if done == n:
            return
        await ctx.clock.sleep(POLL_S)


async def volumes(s: CloudSession, ctx: StepContext) -> None:
    """One volume per server, created, then attached once its server is ACTIVE."""
    n, run, cloud = ctx.cloud.servers, ctx.run_id, ctx.cloud.name
    server_ids = await ensure_servers(s, ctx)
    have = await _ours(s, ctx, "volumes")
    for i in range(1, n + 1):
        name = naming.volume_name(run, cloud, i)
        if i not in have:
            vol = await s.call(
                s.connection.block_storage.create_volume,
                size=ctx.cloud.volume_size_gb,
                name=name,
                description=naming.description(run, cloud, i),
                metadata=naming.marks(run, cloud, i),
                what=f"create volume {i}/{n}",
                idempotent=False,
            )
            ctx.record("volume", vol.id, name, index=str(i), server=server_ids[i - 1])
            have[i] = inventory.Found(cloud, "volume", vol.id, name, run, i, "creating")
        else:
            ensure_recorded(
                ctx, "volume", have[i].resource_id, name, index=str(i), server=server_ids[i - 1]
            )
    vol_ids = [have[i].resource_id for i in range(1, n + 1)]
    await _poll_volumes(s, ctx, vol_ids, {"available", "in-use"}, "available")
    await wait_active(s, ctx)
    for i, (vid, sid) in enumerate(zip(vol_ids, server_ids, strict=True), 1):
        vol = await s.call(s.connection.block_storage.get_volume, vid, what="get volume")
        if not any(a.get("server_id") == sid for a in vol.attachments or []):
            await s.call(
                s.connection.compute.create_volume_attachment,
                sid,
                vid,
                what=f"attach volume {i}/{n}",
                idempotent=False,
            )
    await _poll_volumes(s, ctx, vol_ids, {"in-use"}, "attached")
    ctx.facts["volumes"] = vol_ids


def _associate(conn: Any, fip_id: str, server_id: str) -> str:
    ip = conn.network.get_ip(fip_id)
    ports = list(conn.network.ports(device_id=server_id))
    if not ports:
        raise PermanentStepError(f"server {server_id} has no port to attach a floating IP to")
    if ip.port_id != ports[0].id:
        conn.network.update_ip(ip, port_id=ports[0].id)
    return str(ip.floating_ip_address)


async def boot(s: CloudSession, ctx: StepContext) -> None:
    """Wait for ACTIVE, then put each floating IP on its server."""
    await wait_active(s, ctx)
    await ensure_floating_ips(s, ctx)
    ids = list(ctx.facts["servers"])
    fips = list(ctx.facts["floating_ip_ids"])
    n = len(ids)
    if len(fips) < n:
        raise PermanentStepError(
            f"only {len(fips)} floating IPs for {n} servers; re-run the floating_ips step"
        )
    for i, (sid, fid) in enumerate(zip(ids, fips[:n], strict=True), 1):
        address = await s.call(_associate, s.connection, fid, sid, what=f"associate IP {i}/{n}")
        ctx.progress(f"floating IP {i}/{n} on server {i}: {address}", i, n)
