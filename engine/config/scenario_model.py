"""The run-sheet as typed, frozen values: ordered cues, the go-gate and the expectations.

``engine.config.scenario`` reads these from a demo file's ``scenario:`` section (or a
``--scenario`` file); ``engine.scenario`` runs them and ``engine.verdicts`` judges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

CueAction = Literal[
    "restart",
    "stop",
    "revive",
    "kill_server",
    "kill_cloud",
    "partition",
    "heal",
    "crash",
    "freeze",
    "teardown",
    "say",
    "release",
]
CUE_ACTIONS: tuple[CueAction, ...] = get_args(CueAction)
NODE_ACTIONS: frozenset[str] = frozenset({"restart", "stop", "kill_server", "crash", "freeze"})
"""Cues aimed at one node (``CLOUD/node-N``)."""
CLOUD_ACTIONS: frozenset[str] = frozenset({"kill_cloud", "partition", "heal"})
"""Cues aimed at a whole cloud (``CLOUD``)."""
UNDOABLE: frozenset[str] = frozenset({"stop", "kill_server", "kill_cloud", "partition", "freeze"})
"""Faults that stay until undone, so ``for:`` may undo them (a restarted pod or a crashed
process comes back by itself)."""
FAULTS: frozenset[str] = NODE_ACTIONS | {"kill_cloud", "partition"}
"""Cues that break something, so they may carry fault-window expectations."""

Pace = Literal["auto", "presenter"]


@dataclass(frozen=True)
class Expectations:
    """What a cue's fault window (or the whole run) must show; ``None``: not checked."""

    all_joined_within_s: float | None = None
    unavailable_ranges: int | None = None
    kv_error_rate_max: float | None = None
    """A fraction (``1%`` in the file is 0.01)."""
    p99_max_ms: float | None = None
    healed_within_s: float | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (
                self.all_joined_within_s,
                self.unavailable_ranges,
                self.kv_error_rate_max,
                self.p99_max_ms,
                self.healed_within_s,
            )
        )


@dataclass(frozen=True)
class Cue:
    """One line of the run-sheet.

    When: ``on`` (``all_joined``, ``held``, ``healed``, ``cloud_joined:<cloud>``) or
    ``after`` (another cue fired), then ``at_s`` seconds more; with neither, ``at_s``
    after every cloud joined. Cues fire in list order.
    """

    name: str
    action: CueAction
    target: str = ""
    """``CLOUD/node-N`` for node cues, ``CLOUD`` for cloud cues, a kill target for revive,
    an optional ``CLOUD`` for teardown; empty for say and release."""
    at_s: float = 0.0
    after: str = ""
    on: str = ""
    for_s: float | None = None
    text: str = ""
    expect: Expectations = Expectations()
    line: int = 0

    @property
    def trigger(self) -> str:
        if self.after:
            return f"after {self.after}"
        return self.on or "all_joined"


@dataclass(frozen=True)
class Scenario:
    cues: tuple[Cue, ...] = ()
    pace: Pace = "auto"
    hold_before: str = ""
    """A step name: every cloud stops before it until the gate is released."""
    expect: Expectations = Expectations()
    """Run-level expectations (``all_joined_within``)."""
    source: str = ""
    """The file the run-sheet came from (for messages)."""
