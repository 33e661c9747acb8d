"""The engine's front door: one room per show, running on the caller's event loop.

``open_room`` starts the cluster watcher and returns a ``Room`` whose commands the screen
(or the headless runner) calls. The room runs each cloud's plan in a worker of its own;
chaos, preflight and teardown live in their own modules. Every event leaves through the
room's ``EventHub`` (``engine.hub``): stamped, redacted, folded, recorded, then handed on.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial

import anyio
from anyio.abc import TaskGroup

from engine.backend import Backend
from engine.chaos import carry_out, resolve_target
from engine.clock import Clock, ScaledClock
from engine.config.model import DemoConfig, time_until_store_dead_s
from engine.eta import EtaTracker, history_path
from engine.events import (
    Event,
    EventSink,
    KillIssued,
    NodeObserved,
    Notice,
    NoticeLevel,
    ReviveIssued,
    RunFinished,
)
from engine.gate import GoGate
from engine.hub import EventHub
from engine.ledger import Ledger
from engine.preflight import check_all
from engine.recording import EventRecorder
from engine.room_api import ACCEPTED, Reply, RoomOptions, refused
from engine.rundir import RunDir, RunLock, new_run_id, state_dir
from engine.runner import run_cloud
from engine.scenario import ScenarioRunner
from engine.state import RoomState
from engine.targets import Target, target_nodes
from engine.teardown import teardown_clouds
from engine.watchers import watch_all
from engine.wiring import build_backend, run_started, step_contexts
from engine.workers import CloudWorkers

FLUSH_EVERY_S = 0.5
"""How often the recording is written out (and on close)."""


class Room:
    """Implements ``engine.room_api.RoomCommands``."""

    def __init__(
        self,
        demo: DemoConfig,
        backend: Backend,
        run_dir: RunDir,
        clock: Clock,
        seed: int,
        task_group: TaskGroup,
        recorder: EventRecorder | None,
    ) -> None:
        self.demo = demo
        self.backend = backend
        self.run_dir = run_dir
        self.clock = clock
        self.ledger = Ledger(run_dir.ledger)
        self._tg = task_group
        self._recorder = recorder
        self._hub = EventHub(clock, recorder)
        self._workers = CloudWorkers(task_group, self._finished)
        self._teardown_lock = anyio.Lock()
        self._contexts = step_contexts(
            demo, run_dir, clock, self.ledger, seed, self._publish, lambda: self._hub.state
        )
        for ctx in self._contexts.values():
            ctx.nodes_changed = partial(self._hub.next_of, NodeObserved)
        sheet = demo.scenario
        self._gate: GoGate | None = None
        if sheet is not None and sheet.hold_before:
            self._gate = GoGate(sheet.hold_before, self._publish, self._running_clouds)
        self.scenario: ScenarioRunner | None = None
        if sheet is not None:
            store_dead = time_until_store_dead_s(demo.cluster)
            self.scenario = ScenarioRunner(sheet, self, self._publish, clock, store_dead)

    # --- events ----------------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._hub.state

    @property
    def hub(self) -> EventHub:
        """The show's one event stream (the engine process serves it to screens)."""
        return self._hub

    def _publish(self, event: Event) -> None:
        self._hub.publish(event)

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        return self._hub.subscribe(sink, replay=replay)

    def notice(self, message: str, level: NoticeLevel = "info", cloud: str | None = None) -> None:
        self._publish(Notice(level=level, message=message, cloud=cloud))

    @property
    def playback(self) -> None:
        """A live show is not a recording."""
        return None

    async def toggle_pause(self) -> Reply:
        return refused("not a replay")

    async def faster(self) -> Reply:
        return refused("not a replay")

    async def slower(self) -> Reply:
        return refused("not a replay")

    async def next_marker(self) -> Reply:
        return refused("not a replay")

    async def previous_marker(self) -> Reply:
        return refused("not a replay")

    # --- the plan ----------------------------------------------------------------------------

    def _unknown(self, names: Sequence[str] | None) -> Reply | None:
        """Refuses a command naming any cloud this demo does not have."""
        missing = [n for n in names or () if n not in self._contexts]
        if not missing:
            return None
        return refused(f"no cloud named {', '.join(map(repr, missing))} in this demo")

    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        if (no := self._unknown(clouds)) is not None:
            return no
        for name in clouds or [c.name for c in self.demo.clouds]:
            idle = self.state.clouds[name].status in ("idle", "torn_down")
            if idle and not self._workers.running(name):
                self._spawn(name, None)
        return ACCEPTED

    async def retry(self, cloud: str) -> Reply:
        if (no := self._unknown([cloud])) is not None:
            return no
        c = self.state.clouds[cloud]
        if c.status not in ("failed", "cancelled") or self._workers.running(cloud):
            return refused(f"{c.label} is {c.status}: nothing to retry")
        stopped = c.current
        self._spawn(cloud, stopped.name if stopped is not None else None)
        return ACCEPTED

    async def cancel(self, cloud: str) -> Reply:
        if (no := self._unknown([cloud])) is not None:
            return no
        self._workers.cancel(cloud)
        return ACCEPTED

    def _spawn(self, cloud: str, from_step: str | None) -> None:
        steps = self.backend.clouds[cloud].steps()
        gate = self._gate

        async def work() -> None:
            try:
                await run_cloud(self._contexts[cloud], steps, from_step, gate)
            finally:
                if gate is not None:  # a cloud that stopped no longer keeps the gate open
                    gate.check()

        self._workers.spawn(cloud, work)

    def _state(self) -> RoomState:
        return self._hub.state

    def _running_clouds(self) -> set[str]:
        return {c.name for c in self.state.cloud_list() if c.status == "running"}

    # --- the run-sheet -----------------------------------------------------------------------

    async def fire_next_cue(self) -> Reply:
        if self.scenario is None:
            return refused("no run-sheet in this show")
        return self.scenario.fire_next()

    async def release_gate(self) -> Reply:
        if self._gate is None:
            return refused("no go-gate in this show (hold_before: in the run-sheet)")
        self._gate.release()
        return ACCEPTED

    async def wait_scenario(self) -> None:
        """Return once the run-sheet is done and every expectation decided (at once
        without one)."""
        if self.scenario is not None:
            await self.scenario.finished.wait()

    def _finished(self) -> None:
        states = self.state.cloud_list()
        self._publish(
            RunFinished(
                joined=sum(1 for c in states if c.status == "joined"),
                failed=sum(1 for c in states if c.status == "failed"),
                cancelled=sum(1 for c in states if c.status == "cancelled"),
            )
        )

    async def wait_idle(self) -> None:
        """Return once no cloud worker is running."""
        await self._workers.wait_idle()

    # --- chaos -------------------------------------------------------------------------------

    def _nodes_of(self, target: Target) -> tuple[str, ...]:
        nodes = target_nodes(target, self.demo.cloud(target.cloud).nodes)
        return tuple(n for n in nodes if n in self.state.nodes)

    async def kill(self, target: str) -> Reply:
        parsed = resolve_target(self.demo, target)
        if isinstance(parsed, str):
            return refused(parsed)
        nodes = self._nodes_of(parsed)
        if not nodes and parsed.kind in ("pod", "node", "crash", "freeze"):
            return refused(f"{parsed}: no such node is running yet")
        self._publish(KillIssued(target=str(parsed), target_kind=parsed.kind, nodes=nodes))
        self._tg.start_soon(self._chaos, parsed, True)
        return ACCEPTED

    async def revive(self, target: str) -> Reply:
        parsed = resolve_target(self.demo, target)
        if isinstance(parsed, str):
            return refused(parsed)
        nodes = self._nodes_of(parsed)
        self._publish(ReviveIssued(target=str(parsed), target_kind=parsed.kind, nodes=nodes))
        self._tg.start_soon(self._chaos, parsed, False)
        return ACCEPTED

    async def _chaos(self, target: Target, kill: bool) -> None:
        backend, ctx = self.backend.clouds[target.cloud], self._contexts[target.cloud]
        await carry_out(backend, target, ctx, kill, self._publish)

    # --- preflight and teardown ----------------------------------------------------------

    async def check(self) -> Reply:
        """Ask every cloud, at once and read-only, whether it is ready for the show."""
        self._tg.start_soon(check_all, self.demo, self._publish)
        return ACCEPTED

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        if (no := self._unknown(clouds)) is not None:
            return no
        names = clouds or [c.name for c in self.demo.clouds]
        for name in names:
            await self._workers.stop(name)
        async with self._teardown_lock:
            contexts = [self._contexts[name] for name in names]
            await teardown_clouds(contexts, self.backend.clouds, self._publish)
        return ACCEPTED

    # --- closing -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        self._workers.cancel_all()
        for cloud in self.backend.clouds.values():
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await cloud.aclose()
        self.ledger.close()
        if self._recorder is not None:
            self._recorder.close()


