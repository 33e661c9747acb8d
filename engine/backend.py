"""The two surfaces the engine drives: one per cloud, and one for the cluster.

The rehearsal fleet (``engine.sim``) and the real thing (openstacksdk + Kubernetes +
CockroachDB) implement the same protocols, so the runner, the screen and the report
never know which one they talk to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engine.clock import Clock
from engine.events import EventSink
from engine.ledger import LedgerRecord
from engine.plan import Step, StepContext
from engine.targets import Target


class CloudOperations(Protocol):
    """One cloud: its plan, how to delete what the plan made, and its chaos levers."""

    def steps(self) -> Sequence[Step]:
        """The plan, in ``engine.plan.STEPS`` order (absent or skipped steps allowed)."""
        ...

    async def delete(self, record: LedgerRecord, ctx: StepContext) -> None:
        """Delete one ledger resource and wait until it is gone.

        Idempotent: a resource that is already gone is success. Raise ``StepError`` with a
        one-line reason when it cannot be deleted.
        """
        ...

    async def kill(self, target: Target, ctx: StepContext) -> tuple[str, ...]:
        """Kill a node (its pod), a server, or the whole cloud; return the nodes hit.

        Only resources of this run may be touched. Returns promptly; the cluster's
        reaction is observed by the ``ClusterBackend``, not reported here.
        """
        ...

    async def revive(self, target: Target, ctx: StepContext) -> tuple[str, ...]: ...

    async def aclose(self) -> None:
        """Release connections; abandon (never wait on) calls still hanging."""
        ...


class CloudBackend(CloudOperations, Protocol):
    """One cloud as the room drives it: its operations, and what it watches of its own."""

    async def watch(self, ctx: StepContext) -> None:
        """Publish what this cloud sees of its own (Kubernetes pods) until cancelled.

        Returns at once for a cloud with nothing to watch. May raise: the room reports it
        as one line and carries on without this cloud's watch.
        """
        ...


class ClusterBackend(Protocol):
    """Watches the CockroachDB cluster and drives its load."""

    async def run(self, emit: EventSink, clock: Clock) -> None:
        """Publish ``NodeObserved``, ``ProbeObserved``, ``ClusterHealthObserved``,
        ``WorkloadSample``, ``MonitorStatus`` and ``SettingApplied`` events until cancelled.

        Never raises into the engine: every failure becomes an event.
        """
        ...


@dataclass
class Backend:
    """What one show runs on."""

    clouds: dict[str, CloudBackend]
    cluster: ClusterBackend
    simulated: bool
    closers: list[CloudBackend] = field(default_factory=list)
