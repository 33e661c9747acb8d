"""The command API a screen holds. Plain data in, events out; nothing here blocks.

Every command is idempotent (starting a running cloud, killing a dead node, tearing down
twice: each is a no-op or a ``Notice``) and returns quickly: the work happens in the
engine's own tasks and shows up as events. This is the seam where the engine will move
to its own process: the same calls become messages on a local socket.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.events import EventSink
from engine.state import RoomState


@dataclass(frozen=True)
class RoomOptions:
    seed: int = 0
    """Seeds the rehearsal fleet: each cloud draws from its own stream derived from it."""
    speed: float = 1.0
    """Demo seconds per real second (the rehearsal fleet only; real clouds run at 1)."""
    state_dir: Path | None = None
    run_id: str | None = None
    """Reuse an existing run (its ledger) instead of starting a new one."""
    record: bool = True
    purpose: str = "crossroom show"
    """What holds the run while the room is open, named to anyone refused the run's lock."""


class RoomCommands(Protocol):
    @property
    def state(self) -> RoomState:
        """The engine's own fold of every event so far."""
        ...

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        """Receive every event; with ``replay`` the past ones first, so a late screen catches
        up by folding. Returns an unsubscribe function. Sinks must not block."""
        ...

    async def start(self, clouds: Sequence[str] | None = None) -> None:
        """Run the plan on these clouds (all by default); running or joined ones are left alone."""
        ...

    async def retry(self, cloud: str) -> None:
        """Run a failed or cancelled cloud again from the step that stopped it."""
        ...

    async def cancel(self, cloud: str) -> None:
        """Stop a running cloud promptly; what it made stays in the ledger."""
        ...

    async def kill(self, target: str) -> None:
        """``CLOUD``, ``CLOUD/node-N`` or ``CLOUD/server-N``: publishes ``KillIssued`` at once."""
        ...

    async def revive(self, target: str) -> None: ...

    async def check(self) -> None:
        """Preflight every cloud (read-only); answers arrive as ``PreflightChecked``."""
        ...

    async def teardown(self, clouds: Sequence[str] | None = None) -> None:
        """Cancel, then delete everything the ledger lists, newest first; safe to repeat."""
        ...
