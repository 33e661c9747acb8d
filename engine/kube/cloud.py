"""A cloud that brings its own Kubernetes: ``kubernetes: {kubeconfig: PATH, context: NAME}``.

No servers are booted, so every OpenStack step is in the plan but skipped; Kubernetes and
CockroachDB run as for k3s. Chaos: a node is its pod, the whole cloud is all its pods;
there is no server to kill. Pods come back by themselves (the StatefulSet), so revive
only says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError
from engine.kube.kubeconfig import disconnect
from engine.kube.pods import kill_all_pods, kill_pod
from engine.kube.steps import kube_steps
from engine.kube.teardown import delete_kube_resource
from engine.ledger import LedgerRecord
from engine.plan import STEPS, Step, StepContext, StepFn
from engine.targets import Target, node_name


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
        skipped = [Step(name, _nothing, skip=True) for name in before if name not in own]
        return [*skipped, *kube]

    async def delete(self, record: LedgerRecord, ctx: StepContext) -> None:
        if not await delete_kube_resource(record, self._seen(ctx)):
            raise PermanentStepError(
                f"{record.resource_type} {record.resource_id}: not a Kubernetes object"
            )

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        self._seen(ctx)
        if target.kind == "node" and target.index is not None:
            await kill_pod(ctx, target.index)
            return (node_name(self.cloud.name, target.index),)
        if target.kind == "cloud":
            return await kill_all_pods(ctx)
        raise PermanentStepError(f"{target}: this cloud runs on an existing cluster, no servers")

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """Nothing to do: the StatefulSet recreates deleted pods under the same names."""
        ctx.log(f"{target}: the StatefulSet brings deleted pods back by itself")
        if target.kind == "node" and target.index is not None:
            return (node_name(self.cloud.name, target.index),)
        return tuple(node_name(self.cloud.name, i) for i in range(1, self.cloud.nodes + 1))

    async def aclose(self) -> None:
        for ctx in self._contexts.values():
            disconnect(ctx)
        self._contexts.clear()
