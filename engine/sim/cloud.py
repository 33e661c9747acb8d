"""One simulated cloud: the interop script's steps with realistic timings and failures.

It speaks in the same steps, ledger records and log lines as the real provider, so the
rehearsal exercises the runner, teardown and the screen exactly as a show would. Every
draw comes from the cloud's own random stream (``ctx.rng``), so a cloud behaves the same
alone (``--only``) as in the fleet.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError, TransientStepError
from engine.join import join_step
from engine.ledger import LedgerRecord
from engine.plan import Step, StepContext, plan_step
from engine.providers.openstack.rules import GROUP_PORTS, PUBLIC_PORTS
from engine.sim.books import SimBooks
from engine.sim.cluster import SimCluster
from engine.sim.faults import SimFaults
from engine.sim.fleet import LatencyProfile, profile_for
from engine.targets import Target, node_name, target_indexes, target_nodes

SECURITY_GROUP_RULES: tuple[str, ...] = tuple(
    f"{proto} {port} {what}{' (group only)' if ports is GROUP_PORTS else ''}"
    for ports in (PUBLIC_PORTS, GROUP_PORTS)
    for proto, port, what in ports
)
"""The real group's rules (``engine.providers.openstack.rules``): from ``public_cidrs`` and
from the group itself. The real group also gets /32 rules from the other clouds' floating
IPs as they are allocated; the rehearsal has no addresses to follow, so it makes these."""

_TRANSIENT = (
    "HTTP 503 Service Unavailable from {service}",
    "connection reset by peer talking to {service}",
    "HTTP 409 Conflict from {service}: resource busy",
)
_SERVICES = ("compute", "network", "volumev3", "image", "identity")


class SimCloud:
    """``CloudBackend`` for ``provider: sim``: resources in books, nodes in ``SimCluster``."""

    def __init__(
        self, demo: DemoConfig, cloud: CloudConfig, books: SimBooks, cluster: SimCluster
    ) -> None:
        self.demo = demo
        self.cloud = cloud
        self.books = books
        self.cluster = cluster
        self.profile: LatencyProfile = profile_for(cloud)
        self.faults = SimFaults(cloud.name, cluster)

    # --- plan ------------------------------------------------------------------------------

    def steps(self) -> Sequence[Step]:
        return (
            plan_step("resolve", self._resolve),
            plan_step("keypair", self._keypair),
            plan_step("security_group", self._security_group),
            plan_step("floating_ips", self._floating_ips),
            plan_step("servers", self._servers),
            plan_step("volumes", self._volumes, skip=self.cloud.volume_size_gb == 0),
            plan_step("boot", self._boot),
            plan_step("kubernetes", self._kubernetes),
            plan_step("cockroach", self._cockroach),
            join_step(timeout_s=self.demo.cluster.join_timeout_s),
        )

    async def _api(self, ctx: StepContext, method: str, path: str, service: str) -> None:
        """One simulated API call: a latency draw, maybe a transient failure, a log line."""
        took = self.profile.pick(self.profile.api_s, ctx.rng.random())
        await ctx.clock.sleep(took)
        if ctx.rng.random() < self.cloud.sim.transient_rate:
            text = ctx.rng.choice(_TRANSIENT).format(service=service)
            ctx.log(f"{method} {path} -> error after {took:.2f}s: {text}", level="warning")
            raise TransientStepError(text)
        ctx.log(f"{method} {path} -> ok ({took:.2f}s)")

    def _maybe_fail(self, ctx: StepContext) -> None:
        if self.cloud.sim.fail_step == ctx.step:
            raise PermanentStepError(self.cloud.sim.fail_error)

    def _create(self, ctx: StepContext, resource_type: str, suffix: str, **meta: str) -> str:
        """Make (or find) a resource and put it in the ledger before anything else."""
        name = ctx.resource_name(suffix)
        res = self.books.create(self.cloud.name, resource_type, name)
        if not any(r.resource_id == res.resource_id for r in ctx.ledger.live(self.cloud.name)):
            ctx.record(resource_type, res.resource_id, name, **meta)
        return res.resource_id

    def _exists(self, ctx: StepContext, resource_type: str, suffix: str) -> bool:
        """A retried step finds what an earlier attempt made instead of asking again."""
        return (
            self.books.find(self.cloud.name, resource_type, ctx.resource_name(suffix)) is not None
        )

    async def _resolve(self, ctx: StepContext) -> None:
        for what, path in (
            ("flavor", f"/flavors?name={self.cloud.flavor}"),
            ("image", f"/images?name={self.cloud.image}"),
            ("network", f"/networks?name={self.cloud.network}"),
        ):
            ctx.progress(f"looking up {what}")
            await self._api(ctx, "GET", path, "compute" if what == "flavor" else "network")
        self._maybe_fail(ctx)
        ctx.facts["resolved"] = True

    async def _keypair(self, ctx: StepContext) -> None:
        if self._exists(ctx, "keypair", "key"):
            return
        await self._api(ctx, "POST", "/os-keypairs", "compute")
        self._maybe_fail(ctx)
        self._create(ctx, "keypair", "key")

    async def _security_group(self, ctx: StepContext) -> None:
        if not self._exists(ctx, "security_group", "sg"):
            await self._api(ctx, "POST", "/security-groups", "network")
        self._maybe_fail(ctx)
        self._create(ctx, "security_group", "sg")
        made: set[str] = ctx.facts.setdefault("rules", set())
        total = len(SECURITY_GROUP_RULES)
        for i, rule in enumerate(SECURITY_GROUP_RULES, start=1):
            if rule not in made:
                await self._api(ctx, "POST", f"/security-group-rules ({rule})", "network")
                made.add(rule)
            ctx.progress(f"rule {i}/{total}", i, total)

    async def _floating_ips(self, ctx: StepContext) -> None:
        n = self.cloud.servers
        self._maybe_fail(ctx)
        for i in range(1, n + 1):
            if not self._exists(ctx, "floating_ip", f"fip-{i}"):
                await self._api(ctx, "POST", "/floatingips", "network")
            self._create(ctx, "floating_ip", f"fip-{i}", index=str(i))
            ctx.progress(f"floating IP {i}/{n} allocated", i, n)

    async def _servers(self, ctx: StepContext) -> None:
        n = self.cloud.servers
        self._maybe_fail(ctx)
        for i in range(1, n + 1):
            if not self._exists(ctx, "server", f"server-{i}"):
                path = f"/servers (server-{i}, {self.cloud.flavor})"
                await self._api(ctx, "POST", path, "compute")
            self._create(ctx, "server", f"server-{i}", index=str(i))
            ctx.progress(f"server {i}/{n} created", i, n)

    async def _volumes(self, ctx: StepContext) -> None:
        n = self.cloud.servers
        self._maybe_fail(ctx)
        attached: set[int] = ctx.facts.setdefault("attached", set())
        for i in range(1, n + 1):
            if not self._exists(ctx, "volume", f"vol-{i}"):
                path = f"/volumes ({self.cloud.volume_size_gb} GB)"
                await self._api(ctx, "POST", path, "volumev3")
            self._create(ctx, "volume", f"vol-{i}", index=str(i))
            if i not in attached:
                path = f"/servers/server-{i}/os-volume_attachments"
                await self._api(ctx, "POST", path, "compute")
                attached.add(i)
            ctx.progress(f"volume {i}/{n} attached", i, n)

    async def _wait_all(self, ctx: StepContext, what: str, durations: list[float]) -> None:
        """Wait for every item, reporting ``what k/n`` as each one comes up.

        Sleeps the gaps between sorted durations rather than polling a clock, so a run
        is the same to the last bit whatever instant it started at.
        """
        n = len(durations)
        ctx.progress(f"{what} 0/{n}", 0, n)
        waited = 0.0
        for k, due in enumerate(sorted(durations), start=1):
            await ctx.clock.sleep(due - waited)
            waited = due
            ctx.progress(f"{what} {k}/{n}", k, n)
            ctx.log(f"{what} {k}/{n}")

    async def _boot(self, ctx: StepContext) -> None:
        self._maybe_fail(ctx)
        if not ctx.facts.get("booted"):
            n = self.cloud.servers
            times = [self.profile.pick(self.profile.boot_s, ctx.rng.random()) for _ in range(n)]
            await self._wait_all(ctx, "servers ACTIVE, ssh answering", times)
            ctx.facts["booted"] = True
        associated: set[int] = ctx.facts.setdefault("associated", set())
        for i in range(1, self.cloud.servers + 1):
            if i not in associated:
                path = f"/floatingips/fip-{i} (associate server-{i})"
                await self._api(ctx, "PUT", path, "network")
                associated.add(i)

    async def _kubernetes(self, ctx: StepContext) -> None:
        self._maybe_fail(ctx)
        times = [
            self.profile.pick(self.profile.kubernetes_s, ctx.rng.random())
            for _ in range(self.cloud.servers)
        ]
        await self._wait_all(ctx, "kubernetes nodes Ready", times)

    async def _cockroach(self, ctx: StepContext) -> None:
        self._maybe_fail(ctx)
        n = self.cloud.nodes
        await self._api(
            ctx, "POST", "/apis/apps/v1/namespaces/crossroom/statefulsets", "kubernetes"
        )
        times = [self.profile.pick(self.profile.image_pull_s, ctx.rng.random()) for _ in range(n)]
        await self._wait_all(ctx, "cockroach pods Running", times)
        for i in range(1, n + 1):
            node = node_name(self.cloud.name, i)
            self._create(ctx, "crdb_node", f"node-{i}", index=str(i), node=node)
            self.cluster.add_node(node, self.cloud.name, ctx.clock.now())
            ctx.log(
                f"pod {self.cloud.name}-cockroach-{i - 1} started: cockroach start"
                f" --locality cloud={self.cloud.name} --join <seed nodes>"
            )

    # --- teardown and chaos ----------------------------------------------------------------

    async def delete(self, record: LedgerRecord, ctx: StepContext) -> None:
        if record.resource_type == "partition":
            self.cluster.heal_cloud(self.cloud.name, ctx.clock.now())
            return
        await self._api(ctx, "DELETE", f"/{record.resource_type}/{record.resource_id}", "compute")
        if record.resource_type == "crdb_node":
            self.cluster.remove_node(record.get("node"), ctx.clock.now())
        self.books.delete(record.resource_id)

    async def watch(self, ctx: StepContext) -> None:
        """Nothing of its own to watch: the simulated cluster publishes what nodes do."""

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """Carry out the fault as the real system behaves (``engine.sim.faults``); returns
        once its timeline has played out, which may be a demo minute for a server."""
        indexes = target_indexes(target, self.cloud.nodes)
        nodes = target_nodes(target, self.cloud.nodes)
        clock, rng, emit = ctx.clock, ctx.rng, ctx.emit
        if target.kind == "pod" and indexes:
            ctx.log(f"DELETE pod of {nodes[0]} (graceful): the StatefulSet recreates it")
            await self.faults.restart_pod(indexes[0], clock, rng, emit)
        elif target.kind == "node" and indexes:
            ctx.log(f"cordon the Kubernetes node of {nodes[0]}, DELETE its pod (grace 0)")
            await self.faults.stop_node(indexes[0], clock, emit)
        elif target.kind in ("server", "cloud"):
            what = ", ".join(f"server-{i}" for i in indexes)
            ctx.log(f"POST /servers/<id>/action (os-stop) {what}")
            await self.faults.stop_servers(indexes, clock, rng, emit)
        elif target.kind == "crash" and indexes:
            ctx.log(f"ssh server-{indexes[0]}: pkill -KILL -f 'cockroach start' ({nodes[0]})")
            await self.faults.crash(indexes[0], clock, rng, emit)
        elif target.kind == "freeze" and indexes:
            ctx.log(f"ssh server-{indexes[0]}: pkill -STOP -f 'cockroach start' ({nodes[0]})")
            await self.faults.freeze(indexes[0], clock, emit)
        elif target.kind == "partition":
            if not any(r.resource_type == "partition" for r in ctx.ledger.live(self.cloud.name)):
                ctx.record("partition", self.cloud.name, f"{self.cloud.name} cut off")
            ctx.log("DELETE the cross-cloud 26257/8080 rules, this group's and the others'")
            await self.faults.partition(indexes, True, clock, rng, emit)
        return nodes

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        indexes = target_indexes(target, self.cloud.nodes)
        nodes = target_nodes(target, self.cloud.nodes)
        clock, rng, emit = ctx.clock, ctx.rng, ctx.emit
        if target.kind in ("pod", "crash"):
            ctx.log(f"{target}: the container comes back by itself; nothing to revive")
        elif target.kind == "freeze":
            for i, node in zip(indexes, nodes, strict=True):
                ctx.log(f"ssh server-{i}: pkill -CONT -f 'cockroach start' ({node})")
                await self.faults.thaw(i, clock, rng, emit)
        elif target.kind == "partition":
            for rec in ctx.ledger.live(self.cloud.name):
                if rec.resource_type == "partition":
                    ctx.forget(rec)
            ctx.log("POST the cross-cloud 26257/8080 rules back, exactly those removed")
            await self.faults.partition(indexes, False, clock, rng, emit)
        elif target.kind == "node" and indexes:
            ctx.log(f"uncordon the Kubernetes node of {nodes[0]}")
            await self.faults.start_node(indexes[0], clock, rng, emit)
        else:
            what = ", ".join(f"server-{i}" for i in indexes)
            ctx.log(f"POST /servers/<id>/action (os-start) {what}")
            await self.faults.start_servers(indexes, clock, rng, emit)
            for i in indexes:  # the whole cloud back means its cordons are lifted too
                if target.kind == "cloud":
                    await self.faults.start_node(i, clock, rng, emit)
        return nodes

    async def aclose(self) -> None:
        return None