@asynccontextmanager
async def open_room(
    demo: DemoConfig, options: RoomOptions | None = None, backend: Backend | None = None
) -> AsyncIterator[Room]:
    """Start a show (a new run, or ``options.run_id`` to reuse one) and close it on exit.

    Leaving the block cancels every worker; what they made stays in the ledger for
    ``teardown``. The run is locked while the block runs (``RunBusy`` if another process
    holds it), so a teardown from elsewhere cannot race the show. Rehearsal clouds run at
    ``options.speed``; a demo with any real cloud runs at real time, since real APIs cannot
    be sped up.
    """
    options = options or RoomOptions()
    if options.scenario_file is not None:
        from engine.config.scenario import load_scenario_file

        demo = replace(demo, scenario=load_scenario_file(options.scenario_file, demo))
    if options.paced and demo.scenario is not None:
        demo = replace(demo, scenario=replace(demo.scenario, pace="presenter"))
    speed = options.speed if all(c.provider == "sim" for c in demo.clouds) else 1.0
    clock = ScaledClock(speed)
    base = state_dir(options.state_dir)
    run_id = options.run_id
    run_dir = (
        RunDir.existing(base, run_id)
        if run_id
        else RunDir.create(base, new_run_id(demo.run_prefix))
    )
    lock = RunLock(run_dir, options.purpose)  # raises RunBusy: one show or teardown a run
    room: Room | None = None
    recorder: EventRecorder | None = None
    try:
        if demo.source is not None and not run_dir.config_copy.exists():
            shutil.copyfile(demo.source, run_dir.config_copy)
        backend = backend or build_backend(demo, options.seed, certs_dir=run_dir.cockroach_certs)
        recorder = EventRecorder(run_dir.events) if options.record else None
        async with anyio.create_task_group() as tg:
            room = Room(demo, backend, run_dir, clock, options.seed, tg, recorder)
            room._publish(run_started(demo, backend, run_dir, speed, options.seed))
            tg.start_soon(watch_all, backend, room._contexts, room._publish, clock)
            if recorder is not None:
                tg.start_soon(recorder.flush_every, FLUSH_EVERY_S)
            if room.scenario is not None:
                tg.start_soon(room.scenario.run)
            eta = EtaTracker(history_path(base, demo.name), demo.name, room._publish, room._state)
            tg.start_soon(eta.run, room.subscribe)
            try:
                yield room
            finally:
                tg.cancel_scope.cancel()
    finally:
        try:  # only now have the workers finished publishing their cancellations
            if room is not None:
                await room.aclose()
            elif recorder is not None:
                recorder.close()
        finally:
            lock.release()
