"""The first three interop steps: resolve names, key pair, security group with its rules.

Each step is idempotent: it finds what this run already made (by name or run mark)
before making anything, and records what it makes in the ledger the moment its id exists.

The group's CockroachDB rules for the other clouds follow the fleet: every cloud records
its floating IPs in the run's one ledger as it allocates them, and every cloud reconciles
its own group with the fleet's current set (``sync_rules``: after its own floating IPs,
and from ``keep_rules`` for as long as the show runs), so clouds that allocate late still
end up in every group, and a cloud torn down leaves the others' groups.

A partition is written to the same ledger (``partition`` records, see ``partition``):
every cloud's reconciliation reads it, so the cut cloud's group and every other group
converge to the cut (and back on heal) the same way, and never undo it by accident.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from openstack import exceptions as sdk

from engine.errors import PermanentStepError, StepError
from engine.events import Notice
from engine.plan import StepContext
from engine.providers.openstack import inventory, naming
from engine.providers.openstack.connection import CloudSession
from engine.providers.openstack.rules import (
    admitted_peers,
    partition_leaks,
    plan_rules,
    world_warning,
)

SYNC_EVERY_S = 2.0
"""Demo seconds between two looks at the fleet's floating IPs (the ledger: no API call)."""
RECHECK_EVERY_S = 60.0
"""Demo seconds between two reads of the group even when the fleet did not change."""


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


def find(finder: Any, name_or_id: str) -> Any:
    """A ``find_*`` proxy call, ``None`` when nothing matches.

    openstacksdk deprecates ``ignore_missing=True`` on every ``find_*`` (its default turns
    to False in 6.0, openstack/resource.py ``Resource.find``): ask for the exception and
    catch it, as it recommends.
    """
    try:
        return finder(name_or_id, ignore_missing=False)
    except sdk.NotFoundException:
        return None


def find_image(conn: Any, name_or_id: str) -> Any:
    """The image by name, else by id; ``None`` when neither.

    Not ``find_image``: openstacksdk 4.x's ``Image.find`` (openstack/image/v2/image.py)
    calls its parent with the deprecated ``ignore_missing=True`` whatever we pass, so it
    warns on every call. Glance filters by name on the server; several matches are
    ambiguous, as ``find_*`` would say.
    """
    named = list(conn.image.images(name=name_or_id))
    if len(named) > 1:
        raise sdk.DuplicateResource(f"more than one image is called {name_or_id!r}")
    if named:
        return named[0]
    try:
        return conn.image.get_image(name_or_id)
    except (sdk.NotFoundException, sdk.BadRequestException):
        return None


def lookup(conn: Any, flavor: str, image: str, network: str, pool: str) -> dict[str, Any]:
    """Find all four by name or id; one error naming every missing one and what exists."""
    found: dict[str, Any] = {}
    missing: list[str] = []
    try:
        found["flavor"] = find(conn.compute.find_flavor, flavor)
        if found["flavor"] is None:
            missing.append(f"flavor {flavor!r} (has: {_names(conn.compute.flavors())})")
        found["image"] = find_image(conn, image)
        if found["image"] is None:
            missing.append(f"image {image!r} (has: {_names(conn.image.images())})")
        found["network"] = find(conn.network.find_network, network)
        if found["network"] is None:
            nets = [n for n in conn.network.networks() if not n.is_router_external]
            missing.append(f"network {network!r} (has: {_names(nets)})")
        found["pool"] = find(conn.network.find_network, pool)
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
    existing = find(conn.compute.find_keypair, name)
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


def _ingress_rules(conn: Any, group_id: str) -> list[dict[str, Any]]:
    group = conn.network.get_security_group(group_id)
    return [dict(r) for r in group.security_group_rules or [] if r.get("direction") == "ingress"]


def fleet_addresses(ctx: StepContext) -> dict[str, list[str]]:
    """Each OpenStack cloud's floating IPs as the run's ledger has them right now."""
    ours = {c.name for c in ctx.demo.clouds if c.provider == "openstack"}
    fleet: dict[str, list[str]] = {}
    for rec in ctx.ledger.live():
        if rec.resource_type == "floating_ip" and rec.cloud in ours and rec.get("address"):
            fleet.setdefault(rec.cloud, []).append(rec.get("address"))
    return fleet


PARTITION = "partition"
"""Ledger resource type of a cut-off cloud (resource id: the cloud's name)."""


def partitioned_clouds(ctx: StepContext) -> frozenset[str]:
    """The clouds cut off from the others right now, as the run's ledger has them."""
    return frozenset(r.resource_id for r in ctx.ledger.live() if r.resource_type == PARTITION)


