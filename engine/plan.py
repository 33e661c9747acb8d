"""The interop script as steps, and what a step may touch while it runs.

Step names are shared by every provider so the screen, the report and ``--fail`` speak of
the same things whatever cloud runs them. A provider builds its own ``Step`` list from
these names (it may mark a step skipped, e.g. no servers when Kubernetes already exists).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.clock import Clock
from engine.config.model import CloudConfig, DemoConfig
from engine.events import Event, LogLines, ResourceDeleted, ResourceRecorded, StepProgress
from engine.ledger import Ledger, LedgerRecord

if TYPE_CHECKING:
    from engine.state import RoomState

STEPS: tuple[str, ...] = (
    "resolve",
    "keypair",
    "security_group",
    "floating_ips",
    "servers",
    "volumes",
    "boot",
    "kubernetes",
    "cockroach",
    "join",
)
"""The interop workload, in order (see BRIEF.md)."""

STEP_SHORT: dict[str, str] = {
    "resolve": "resolve",
    "keypair": "keypair",
    "security_group": "secgroup",
    "floating_ips": "fips",
    "servers": "servers",
    "volumes": "volumes",
    "boot": "boot",
    "kubernetes": "k8s",
    "cockroach": "cockroach",
    "join": "join",
}
"""Column headings where space is short (tables, the compact screen)."""

STEP_TITLES: dict[str, str] = {
    "resolve": "resolve flavor, image, network",
    "keypair": "key pair",
    "security_group": "security group and rules",
    "floating_ips": "floating IPs",
    "servers": "servers with cloud-init",
    "volumes": "volumes",
    "boot": "wait for boot",
    "kubernetes": "Kubernetes ready",
    "cockroach": "CockroachDB deployed",
    "join": "nodes joined and live",
}


@dataclass
class StepContext:
    """Everything one cloud's step may use. One per cloud, kept across retries.

    ``facts`` carries what earlier steps learned (ids, addresses) to later ones; it lives
    in memory only: after a crash, teardown works from the ledger, not from facts.
    """

    demo: DemoConfig
    cloud: CloudConfig
    run_id: str
    cloud_dir: Path
    clock: Clock
    ledger: Ledger
    emit: Callable[[Event], None]
    room: Callable[[], RoomState]
    rng: random.Random
    facts: dict[str, Any] = field(default_factory=dict)
    step: str = ""
    nodes_changed: Callable[[], Awaitable[None]] | None = None
    """Wait until the cluster's view of some node changes (``None``: poll instead)."""

    def log(self, *lines: str, level: str = "info") -> None:
        if lines:
            self.emit(LogLines(cloud=self.cloud.name, lines=tuple(lines), level=level))

    def progress(self, message: str, done: int | None = None, total: int | None = None) -> None:
        self.emit(
            StepProgress(
                cloud=self.cloud.name, step=self.step, message=message, done=done, total=total
            )
        )

    def record(
        self, resource_type: str, resource_id: str, name: str = "", **meta: str
    ) -> LedgerRecord:
        """Write a resource to the ledger before anything else happens to it."""
        rec = LedgerRecord(
            cloud=self.cloud.name,
            resource_type=resource_type,
            resource_id=resource_id,
            name=name,
            step=self.step,
            meta=tuple(sorted(meta.items())),
        )
        self.ledger.record(rec)
        self.emit(
            ResourceRecorded(
                cloud=self.cloud.name,
                resource_type=resource_type,
                resource_id=resource_id,
                name=name,
                step=self.step,
            )
        )
        return rec

    def forget(self, rec: LedgerRecord) -> None:
        """The resource is gone from the cloud: strike it from the ledger."""
        self.ledger.forget(rec.cloud, rec.resource_type, rec.resource_id)
        self.emit(
            ResourceDeleted(
                cloud=rec.cloud,
                resource_type=rec.resource_type,
                resource_id=rec.resource_id,
                name=rec.name,
            )
        )

    def resource_name(self, suffix: str) -> str:
        """Names in the cloud start with the run id, so a sweep can find them without a ledger."""
        return f"{self.run_id}-{self.cloud.name}-{suffix}"


StepFn = Callable[[StepContext], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """One step of a cloud's plan.

    ``run`` must be idempotent: a retry after a partial failure finds what exists (by
    facts, ledger or run tag) instead of making it twice. ``timeout_s`` is demo seconds
    for one attempt. ``skip`` marks a step this cloud does not need.
    """

    name: str
    run: StepFn
    timeout_s: float = 600.0
    retries: int = 4
    skip: bool = False
