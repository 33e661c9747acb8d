"""The plan's "kubernetes" and "cockroach" steps, the same for k3s and existing clusters.

"kubernetes": the API answers and every expected node is Ready, polled with short request
timeouts, progress "nodes ready k of n" (and "nodes Ready k/n" in the log as it changes).
"cockroach": namespace, secrets (secure mode), services, PodDisruptionBudget, StatefulSet,
the init Job on the bootstrapping cloud, then wait until every pod is Ready ("pods Ready
k/n" as it changes). Each object is written to the ledger before it is created.
"""

from __future__ import annotations

from typing import Any

import anyio

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError
from engine.kube import manifests, names
from engine.kube.apply import KINDS, apply_object, record_id
from engine.kube.client import KUBE_ERRORS, KubeApi, step_error
from engine.kube.crdb_certs import node_certs, node_dns_names, root_client_certs, run_certs_dir
from engine.kube.kubeconfig import API_META, cloud_limiter, connect, is_existing, k3s_server_url
from engine.kube.topology import (
    SEEDS_META,
    bootstraps,
    cockroach_spec,
    join_addresses,
    namespace_of,
    node_addresses,
    published_seeds,
    with_port,
)
from engine.plan import Step, StepContext, plan_step

SQL_FACT = "sql_addresses"
"""``ctx.facts`` key: this cloud's SQL addresses (``host:port``) once its pods are Ready."""
POLL_S = 2.0
POLL_READ_S = 4.0
"""Read timeout of one poll: a hung API costs one short wait, not the step."""

Obj = dict[str, Any]


def count_ready(node_list: Obj) -> tuple[list[str], list[str], list[str]]:
    """(Ready node names, not-Ready node names, every node address) from a NodeList.

    Addresses are as the kubelet reports them: ``InternalIP``, ``ExternalIP`` and always a
    ``Hostname``, which is a name, not an IP.
    """
    ready, waiting, addresses = [], [], []
    for node in node_list.get("items") or []:
        status = node.get("status") or {}
        name = str((node.get("metadata") or {}).get("name", "?"))
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        ):
            ready.append(name)
        else:
            waiting.append(name)
        addresses += [str(a.get("address")) for a in status.get("addresses") or []]
    return ready, waiting, addresses


def pod_status_line(status: Obj) -> str:
    """``Running``, ``Pending (ImagePullBackOff)``, ``Pending (Unschedulable: ...)``: what
    the presenter needs to see when pods do not come up."""
    phase = str(status.get("phase") or "Pending")
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] != "ContainerCreating":
            return f"{phase} ({waiting['reason']})"
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            detail = " ".join(str(cond.get("message") or "").split())[:100]
            return f"{phase} ({cond.get('reason') or 'Unschedulable'}: {detail})"
    return phase


async def kubernetes_ready(ctx: StepContext) -> None:
    """Poll until the API answers and all expected nodes are Ready."""
    api = await connect(ctx)
    expected = None if is_existing(ctx.cloud) else ctx.cloud.servers
    last_error = ""
    last_waiting: list[str] = []
    told: tuple[int, int] | None = None
    announced = False
    while True:
        try:
            version = await api.call(api.version.get_code, read_s=POLL_READ_S)
            nodes = await api.call(api.core.list_node, read_s=POLL_READ_S)
        except KUBE_ERRORS as err:
            error = step_error("Kubernetes API", err)
            if isinstance(error, PermanentStepError):
                raise error from err
            if error.message != last_error:
                ctx.log(error.message, level="warning")
                last_error = error.message
            ctx.progress(f"waiting for the API at {api.label}")
            await ctx.clock.sleep(POLL_S)
            continue
        if not announced:
            ctx.log(f"Kubernetes {version.get('gitVersion', '?')} answers at {api.label}")
            announced = True
        ready_nodes, waiting, addresses = count_ready(nodes)
        ready, total = len(ready_nodes), len(ready_nodes) + len(waiting)
        want = expected if expected is not None else total
        ctx.progress(f"nodes ready {ready} of {want}", done=min(ready, want), total=want)
        if (ready, want) != told:
            ctx.log(f"nodes Ready {ready}/{want}")
            told = (ready, want)
        if total and ready >= want:
            ctx.facts["kube_node_addresses"] = addresses
            return
        if waiting and waiting != last_waiting:
            ctx.log("not Ready yet: " + ", ".join(waiting[:8]))
            last_waiting = waiting
        await ctx.clock.sleep(POLL_S)


async def _ensure(ctx: StepContext, api: KubeApi, obj: Obj, **meta: str) -> None:
    """Record, then create or patch; the ledger knows the object before the cluster does."""
    kind = KINDS[obj["kind"]]
    name = obj["metadata"]["name"]
    namespace = obj["metadata"].get("namespace", "")
    extra = dict(meta)
    url = k3s_server_url(ctx) if not is_existing(ctx.cloud) else None
    if url:
        extra[API_META] = url
    rid = record_id(kind, namespace, name)
    known = any(
        r.resource_type == kind.resource_type and r.resource_id == rid
        for r in ctx.ledger.live(cloud=ctx.cloud.name)
    )
    if not known:  # a retry finds its record: the room's resource count stays right
        ctx.record(kind.resource_type, rid, name, namespace=namespace, kind=kind.name, **extra)
    try:
        outcome = await apply_object(api, obj)
    except KUBE_ERRORS as err:
        raise step_error(f"apply {kind.name.lower()} {name}", err) from err
    ctx.log(f"{kind.name.lower()} {record_id(kind, namespace, name)} {outcome}")


