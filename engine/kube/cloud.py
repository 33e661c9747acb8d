"""A cloud that brings its own Kubernetes: ``kubernetes: {kubeconfig: PATH, context: NAME}``.

No servers are booted, so every OpenStack step is in the plan but skipped; Kubernetes and
CockroachDB run as for k3s. Chaos: node N is pod ordinal N-1; a pod restart deletes it
(the StatefulSet brings it back), a node stop cordons the Kubernetes node it runs on and
deletes it (revive uncordons), the whole cloud is every node stopped; there is no server.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError
from engine.kube.kubeconfig import disconnect
from engine.kube.pods import (
    cordons,
    node_indexes,
    restart_pod,
    start_node,
    stop_node,
    undo_cordon,
)
from engine.kube.steps import kube_steps
from engine.kube.teardown import delete_kube_resource
from engine.ledger import LedgerRecord
from engine.plan import STEPS, Step, StepContext, StepFn, plan_step
from engine.targets import Target, node_index, node_name


async def _nothing(ctx: StepContext) -> None:
    """A skipped step: this cloud boots no servers."""


class ExistingKubernetesCloud:
    """``engine.backend.CloudBackend`` for a cloud whose Kubernetes already exists."""

    def __init__(self, demo: DemoConfig, cloud: CloudConfig) -> None:
        self.demo = demo
        self.cloud = cloud
        self._contexts: dict[int, StepContext] = {}

    def _seen(self, ctx: StepContext) -> StepContext:
        self._contexts[id(ctx)] = ctx
        return ctx

    def _tracked(self, fn: StepFn) -> StepFn:
        async def run(ctx: StepContext) -> None:
            await fn(self._seen(ctx))

        return run

    def steps(self) -> Sequence[Step]:
        kube = [
            Step(s.name, self._tracked(s.run), s.timeout_s, s.retries)
            for s in kube_steps(self.demo, self.cloud)
        ]
        own = {s.name for s in kube}
        before = STEPS[: STEPS.index("kubernetes")]
        skipped = [plan_step(name, _nothing, skip=True) for name in before if name not in own]
        return [*skipped, *kube]

    async def delete(self, record: LedgerRecord, ctx: StepContext) -> None:
        if await undo_cordon(record, self._seen(ctx)):
            return
        if not await delete_kube_resource(record, ctx):
            raise PermanentStepError(
                f"{record.resource_type} {record.resource_id}: not a Kubernetes object"
            )

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """Node N is pod ordinal N-1 here (no servers): ``pod`` restarts it, ``node`` cordons
        the Kubernetes node it runs on and deletes it, ``cloud`` does that to every node."""
        self._seen(ctx)
        if target.kind == "pod" and target.index is not None:
            return await restart_pod(ctx, target.index)
        if target.kind == "node" and target.index is not None:
            return await stop_node(ctx, target.index)
        if target.kind == "cloud":
            hit: list[str] = []
            for index in await node_indexes(ctx):
                hit.extend(await stop_node(ctx, index))
            return tuple(hit)
        raise PermanentStepError(
            f"{target}: this cloud runs on an existing cluster; no servers or security "
            "groups of ours to act on"
        )

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """Uncordon what a stop cordoned; a restarted pod needs nothing."""
        self._seen(ctx)
        if target.kind == "pod" and target.index is not None:
            ctx.log(f"{target}: a restarted pod comes back by itself; nothing to revive")
            return (node_name(self.cloud.name, target.index),)
        if target.kind == "node" and target.index is not None:
            return await start_node(ctx, target.index)
        if target.kind == "cloud":
            hit: list[str] = []
            for node in sorted(cordons(ctx)):
                index = node_index(node)
                if index is not None:
                    hit.extend(await start_node(ctx, index))
            return tuple(hit)
        raise PermanentStepError(f"{target}: this cloud runs on an existing cluster, no servers")

    async def aclose(self) -> None:
        for ctx in self._contexts.values():
            disconnect(ctx)
        self._contexts.clear()
