"""``OpenStackCloud``: one real cloud behind the same ``CloudBackend`` as the rehearsal fleet.

The Connection is opened lazily on the first step (so a broken clouds.yaml entry fails
that cloud's first step, by name, not the whole show) and shared by every step, delete
and chaos action of this cloud through one thread limiter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError, StepError
from engine.ledger import LedgerRecord
from engine.plan import Step, StepContext, StepFn, plan_step
from engine.providers.openstack import access, compute, inventory
from engine.providers.openstack.compute import UserData, default_user_data
from engine.providers.openstack.connection import API_TIMEOUT_S, CloudSession
from engine.providers.openstack.teardown import delete_resource
from engine.targets import Target, node_name, target_nodes


class OpenStackCloud:
    """The interop steps, teardown and server kills for one clouds.yaml entry."""

    def __init__(
        self,
        demo: DemoConfig,
        cloud: CloudConfig,
        *,
        user_data: UserData | None = None,
        extra_steps: Sequence[Step] = (),
        api_timeout: float = API_TIMEOUT_S,
    ) -> None:
        self.demo = demo
        self.cloud = cloud
        self._user_data = user_data or default_user_data
        self._extra_steps = tuple(extra_steps)
        self._api_timeout = api_timeout
        self._session: CloudSession | None = None

    async def session(self) -> CloudSession:
        """The cloud's session, opened on first use (raises PermanentStepError if broken)."""
        if self._session is None:
            session = await CloudSession.open_async(self.cloud, api_timeout=self._api_timeout)
            if self._session is None:  # another task of this cloud may have won the race
                self._session = session
        return self._session

    async def _session_for(self, ctx: StepContext) -> CloudSession:
        """The session, telling its calls to this cloud's pane (one context per cloud)."""
        session = await self.session()
        if session.log is None:
            session.log = ctx.log
        return session

    def _bind(self, fn: Any, *extra: Any) -> StepFn:
        async def run(ctx: StepContext) -> None:
            await fn(await self._session_for(ctx), ctx, *extra)

        run.__name__ = getattr(fn, "__name__", "step")
        return run

    def steps(self) -> Sequence[Step]:
        no_volumes = self.cloud.volume_size_gb <= 0
        return (
            plan_step("resolve", self._bind(access.resolve)),
            plan_step("keypair", self._bind(access.keypair)),
            plan_step("security_group", self._bind(access.security_group)),
            plan_step("floating_ips", self._bind(compute.floating_ips)),
            plan_step("servers", self._bind(partial(compute.servers, user_data=self._user_data))),
            plan_step("volumes", self._bind(compute.volumes), skip=no_volumes),
            plan_step("boot", self._bind(compute.boot)),
            *(self._with_facts(step) for step in self._extra_steps),
        )

    def _with_facts(self, step: Step) -> Step:
        """An extra step that finds its facts even when the cloud resumes at that step."""
        inner = step.run

        async def run(ctx: StepContext) -> None:
            await compute.restore_facts(await self._session_for(ctx), ctx)
            await inner(ctx)

        return replace(step, run=run)

    async def watch(self, ctx: StepContext) -> None:
        """For as long as the show runs: keep this cloud's group open to the fleet's
        floating IPs as the other clouds allocate them (and closed to clouds torn down)."""
        try:
            session = await self._session_for(ctx)
        except StepError as err:  # the plan's first step reports a broken entry by name
            ctx.log(f"security group rules not followed: {err.message}", level="warning")
            return
        await access.keep_rules(session, ctx)

    async def delete(self, record: LedgerRecord, ctx: StepContext) -> None:
        """Delete one ledger resource and wait until it is gone (the caller forgets it)."""
        if record.cloud != self.cloud.name:
            return
        if record.resource_type == access.PARTITION:
            return  # nothing in the cloud: struck from the ledger, every group heals
        label = f"{record.resource_type.replace('_', ' ')} {record.name or record.resource_id}"
        await delete_resource(
            await self._session_for(ctx), ctx.clock, record.resource_type, record.resource_id, label
        )

    async def _server_ids(self, target: Target, ctx: StepContext) -> list[tuple[int, str]]:
        """``(index, id)`` of this run's servers the target names: ledger first, then marks."""
        by_index: dict[int, str] = {}
        for rec in ctx.ledger.live(self.cloud.name):
            if rec.resource_type == "server" and rec.get("index").isdigit():
                by_index[int(rec.get("index"))] = rec.resource_id
        if not by_index:
            s = await self.session()
            found = await s.call(
                inventory.servers, s.connection, self.cloud.name, ctx.run_id, what="find servers"
            )
            by_index = {f.index: f.resource_id for f in found if f.index is not None}
        if target.kind == "cloud":
            return sorted(by_index.items())
        if target.index not in by_index:
            raise PermanentStepError(f"{target}: no such server in this run")
        return [(target.index, by_index[target.index])]

    async def _power(self, target: Target, ctx: StepContext, action: str) -> tuple[str, ...]:
        if target.kind not in ("server", "cloud") or target.cloud != self.cloud.name:
            return ()  # Kubernetes and SSH faults (engine.kube.pods, engine.ssh_faults)
        s = await self.session()
        fn = (
            s.connection.compute.stop_server
            if action == "stop"
            else s.connection.compute.start_server
        )
        hit: list[str] = []
        for index, server_id in await self._server_ids(target, ctx):
            try:
                await s.call(fn, server_id, what=f"{action} server-{index}", idempotent=False)
            except StepError as err:
                if "(409)" not in err.message:  # already stopped / already running is fine
                    raise
            hit.append(node_name(self.cloud.name, index))
        ctx.log(f"{action} {target}: {', '.join(hit) or 'nothing'} (server power {action})")
        return tuple(hit)

    async def _partition(self, target: Target, ctx: StepContext, cut: bool) -> tuple[str, ...]:
        """Cut the cloud off from the others (its group and theirs), or heal it."""
        await access.partition(await self._session_for(ctx), ctx, cut)
        return target_nodes(target, self.cloud.nodes)

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """Stop (not delete) the server(s), so ``revive`` can start them again; or cut the
        cloud off (``partition``)."""
        if target.kind == "partition" and target.cloud == self.cloud.name:
            return await self._partition(target, ctx, cut=True)
        return await self._power(target, ctx, "stop")

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        if target.kind == "partition" and target.cloud == self.cloud.name:
            return await self._partition(target, ctx, cut=False)
        return await self._power(target, ctx, "start")

    async def aclose(self) -> None:
        if self._session is not None:
            self._session.close()
