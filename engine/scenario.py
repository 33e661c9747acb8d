"""The run-sheet runner: a task in the room that fires each cue in order, automatically
when it is due or when the presenter says so (``fire_next_cue``), undoes timed faults
(``for:``), and has the expectations judged (``engine.verdicts``).

It runs in the engine (so in the engine's own process when there is one) and acts only
through the room's commands, the same kill, revive, teardown and release a presenter
has. What it does is events: ``CueNext`` (what comes next, and when), ``CueFired``,
``VerdictDecided``. It wakes on the room's events and on timers, never by polling.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

import anyio
from anyio.abc import TaskGroup

from engine.clock import Clock
from engine.config.scenario_model import FAULTS, Cue, Scenario
from engine.events import (
    CloudJoined,
    CueFired,
    CueNext,
    EtaEstimated,
    Event,
    EventSink,
    GateHeld,
    LogLines,
    NoticeLevel,
    VerdictDecided,
)
from engine.room_api import ACCEPTED, Reply, refused
from engine.state import RoomState
from engine.verdicts import Judge, expectations_of

VERBS: dict[str, str] = {
    "restart": "pod",
    "stop": "node",
    "kill_server": "server",
    "crash": "crash",
    "freeze": "freeze",
}
"""Node cues and the kill kind each sends (``CLOUD/<kind>-N``)."""


class ScenarioRoom(Protocol):
    """What the runner needs of the room: its state, events and commands."""

    @property
    def state(self) -> RoomState: ...

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]: ...

    def notice(
        self, message: str, level: NoticeLevel = "info", cloud: str | None = None
    ) -> None: ...

    async def kill(self, target: str) -> Reply: ...

    async def revive(self, target: str) -> Reply: ...

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply: ...

    async def release_gate(self) -> Reply: ...


def command_target(cue: Cue) -> str:
    """The kill or revive target a cue sends: ``stop x/node-2`` is ``x/node-2``, ``restart``
    its pod ``x/pod-2``, ``partition x`` and ``heal x`` are ``x/partition``."""
    if cue.action in VERBS:
        cloud, _, node = cue.target.partition("/")
        return f"{cloud}/{VERBS[cue.action]}-{node.removeprefix('node-')}"
    if cue.action in ("partition", "heal"):
        return f"{cue.target}/partition"
    return cue.target


def _whole(state: RoomState) -> bool:
    """``on: healed``: every fault so far is over (healed, or back without the cluster
    losing a replica), every node is live and unkilled, every range whole."""
    return (
        bool(state.nodes)
        and all(
            k.error or k.healed_t is not None or (k.back_t is not None and not k.degraded)
            for k in state.kills
        )
        and all(n.liveness == "live" and n.killed_t is None for n in state.nodes.values())
        and not state.health.under_replicated
        and not state.health.unavailable
    )


class ScenarioRunner:
    def __init__(
        self,
        scenario: Scenario,
        room: ScenarioRoom,
        publish: EventSink,
        clock: Clock,
        store_dead_s: float,
    ) -> None:
        self.scenario = scenario
        self.paced = scenario.pace == "presenter"
        self._room = room
        self._publish = publish
        self._clock = clock
        self._judge = Judge.for_run(scenario.expect, store_dead_s)
        self._wake = anyio.Event()
        self._inbox: list[Event] = []
        self._go = False
        self._next = 0
        self._fired: dict[str, float] = {}
        self._all_joined_t: float | None = None
        self._held_t: float | None = None
        self._healed_t: float | None = None
        self._undos = 0
        self._abandoned = ""
        self.finished = anyio.Event()
        """Set once every cue fired, every undo ran and every expectation is decided."""

    # --- commands -------------------------------------------------------------------------

    def fire_next(self) -> Reply:
        if self._next >= len(self.scenario.cues):
            return refused("the run-sheet is done: no cue left to fire")
        self._go = True
        self._wake.set()
        return ACCEPTED

    def abandon(self, reason: str) -> None:
        """Stop firing cues (the show cannot reach them, e.g. a cloud failed before all
        joined); their expectations are decided as failed, with ``reason``."""
        if not self._abandoned:
            self._abandoned = reason
            self._wake.set()

    # --- events ---------------------------------------------------------------------------

    def _see(self, event: Event) -> None:
        """A sink: note the event and wake the runner (never publishes from here)."""
        if not isinstance(event, VerdictDecided | CueNext | CueFired | LogLines | EtaEstimated):
            self._inbox.append(event)
            self._wake.set()

    def _learn(self, state: RoomState) -> list[VerdictDecided]:
        """Fold what arrived into the triggers and the judge."""
        events, self._inbox = self._inbox, []
        decided: list[VerdictDecided] = []
        for e in events:
            if isinstance(e, GateHeld) and self._held_t is None:
                self._held_t = e.t
            if (
                isinstance(e, CloudJoined)
                and self._all_joined_t is None
                and all(c.status == "joined" for c in state.cloud_list())
            ):
                self._all_joined_t = e.t
            decided.extend(self._judge.observe(e, state))
        whole = not self._undos and _whole(state)
        if self._healed_t is None and whole:
            self._healed_t = state.t
        elif self._healed_t is not None and not whole:
            self._healed_t = None
        decided.extend(self._judge.tick(self._clock.now(), state))
        return decided

    def _base_t(self, cue: Cue, state: RoomState) -> float | None:
        """When the cue's trigger happened (``None``: not yet)."""
        if cue.after:
            return self._fired.get(cue.after)
        on = cue.on or "all_joined"
        if on == "all_joined":
            return self._all_joined_t
        if on == "held":
            return self._held_t
        if on == "healed":
            return self._healed_t
        cloud = state.clouds.get(on.partition(":")[2])
        return cloud.ended_t if cloud is not None and cloud.status == "joined" else None

    # --- the run ----------------------------------------------------------------------------

    async def run(self) -> None:
        unsubscribe = self._room.subscribe(self._see, replay=True)
        try:
            async with anyio.create_task_group() as tg:
                await self._cues(tg)
                await self._settle()
        finally:
            unsubscribe()
            self.finished.set()

    async def _wait(self, until: float | None) -> None:
        """Sleep until the next event, a command, or demo time ``until``."""
        timeout = math.inf
        if until is not None:
            timeout = max(0.0, until - self._clock.now()) / self._clock.speed
        with anyio.move_on_after(timeout):
            await self._wake.wait()

    def _decide(self, decided: list[VerdictDecided]) -> None:
        for verdict in decided:
            self._publish(verdict)

    async def _cues(self, tg: TaskGroup) -> None:
        shown: tuple[int, float | None] | None = None
        cues = self.scenario.cues
        while self._next < len(cues) and not self._abandoned:
            self._wake = anyio.Event()
            state = self._room.state
            self._decide(self._learn(state))
            cue = cues[self._next]
            base = self._base_t(cue, state)
            due = None if base is None else base + cue.at_s
            if shown != (self._next, due):
                shown = (self._next, due)
                self._publish(
                    CueNext(
                        cue=cue.name,
                        index=self._next,
                        action=cue.action,
                        target=cue.target,
                        due_t=due,
                        paced=self.paced,
                    )
                )
            now = self._clock.now()
            if self._go or (not self.paced and due is not None and now >= due):
                self._go = False
                self._next += 1
                await self._fire(self._next - 1, cue, tg)
                continue
            deadline = self._judge.next_deadline()
            timer = [t for t in (None if self.paced else due, deadline) if t is not None]
            await self._wait(min(timer) if timer else None)
        self._publish(CueNext(cue="", index=-1, action="", target="", due_t=None))
        for cue in cues[self._next :]:
            for name, expected in expectations_of(cue):
                self._publish(
                    VerdictDecided(
                        name=name,
                        scope=cue.name,
                        passed=False,
                        measured=f"cue never fired: {self._abandoned}",
                        expected=expected,
                    )
                )

    async def _settle(self) -> None:
        """After the last cue: wait for the undos and for every expectation to be decided."""
        while self._undos or self._judge.pending:
            self._wake = anyio.Event()
            self._decide(self._learn(self._room.state))
            if self._abandoned and not self._undos:
                self._decide(self._judge.tick(math.inf, self._room.state))
            if not (self._undos or self._judge.pending):
                break
            await self._wait(self._judge.next_deadline())

    async def _fire(self, index: int, cue: Cue, tg: TaskGroup) -> None:
        target = command_target(cue)
        self._publish(
            CueFired(cue=cue.name, index=index, action=cue.action, target=target, text=cue.text)
        )
        now = self._clock.now()
        self._fired[cue.name] = now
        reply = ACCEPTED
        if cue.action in FAULTS:
            reply = await self._room.kill(target)
            if cue.expect.any:
                why = "" if reply.accepted else f"refused: {reply.reason}"
                self._judge.open(cue, target, now, refused=why)
            if reply.accepted and cue.for_s is not None:
                self._undos += 1
                tg.start_soon(self._undo, cue, target)
        elif cue.action in ("revive", "heal"):
            reply = await self._room.revive(target)
        elif cue.action == "teardown":
            tg.start_soon(self._room.teardown, [cue.target] if cue.target else None)
        elif cue.action == "release":
            reply = await self._room.release_gate()
        if not reply.accepted:
            self._room.notice(f"cue {cue.name}: {reply.reason}", level="warning")

    async def _undo(self, cue: Cue, target: str) -> None:
        try:
            await self._clock.sleep(cue.for_s or 0.0)
            reply = await self._room.revive(target)
            self._judge.undone(cue.name, self._clock.now())
            if not reply.accepted:
                self._room.notice(f"cue {cue.name} (undo): {reply.reason}", level="warning")
        finally:
            self._undos -= 1
            self._wake.set()
