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
from engine.events import (
    Event,
    LogLines,
    NoticeLevel,
    ResourceDeleted,
    ResourceRecorded,
    StepProgress,
)
from engine.ledger import Ledger, LedgerRecord

if TYPE_CHECKING:
    from engine.state import RoomState


@dataclass(frozen=True)
class StepSpec:
    """One row of the interop script: what every provider's step of that name is."""

    name: str
    title: str
    """What the step does, for the step list and the panes."""
    short: str
    """Column heading where space is short (tables, the compact screen)."""
    timeout_s: float | None
    """Demo seconds for one attempt; ``None``: the demo file says (``join_timeout_s``)."""


STEP_TABLE: tuple[StepSpec, ...] = (
    StepSpec("resolve", "resolve flavor, image, network", "resolve", 180.0),
    StepSpec("keypair", "key pair", "keypair", 120.0),
    StepSpec("security_group", "security group and rules", "secgroup", 180.0),
    StepSpec("floating_ips", "floating IPs", "fips", 180.0),
    StepSpec("servers", "servers with cloud-init", "servers", 600.0),
    StepSpec("volumes", "volumes", "volumes", 600.0),
    StepSpec("boot", "wait for boot", "boot", 900.0),
    StepSpec("kubernetes", "Kubernetes ready", "k8s", 900.0),
    StepSpec("cockroach", "CockroachDB deployed", "cockroach", 900.0),
    StepSpec("join", "nodes joined and live", "join", None),
)
"""The interop workload, in order (see BRIEF.md): the one table every backend builds its
steps from (``plan_step``), and the screen and the printer take titles and headings from.
Timeouts are the real clouds' (a rehearsal step finishes far inside them)."""

STEP_SPECS: dict[str, StepSpec] = {s.name: s for s in STEP_TABLE}
STEPS: tuple[str, ...] = tuple(s.name for s in STEP_TABLE)
STEP_SHORT: dict[str, str] = {s.name: s.short for s in STEP_TABLE}
STEP_TITLES: dict[str, str] = {s.name: s.title for s in STEP_TABLE}


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

    def log(self, *lines: str, level: NoticeLevel = "info") -> None:
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


def plan_step(
    name: str,
    run: StepFn,
    *,
    skip: bool = False,
    retries: int = 4,
    timeout_s: float | None = None,
) -> Step:
    """The step ``name`` of the table, carried out by ``run``; its timeout is the table's
    unless the table leaves it to the demo file (then ``timeout_s`` must be given)."""
    spec = STEP_SPECS[name]
    limit = spec.timeout_s if spec.timeout_s is not None else timeout_s
    if limit is None:
        raise ValueError(f"step {name}: its timeout comes from the demo file")
    return Step(name, run, timeout_s=limit, retries=retries, skip=skip)
