"""Drive an ``OpenStackCloud`` the way the room does, without the room or a screen."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from engine.clock import Clock, ScaledClock
from engine.config.model import CloudConfig, DemoConfig
from engine.events import Event
from engine.ledger import Ledger
from engine.plan import Step, StepContext
from engine.recording import EventRecorder
from engine.state import RoomState

LAB_CLOUD = {
    "flavor": "m1.tiny",
    "image": "fake-raw",
    "network": "private",
    "floating_ip_pool": "public",
    "servers": 2,
    "volume_size_gb": 1,
    "public_cidrs": ("203.0.113.0/24",),
}


def lab_cloud(name: str, **changes: object) -> CloudConfig:
    return CloudConfig(name=name, label=name.upper(), **{**LAB_CLOUD, **changes})  # type: ignore[arg-type]


def make_ctx(
    demo: DemoConfig,
    cloud: CloudConfig,
    run_dir: Path,
    run_id: str,
    sink: list[Event],
    clock: Clock | None = None,
    ledger: Ledger | None = None,
) -> StepContext:
    cloud_dir = run_dir / "clouds" / cloud.name
    cloud_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return StepContext(
        demo=demo,
        cloud=cloud,
        run_id=run_id,
        cloud_dir=cloud_dir,
        clock=clock or ScaledClock(),
        ledger=ledger or Ledger(run_dir / "ledger.jsonl"),
        emit=sink.append,
        room=RoomState,
        rng=random.Random(7),
    )


def record_events(events: Sequence[Event], path: Path) -> None:
    """Write events as the room's recorder would, so tests can read the real recording."""
    rec = EventRecorder(path)
    for e in events:
        rec(e)
    rec.close()


def steps_named(steps: Sequence[Step], *names: str) -> list[Step]:
    return [s for s in steps if s.name in names]
