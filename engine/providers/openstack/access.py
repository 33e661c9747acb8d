"""The first three interop steps: resolve names, key pair, security group with its rules.

Each step is idempotent: it finds what this run already made (by name or run mark)
before making anything, and records what it makes in the ledger the moment its id exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from openstack import exceptions as sdk

from engine.errors import PermanentStepError
from engine.events import Notice
from engine.plan import StepContext
from engine.providers.openstack import inventory, naming
from engine.providers.openstack.connection import CloudSession
from engine.providers.openstack.rules import demo_rules, open_to_world, rule_key


def ensure_recorded(
    ctx: StepContext, resource_type: str, resource_id: str, name: str = "", **meta: str
) -> None:
    """Record once: a retried step that finds its resource does not record it again."""
    for rec in ctx.ledger.live(ctx.cloud.name):
        if rec.resource_type == resource_type and rec.resource_id == resource_id:
            return
    ctx.record(resource_type, resource_id, name, **meta)


def _names(items: Any) -> str:
    names = sorted({str(i.name) for i in items if getattr(i, "name", None)})
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return shown or "none"


def lookup(conn: Any, flavor: str, image: str, network: str, pool: str) -> dict[str, Any]:
    """Find all four by name or id; one error naming every missing one and what exists."""
    found: dict[str, Any] = {}
    missing: list[str] = []
    try:
        found["flavor"] = conn.compute.find_flavor(flavor, ignore_missing=True)
        if found["flavor"] is None:
            missing.append(f"flavor {flavor!r} (has: {_names(conn.compute.flavors())})")
        found["image"] = conn.image.find_image(image, ignore_missing=True)
        if found["image"] is None:
            missing.append(f"image {image!r} (has: {_names(conn.image.images())})")
        found["network"] = conn.network.find_network(network, ignore_missing=True)
        if found["network"] is None:
            nets = [n for n in conn.network.networks() if not n.is_router_external]
            missing.append(f"network {network!r} (has: {_names(nets)})")
        found["pool"] = conn.network.find_network(pool, ignore_missing=True)
        if found["pool"] is None or not found["pool"].is_router_external:
            pools = conn.network.networks(is_router_external=True)
            missing.append(f"floating-IP pool {pool!r} (has: {_names(pools)})")
    except sdk.DuplicateResource as exc:
        raise PermanentStepError(f"ambiguous name: {exc.message}") from None
    if missing:
        raise PermanentStepError("not found: " + "; ".join(missing))
    return found


async def resolve(s: CloudSession, ctx: StepContext) -> None:
    """Authenticate, then resolve flavor, image, network and floating-IP pool to ids."""
    c = ctx.cloud
    ctx.progress("authenticating")
    ctx.facts["project_id"] = await s.authenticate()
    ctx.progress(f"looking up flavor {c.flavor}, image {c.image}, network {c.network}")
    found = await s.call(
        lookup, s.connection, c.flavor, c.image, c.network, c.floating_ip_pool, what="resolve"
    )
    flavor = found["flavor"]
    ctx.facts.update(
        flavor_id=flavor.id,
        flavor_vcpus=int(flavor.vcpus or 0),
        flavor_ram_mb=int(flavor.ram or 0),
        image_id=found["image"].id,
        network_id=found["network"].id,
        pool_id=found["pool"].id,
    )
    ctx.progress(f"flavor {flavor.name}, image {found['image'].name}, pool {c.floating_ip_pool}")


async def ensure_resolved(s: CloudSession, ctx: StepContext) -> None:
    """Later steps after a restart: facts are empty, so resolve again (cheap, read-only)."""
    if not all(k in ctx.facts for k in ("flavor_id", "image_id", "network_id", "pool_id")):
        await resolve(s, ctx)


def _private_key(path: Path) -> str:
    """Make (once) an ed25519 key in the run dir, private half 0600; return the public half."""
    pub = path.with_suffix(".pub")
    if not path.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        pub.write_bytes(public + b"\n")
    if not pub.exists():
        loaded = serialization.load_ssh_private_key(path.read_bytes(), password=None)
        pub.write_bytes(
            loaded.public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            )
            + b"\n"
        )
    return pub.read_text().strip()


def _ensure_keypair(conn: Any, name: str, public_key: str) -> str:
    existing = conn.compute.find_keypair(name, ignore_missing=True)
    if existing is not None and (existing.public_key or "").split()[:2] == public_key.split()[:2]:
        return "found"
    if existing is not None:  # same name, other key (run dir lost): ours by name, replace
        conn.compute.delete_keypair(name, ignore_missing=True)
    try:
        conn.compute.create_keypair(name=name, public_key=public_key)
    except sdk.ConflictException:
        return "found"
    return "created"


async def keypair(s: CloudSession, ctx: StepContext) -> None:
    """A key pair generated for this run; the private key stays in the run directory."""
    path = ctx.cloud_dir / "id_ed25519"
    public_key = await s.call(_private_key, path, what="key pair file")
    name = naming.keypair_name(ctx.run_id, ctx.cloud.name)
    how = await s.call(
        _ensure_keypair, s.connection, name, public_key, what="key pair", idempotent=False
    )
    ensure_recorded(ctx, "keypair", name, name)
    ctx.facts.update(keypair_name=name, keypair_path=str(path))
    ctx.progress(f"key pair {name} {how}")


def _ensure_group(conn: Any, run_id: str, cloud: str) -> tuple[Any, bool]:
    mine = inventory.security_groups(conn, cloud, run_id)
    if mine:
        return conn.network.get_security_group(mine[0].resource_id), False
    sg = conn.network.create_security_group(
        name=naming.group_name(run_id, cloud), description=naming.description(run_id, cloud)
    )
    return sg, True


def _add_rule(conn: Any, attrs: dict[str, Any]) -> None:
    try:
        conn.network.create_security_group_rule(**attrs)
    except sdk.ConflictException as exc:
        if "already exists" not in (exc.details or str(exc)):
            raise  # a 409 that is not a duplicate (e.g. over quota) is a real failure


async def security_group(s: CloudSession, ctx: StepContext) -> None:
    """The run's group and its rules (public CIDRs for public ports, group-only for nodes)."""
    run, cloud = ctx.run_id, ctx.cloud.name
    sg, created = await s.call(
        _ensure_group, s.connection, run, cloud, what="security group", idempotent=False
    )
    ensure_recorded(ctx, "security_group", sg.id, sg.name)
    if created or not sg.tags:
        await s.call(
            s.connection.network.set_tags, sg, naming.tags(run, cloud), what="tag security group"
        )
    ctx.facts["security_group_id"] = sg.id
    ctx.facts["security_group_name"] = sg.name
    have = {rule_key(r, sg.id) for r in sg.security_group_rules or []}
    wanted = demo_rules(ctx.cloud)
    todo = [r for r in wanted if r.key() not in have]
    for i, rule in enumerate(todo, 1):
        await s.call(
            _add_rule,
            s.connection,
            rule.neutron_attrs(sg.id),
            what=f"rule {rule.protocol} {rule.port or ''} ({rule.why})",
        )
        ctx.progress(f"rule {len(wanted) - len(todo) + i}/{len(wanted)}", i, len(todo))
    ctx.progress(f"group {sg.name}: {len(wanted)} rules")
    if open_to_world(ctx.cloud) and not ctx.demo.cluster.secure:
        message = (
            f"{cloud}: ssh, Kubernetes API and an insecure CockroachDB are open to "
            "0.0.0.0/0; set public_cidrs to your venue's address range"
        )
        ctx.emit(Notice(level="warning", message=message, cloud=cloud))
