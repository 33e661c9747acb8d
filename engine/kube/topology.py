"""Where one cloud's CockroachDB nodes sit in the one cluster: join list, locality, address.

The cluster either exists (``cluster.join`` names its seeds) or the first cloud of the demo
bootstraps it: that cloud joins its own pods and runs ``cockroach init``, and publishes the
addresses the other clouds should join in the ledger (meta ``seeds`` of its StatefulSet
record), which the others wait for. The ledger, not memory, so a restarted run agrees.
"""

from __future__ import annotations

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import StepError
from engine.kube import names
from engine.kube.kubeconfig import is_existing
from engine.kube.manifests import Advertise, CockroachSpec
from engine.plan import StepContext

SEEDS_META = "seeds"
MAX_SEEDS = 3
"""CockroachDB's manifests join three peers; more adds nothing but start-up noise."""


def namespace_of(ctx: StepContext) -> str:
    return names.namespace(ctx.cloud.kubernetes.namespace_prefix, ctx.run_id, ctx.cloud.name)


def locality(cloud: CloudConfig) -> str:
    """``cloud=<name>`` first, then the demo file's extra tiers (e.g. ``region=us-east``)."""
    extra = cloud.locality.strip().strip(",")
    return f"cloud={cloud.name}" + (f",{extra}" if extra else "")


def advertise_mode(cloud: CloudConfig) -> Advertise:
    """k3s nodes know their floating IP from cloud-init; existing clusters offer the host IP
    (hostPort exposure) or only in-cluster DNS (NodePort exposure)."""
    if not is_existing(cloud):
        return "file"
    return "host-ip" if cloud.kubernetes.expose == "hostport" else "dns"


def with_port(address: str, port: int) -> str:
    """``host`` -> ``host:port``; addresses that carry a port are left alone (IPv6 too)."""
    host = address.strip()
    if host.startswith("["):
        return host if "]:" in host else f"{host}:{port}"
    if host.count(":") == 1:
        return host
    if host.count(":") > 1:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def bootstrap_cloud(demo: DemoConfig) -> CloudConfig | None:
    """The cloud that starts a new cluster, or ``None`` when the cluster already exists."""
    if demo.cluster.join or not demo.clouds:
        return None
    return demo.clouds[0]


def bootstraps(ctx: StepContext) -> bool:
    first = bootstrap_cloud(ctx.demo)
    return first is not None and first.name == ctx.cloud.name


def own_peers(namespace: str, replicas: int, port: int) -> tuple[str, ...]:
    return tuple(
        f"{names.peer_address(i, namespace)}:{port}" for i in range(1, min(MAX_SEEDS, replicas) + 1)
    )


def published_seeds(ctx: StepContext, namespace: str) -> tuple[str, ...]:
    """What other clouds should dial to join this cloud's nodes."""
    port = ctx.demo.cluster.sql_port
    fips = [str(ip) for ip in ctx.facts.get("floating_ips") or []]
    if not is_existing(ctx.cloud) and fips:
        return tuple(with_port(ip, port) for ip in fips[:MAX_SEEDS])
    return own_peers(namespace, ctx.cloud.nodes, port)


def seeds_from_ledger(ctx: StepContext, cloud: str) -> tuple[str, ...]:
    for rec in ctx.ledger.live(cloud=cloud):
        if rec.resource_type == "k8s_statefulset" and rec.get(SEEDS_META):
            return tuple(rec.get(SEEDS_META).split(","))
    return ()


async def join_addresses(ctx: StepContext, namespace: str, poll_s: float = 2.0) -> tuple[str, ...]:
    """The ``--join`` list; a joining cloud may wait here for the bootstrap cloud's seeds."""
    port = ctx.demo.cluster.sql_port
    if ctx.demo.cluster.join:
        return tuple(with_port(a, port) for a in ctx.demo.cluster.join)
    first = bootstrap_cloud(ctx.demo)
    if first is None or first.name == ctx.cloud.name:
        return own_peers(namespace, ctx.cloud.nodes, port)
    waiting = f"waiting for {first.name} (it bootstraps the cluster) to publish its seeds"
    told = False
    while True:
        seeds = seeds_from_ledger(ctx, first.name)
        if seeds:
            if told:
                ctx.log(f"{first.name} published its seeds: " + ", ".join(seeds))
            return seeds
        ctx.progress(waiting)
        if not told:
            ctx.log(waiting)
            told = True
        await ctx.clock.sleep(poll_s)


def node_addresses(ctx: StepContext) -> tuple[str, ...]:
    """Addresses a peer may dial this cloud's nodes on (node certificate SANs): floating
    IPs, then every Node address, names (``Hostname``) included; the certificate code sorts
    IPs from names."""
    found = [str(ip) for ip in ctx.facts.get("floating_ips") or []]
    found += [str(ip) for ip in ctx.facts.get("kube_node_addresses") or []]
    return tuple(dict.fromkeys(found))


def cockroach_spec(ctx: StepContext, namespace: str, join: tuple[str, ...]) -> CockroachSpec:
    cluster, cloud = ctx.demo.cluster, ctx.cloud
    if cloud.nodes < 1:
        raise StepError(f"{cloud.name}: no CockroachDB nodes to deploy (servers = 0)")
    return CockroachSpec(
        namespace=namespace,
        run_id=ctx.run_id,
        cloud=cloud.name,
        replicas=cloud.nodes,
        image=cluster.image,
        join=join,
        locality=locality(cloud),
        secure=cluster.secure,
        advertise=advertise_mode(cloud),
        expose=cloud.kubernetes.expose,
        sql_port=cluster.sql_port,
        http_port=cluster.http_port,
        termination_grace_s=cloud.kubernetes.termination_grace_s,
        storage_gb=max(1, cloud.volume_size_gb),
    )
