"""A real cloud of the show: OpenStack servers (or an existing cluster) running Kubernetes,
CockroachDB pods on it, and the cluster monitor told where to find them.

This is only composition: the OpenStack provider, the Kubernetes steps and the cluster
monitor each keep their own job; this file plugs them into one ``CloudBackend``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import anyio

from engine.backend import CloudOperations
from engine.config.model import CloudConfig, DemoConfig
from engine.errors import StepError
from engine.events import CloudApiObserved
from engine.join import join_step
from engine.ledger import LedgerRecord
from engine.plan import Step, StepContext
from engine.targets import Target

API_BACK_WAIT_S = 600.0
"""How long a revive of server 1 waits for the k3s API to answer again (boot + k3s)."""


class AddressBook(Protocol):
    """Where the cluster monitor learns SQL addresses and node identities of the plan."""

    def add_sql_addresses(self, addresses: Sequence[str]) -> list[str]: ...

    def identify_nodes(self, cloud: str, hosts: dict[str, int]) -> None: ...


def _host(address: str) -> str:
    host = address.rpartition(":")[0] if address.count(":") == 1 else address
    return host.strip("[]")


def _after(step: Step, book: AddressBook | None) -> Step:
    """The cockroach step, with the monitor told who is who and where to connect.

    Before: a k3s node advertises its server's floating IP, so floating IP N is node N
    (known before any node can join). After: an existing cluster's nodes advertise their
    host IPs, one per node in ordinal order (``sql_addresses``)."""
    inner = step.run

    async def run(ctx: StepContext) -> None:
        fips = [str(ip) for ip in ctx.facts.get("floating_ips") or ()]
        if book is not None and fips:
            book.identify_nodes(ctx.cloud.name, {ip: i for i, ip in enumerate(fips, 1)})
        await inner(ctx)
        addresses = list(ctx.facts.get("sql_addresses") or ())
        if book is not None and addresses:
            if not fips:
                hosts = {_host(a): i for i, a in enumerate(addresses, 1)}
                book.identify_nodes(ctx.cloud.name, hosts)
            bad = book.add_sql_addresses(addresses)
            ctx.log(f"monitor told of {len(addresses) - len(bad)} SQL address(es)")

    return replace(step, run=run)


def _with_ca_set(step: Step) -> Step:
    """The servers step needs the cloud's k3s CA set before it renders user data."""
    from engine.kube import ensure_k3s_ca_set

    inner = step.run

    async def run(ctx: StepContext) -> None:
        await ensure_k3s_ca_set(ctx)
        await inner(ctx)

    return replace(step, run=run)


class KubernetesCloud:
    """``CloudBackend`` for a real cloud; ``base`` boots servers (k3s) or skips (existing)."""

    def __init__(self, demo: DemoConfig, cloud: CloudConfig, book: AddressBook | None) -> None:
        from engine import kube

        self.cloud = cloud
        self._existing = kube.is_existing(cloud)
        tail = [
            _after(s, book) if s.name == "cockroach" else s for s in kube.kube_steps(demo, cloud)
        ]
        self.base: CloudOperations
        if self._existing:
            self.base = kube.ExistingKubernetesCloud(demo, cloud)
            self._steps = [
                _after(s, book) if s.name == "cockroach" else s for s in self.base.steps()
            ] + [join_step(demo.cluster.join_timeout_s)]
        else:
            from engine.providers.openstack.cloud import OpenStackCloud

            self.base = OpenStackCloud(
                demo,
                cloud,
                user_data=kube.render_user_data,
                extra_steps=[*tail, join_step(demo.cluster.join_timeout_s)],
            )
            self._steps = [_with_ca_set(s) if s.name == "servers" else s for s in self.base.steps()]

    def steps(self) -> Sequence[Step]:
        return self._steps

    async def delete(self, record: LedgerRecord, ctx: StepContext) -> None:
        from engine import kube

        if await kube.undo_cordon(record, ctx):
            return
        if kube.is_kube_record(record):
            await kube.delete_kube_resource(record, ctx)
            return
        await self.base.delete(record, ctx)

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """A pod restart and a node stop go through Kubernetes (node N is the pod on server
        N, ``engine.kube.identity``); a server or the whole cloud is stopped through
        OpenStack, or through Kubernetes when the cluster was not ours to boot; a crash or
        freeze signals the process on server N over SSH (``engine.ssh_faults``); a
        partition changes the security groups (``engine.providers.openstack.access``)."""
        from engine import kube

        if self._existing:
            return await self.base.kill(target, ctx)
        if target.kind == "pod" and target.index is not None:
            return await kube.restart_pod(ctx, target.index)
        if target.kind == "node" and target.index is not None:
            return await kube.stop_node(ctx, target.index)
        if target.kind == "partition":
            return await self.base.kill(target, ctx)
        if target.kind in ("crash", "freeze") and target.index is not None:
            from engine.ssh_faults import signal_node

            return await signal_node(ctx, target.index, target.kind)
        hit = await self.base.kill(target, ctx)
        if target.index in (None, 1):  # server 1 runs the k3s server: the API is gone
            ctx.emit(CloudApiObserved(cloud=self.cloud.name, reachable=False, detail=str(target)))
        return hit

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        from engine import kube

        if self._existing:
            return await self.base.revive(target, ctx)
        if target.kind == "pod" and target.index is not None:
            ctx.log(f"{target}: a restarted pod comes back by itself; nothing to revive")
            return (f"{self.cloud.name}/node-{target.index}",)
        if target.kind == "node" and target.index is not None:
            return await kube.start_node(ctx, target.index)
        if target.kind == "partition":
            return await self.base.revive(target, ctx)
        if target.kind == "crash" and target.index is not None:
            ctx.log(f"{target}: the kubelet restarts a crashed container; nothing to revive")
            return (f"{self.cloud.name}/node-{target.index}",)
        if target.kind == "freeze" and target.index is not None:
            from engine.ssh_faults import signal_node

            return await signal_node(ctx, target.index, "thaw")
        hit = await self.base.revive(target, ctx)
        if target.index in (None, 1):
            await self._api_back(ctx)
        return hit

    async def _api_back(self, ctx: StepContext) -> None:
        """Wait (bounded) for the k3s API after server 1 starts, then say it answers."""
        from engine.kube.client import KUBE_ERRORS
        from engine.kube.kubeconfig import connect

        errors: tuple[type[BaseException], ...] = (StepError, *KUBE_ERRORS)
        deadline = ctx.clock.now() + API_BACK_WAIT_S
        ctx.log("waiting for the Kubernetes API to answer after server 1 starts")
        while ctx.clock.now() < deadline:
            try:
                api = await connect(ctx)
                await api.call(api.version.get_code, read_s=5.0)
            except errors:
                await ctx.clock.sleep(5.0)
                continue
            ctx.emit(CloudApiObserved(cloud=self.cloud.name, reachable=True, detail="answers"))
            return
        ctx.log("the Kubernetes API did not answer within 10 minutes of the start", level="warning")

    async def watch(self, ctx: StepContext) -> None:
        """Pods of this cloud, for the panes and the node grid, until cancelled; on
        OpenStack also the security group following the fleet's floating IPs."""
        from engine import kube

        follow = None if self._existing else getattr(self.base, "watch", None)
        if follow is None:
            await kube.watch_pods(ctx)
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, ctx)
            tg.start_soon(kube.watch_pods, ctx)

    async def aclose(self) -> None:
        await self.base.aclose()
