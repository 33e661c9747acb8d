"""The command API a screen holds. Plain data in, a ``Reply`` and events out; nothing blocks.

Every command answers its caller at once: ``accepted``, or refused with a one-line reason
the caller shows (an unknown cloud, a target that is not running, a replay that cannot be
changed). What an accepted command sets off happens in the engine's own tasks and shows up
as events. Commands are idempotent (starting a running cloud, killing a dead node,
tearing down twice). This is the seam where the engine will move to its own process: the
same calls become messages on a local socket, and a ``Reply`` their answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.events import EventSink, NoticeLevel
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
    scenario_file: Path | None = None
    """A run-sheet file (``--scenario``) replacing the demo file's ``scenario:`` section."""
    paced: bool = False
    """The presenter fires each cue (``--paced``), whatever the run-sheet's ``pace``."""


@dataclass(frozen=True)
class Reply:
    """A command's answer to its caller."""

    accepted: bool = True
    reason: str = ""
    """Why the command was refused (one line, for the presenter); empty when accepted."""


ACCEPTED = Reply()

COMMAND_NAMES: tuple[str, ...] = (
    "start",
    "retry",
    "cancel",
    "kill",
    "revive",
    "check",
    "teardown",
    "toggle_pause",
    "faster",
    "slower",
    "next_marker",
    "previous_marker",
    "fire_next_cue",
    "release_gate",
)
"""The ``RoomCommands`` methods a screen in another process may call over the engine's socket
(``engine.wire``): each is async and answers with a ``Reply``. A new command is added here."""


def refused(reason: str) -> Reply:
    return Reply(accepted=False, reason=reason)


@dataclass(frozen=True)
class Playback:
    """How a recording is playing (a live room has none)."""

    paused: bool
    finished: bool
    speed: float
    """The replay's own speed factor (``+``/``-``), on top of the show's recorded pace."""
    rate: float
    """Demo seconds per real second right now (0 while paused or done)."""


class RoomCommands(Protocol):
    @property
    def state(self) -> RoomState:
        """The engine's own fold of every event so far."""
        ...

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        """Receive every event; with ``replay`` the past ones first, so a late screen catches
        up by folding. Returns an unsubscribe function. Sinks must not block."""
        ...

    @property
    def playback(self) -> Playback | None:
        """How the recording plays, or ``None`` for a live show."""
        ...

    def notice(self, message: str, level: NoticeLevel = "info", cloud: str | None = None) -> None:
        """Put a line for the presenter into the show (and its recording)."""
        ...

    async def wait_idle(self) -> None:
        """Return once no cloud is running its plan (a replay: once the recording ended)."""
        ...

    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        """Run the plan on these clouds (all by default); running or joined ones are left alone."""
        ...

    async def retry(self, cloud: str) -> Reply:
        """Run a failed or cancelled cloud again from the step that stopped it."""
        ...

    async def cancel(self, cloud: str) -> Reply:
        """Stop a running cloud promptly; what it made stays in the ledger."""
        ...

    async def kill(self, target: str) -> Reply:
        """A target of ``engine.targets`` (``CLOUD``, ``CLOUD/node-N``, ``CLOUD/crash-N``,
        ``CLOUD/partition``, ...): publishes ``KillIssued`` at once."""
        ...

    async def revive(self, target: str) -> Reply: ...

    async def check(self) -> Reply:
        """Preflight every cloud (read-only); answers arrive as ``PreflightChecked``."""
        ...

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        """Cancel, then delete everything the ledger lists, newest first; safe to repeat."""
        ...

    async def toggle_pause(self) -> Reply:
        """Pause or resume a replay (refused by a live show: "not a replay")."""
        ...

    async def faster(self) -> Reply:
        """Play a replay at the next faster speed (refused by a live show)."""
        ...

    async def slower(self) -> Reply:
        """Play a replay at the next slower speed (refused by a live show)."""
        ...

    async def next_marker(self) -> Reply:
        """Jump a replay to the next cue, join, fault or revive (refused by a live show)."""
        ...

    async def previous_marker(self) -> Reply:
        """Jump a replay back to the marker before (refused by a live show)."""

    async def fire_next_cue(self) -> Reply:
        """Fire the run-sheet's next cue now (refused with no run-sheet, or none left)."""
        ...

    async def release_gate(self) -> Reply:
        """Let every cloud held at the go-gate go at once (refused with no gate)."""
        ...