async def deploy_cockroach(ctx: StepContext) -> None:
    api = await connect(ctx)
    namespace = namespace_of(ctx)
    join = await join_addresses(ctx, namespace)
    spec = cockroach_spec(ctx, namespace, join)
    await _ensure(ctx, api, manifests.namespace(spec))
    if spec.secure:
        dns = node_dns_names(namespace, names.PUBLIC_SERVICE, names.HEADLESS_SERVICE)
        cloud_dir, addresses = ctx.cloud_dir, node_addresses(ctx)
        # RSA keys take a while to make: off the loop (the run's CA lands atomically).
        limiter = cloud_limiter(ctx)
        node = await anyio.to_thread.run_sync(
            lambda: node_certs(cloud_dir, dns, addresses), limiter=limiter
        )
        client = await anyio.to_thread.run_sync(
            root_client_certs, run_certs_dir(cloud_dir), limiter=limiter
        )
        await _ensure(ctx, api, manifests.secret(spec, names.NODE_SECRET, node.secret_data()))
        await _ensure(ctx, api, manifests.secret(spec, names.CLIENT_SECRET, client.secret_data()))
    await _ensure(ctx, api, manifests.headless_service(spec))
    await _ensure(ctx, api, manifests.public_service(spec))
    await _ensure(ctx, api, manifests.budget(spec))
    seeds = ",".join(published_seeds(ctx, namespace))
    await _ensure(ctx, api, manifests.statefulset(spec), **{SEEDS_META: seeds})
    if bootstraps(ctx):
        await _ensure(ctx, api, manifests.init_job(spec))
    pods = await _wait_pods_ready(ctx, api, namespace, spec.replicas)
    nodeport = await _public_node_port(api, namespace) if spec.expose == "nodeport" else None
    addresses = sql_addresses(ctx, pods, nodeport)
    ctx.facts[SQL_FACT] = addresses
    if addresses:
        ctx.log("CockroachDB SQL at " + ", ".join(addresses))


def sql_addresses(ctx: StepContext, pods: list[Obj], nodeport: int | None) -> tuple[str, ...]:
    """Where a client outside the cluster reaches this cloud's nodes, node 1 first.

    k3s: the floating IPs (ports are on the hosts). Existing cluster: each pod's host IP,
    with the SQL port (hostPort) or the public service's NodePort.
    """
    port = ctx.demo.cluster.sql_port
    if not is_existing(ctx.cloud):
        fips = [str(ip) for ip in ctx.facts.get("floating_ips") or []]
        return tuple(with_port(ip, port) for ip in fips)
    by_node = sorted(
        (
            names.node_index(str(p["metadata"]["name"])) or 0,
            str((p.get("status") or {}).get("hostIP") or ""),
        )
        for p in pods
    )
    hosts = dict.fromkeys(h for _, h in by_node if h)
    return tuple(with_port(h, nodeport or port) for h in hosts)


async def _public_node_port(api: KubeApi, namespace: str) -> int | None:
    try:
        svc = await api.call(
            api.core.read_namespaced_service, names.PUBLIC_SERVICE, namespace, read_s=POLL_READ_S
        )
    except KUBE_ERRORS:
        return None
    for port in (svc.get("spec") or {}).get("ports") or []:
        if port.get("name") == "grpc" and port.get("nodePort"):
            return int(port["nodePort"])
    return None


async def _wait_pods_ready(ctx: StepContext, api: KubeApi, namespace: str, want: int) -> list[Obj]:
    """Poll until ``want`` pods are Ready; returns the last pod list."""
    selector = names.selector(ctx.run_id, ctx.cloud.name)
    phases: dict[str, str] = {}
    told: int | None = None
    last_error = ""
    while True:
        try:
            listing = await api.call(
                api.core.list_namespaced_pod,
                namespace,
                label_selector=selector,
                read_s=POLL_READ_S,
            )
        except KUBE_ERRORS as err:
            error = step_error("list pods", err)
            if isinstance(error, PermanentStepError):
                raise error from err
            if error.message != last_error:
                ctx.log(error.message, level="warning")
                last_error = error.message
            await ctx.clock.sleep(POLL_S)
            continue
        ready = 0
        for pod in listing.get("items") or []:
            name = str(pod["metadata"]["name"])
            status = pod.get("status") or {}
            shown = pod_status_line(status)
            if phases.get(name) != shown:
                ctx.log(f"pod {name}: {shown}")
                phases[name] = shown
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            ):
                ready += 1
        ctx.progress(f"pods ready {ready} of {want}", done=min(ready, want), total=want)
        if ready != told:
            ctx.log(f"pods Ready {ready}/{want}")
            told = ready
        if ready >= want:
            return list(listing.get("items") or [])
        await ctx.clock.sleep(POLL_S)


def kube_steps(demo: DemoConfig, cloud: CloudConfig) -> list[Step]:
    """The "kubernetes" and "cockroach" steps of one cloud (k3s or existing cluster)."""
    del demo, cloud  # the steps read both from their StepContext
    return [
        plan_step("kubernetes", kubernetes_ready),
        plan_step("cockroach", deploy_cockroach),
    ]