def _group_live(ctx: StepContext, group_id: str) -> bool:
    return any(
        r.resource_type == "security_group" and r.resource_id == group_id
        for r in ctx.ledger.live(ctx.cloud.name)
    )


async def sync_rules(s: CloudSession, ctx: StepContext, group_id: str) -> tuple[int, int]:
    """Make the group hold exactly the rules the fleet needs now; return (added, removed).

    Idempotent and serialised per cloud: a rule that exists is kept, a missing one added,
    any other ingress rule (a peer that left, a port we no longer need) deleted.
    """
    async with s.rules_lock:
        fleet, cut = fleet_addresses(ctx), partitioned_clouds(ctx)
        peers = admitted_peers(fleet, ctx.cloud.name, cut)
        have = await s.call(
            _ingress_rules, s.connection, group_id, what="read group rules", quiet=True
        )
        plan = plan_rules(ctx.cloud, group_id, have, fleet, cut)
        wanted, todo, stale = plan.wanted, plan.add, plan.remove
        for i, rule in enumerate(todo, 1):
            src = "own group" if rule.remote_cidr is None else rule.remote_cidr
            await s.call(
                _add_rule,
                s.connection,
                rule.neutron_attrs(group_id),
                what=f"add rule {rule.protocol}/{rule.port} from {src} ({rule.why})",
            )
            ctx.progress(f"rule {len(wanted) - len(todo) + i}/{len(wanted)}", i, len(todo))
        for old in stale:
            await s.call(
                s.connection.network.delete_security_group_rule,
                old["id"],
                ignore_missing=True,
                what=f"remove rule {old.get('protocol')}/{old.get('port_range_min')} "
                f"from {old.get('remote_ip_prefix') or 'a group'}",
            )
        if todo or stale:
            cuts = f"; cut off: {', '.join(sorted(cut))}" if cut else ""
            ctx.log(
                f"security group: {len(wanted)} rules ({len(peers)} other clouds' floating "
                f"IPs{cuts}); added {len(todo)}, removed {len(stale)}"
            )
        return len(todo), len(stale)


async def keep_rules(s: CloudSession, ctx: StepContext) -> None:
    """Follow the fleet's floating IPs into this cloud's group until cancelled."""
    applied: frozenset[str] | None = None
    checked = 0.0
    while True:
        group_id = ctx.facts.get("security_group_id")
        if group_id and _group_live(ctx, str(group_id)):
            cut = partitioned_clouds(ctx)
            peers = frozenset(admitted_peers(fleet_addresses(ctx), ctx.cloud.name, cut))
            if peers != applied or ctx.clock.now() - checked >= RECHECK_EVERY_S:
                try:
                    await sync_rules(s, ctx, str(group_id))
                    applied, checked = peers, ctx.clock.now()
                except StepError as err:
                    ctx.log(f"security group rules: {err.message}", level="warning")
        await ctx.clock.sleep(SYNC_EVERY_S)


async def security_group(s: CloudSession, ctx: StepContext) -> None:
    """The run's group with the rules the show's flows need (see ``rules``)."""
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
    await sync_rules(s, ctx, sg.id)
    ctx.progress(f"group {sg.name} ready")
    warning = world_warning(ctx.cloud, ctx.demo.cluster.secure)
    if warning:
        ctx.emit(Notice(level="warning", message=warning, cloud=cloud))


async def partition(s: CloudSession, ctx: StepContext, cut: bool) -> None:
    """Cut this cloud off from every other cloud (``cut``) or heal it.

    The ledger record comes first, so a crash mid-way leaves a partition that teardown
    removes and every group's reconciliation already follows. This cloud's group is
    changed at once; each other cloud's own rules watch changes its group (with its own
    credentials) within ``SYNC_EVERY_S``.
    """
    name = ctx.cloud.name
    mine = [r for r in ctx.ledger.live(name) if r.resource_type == PARTITION]
    if cut and not mine:
        ctx.record(PARTITION, name, f"{name} cut off")
    elif not cut:
        for rec in mine:
            ctx.forget(rec)
    for leak in partition_leaks(ctx.demo.clouds, fleet_addresses(ctx), name):
        ctx.log(leak, level="warning")
    group_id = ctx.facts.get("security_group_id") or next(
        (r.resource_id for r in ctx.ledger.live(name) if r.resource_type == "security_group"),
        None,
    )
    if group_id:
        added, removed = await sync_rules(s, ctx, str(group_id))
        ctx.log(
            f"{'partition' if cut else 'heal'} {name}: own group {'-' if cut else '+'}"
            f"{removed if cut else added} peer rules; the other clouds' groups follow"
        )
