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

from engine.backend import CloudBackend
from engine.config.model import CloudConfig, DemoConfig
from engine.join import join_step
from engine.ledger import LedgerRecord
from engine.plan import Step, StepContext
from engine.targets import Target


class AddressBook(Protocol):
    """Where the cluster monitor learns SQL addresses found during the plan."""

    def add_sql_addresses(self, addresses: Sequence[str]) -> list[str]: ...


def _after(step: Step, book: AddressBook | None) -> Step:
    """The cockroach step, then hand its nodes' SQL addresses to the monitor."""
    inner = step.run

    async def run(ctx: StepContext) -> None:
        await inner(ctx)
        addresses = list(ctx.facts.get("sql_addresses") or ())
        if book is not None and addresses:
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
        self.base: CloudBackend
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

        if kube.is_kube_record(record):
            await kube.delete_kube_resource(record, ctx)
            return
        await self.base.delete(record, ctx)

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """A node is its pod; a server is the VM (OpenStack); a cloud is all its servers,
        or all its pods when Kubernetes was not ours to boot."""
        from engine import kube

        if target.kind == "node" and target.index is not None and not self._existing:
            await kube.kill_pod(ctx, target.index)
            return (f"{self.cloud.name}/node-{target.index}",)
        return await self.base.kill(target, ctx)

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        return await self.base.revive(target, ctx)

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
