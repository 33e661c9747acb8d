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

import anyio
from anyio.abc import TaskGroup

from engine.backend import Backend
from engine.backends import build_backend, cloud_rng, run_started
from engine.chaos import carry_out, resolve_target
from engine.clock import Clock, ScaledClock
from engine.commands import RoomOptions
from engine.config.model import DemoConfig
from engine.events import (
    Event,
    EventSink,
    KillIssued,
    NodeObserved,
    Notice,
    ReviveIssued,
    RunFinished,
)
from engine.hub import EventHub
from engine.ledger import Ledger
from engine.plan import StepContext
from engine.preflight import check_all
from engine.recording import Recorder
from engine.redact import one_line
from engine.rundir import RunDir, RunLock, new_run_id, state_dir
from engine.runner import run_cloud
from engine.state import RoomState
from engine.targets import Target, target_nodes
from engine.teardown import teardown_cloud
from engine.workers import CloudWorkers

FLUSH_EVERY_S = 0.5
"""How often the recording is written out (and on close)."""


class Room:
    """Implements ``engine.commands.RoomCommands``."""

    def __init__(
        self,
        demo: DemoConfig,
        backend: Backend,
        run_dir: RunDir,
        clock: Clock,
        seed: int,
        task_group: TaskGroup,
        recorder: Recorder | None,
    ) -> None:
        self.demo = demo
        self.backend = backend
        self.run_dir = run_dir
        self.clock = clock
        self.ledger = Ledger(run_dir.ledger)
        self._tg = task_group
        self._recorder = recorder
        self._hub = EventHub(clock, recorder)
        self._hub.subscribe(self._note_nodes, replay=False)
        self._workers = CloudWorkers(task_group, self._finished)
        self._contexts: dict[str, StepContext] = {}
        self._teardown_lock = anyio.Lock()
        self._nodes_changed = anyio.Event()
        for cloud in demo.clouds:
            self._contexts[cloud.name] = StepContext(
                demo=demo,
                cloud=cloud,
                run_id=run_dir.run_id,
                cloud_dir=run_dir.cloud_dir(cloud.name),
                clock=clock,
                ledger=self.ledger,
                emit=self._publish,
                room=lambda: self._hub.state,
                rng=cloud_rng(seed, cloud.name),
                nodes_changed=self._wait_nodes_changed,
            )

    # --- events ----------------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._hub.state

    def _publish(self, event: Event) -> None:
        self._hub.publish(event)

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        return self._hub.subscribe(sink, replay=replay)

    def _note_nodes(self, event: Event) -> None:
        if isinstance(event, NodeObserved):
            self._nodes_changed.set()
            self._nodes_changed = anyio.Event()

    async def _wait_nodes_changed(self) -> None:
        await self._nodes_changed.wait()

    def notice(self, message: str, level: str = "info", cloud: str | None = None) -> None:
        self._publish(Notice(level=level, message=message, cloud=cloud))

    # --- the plan ----------------------------------------------------------------------------

    def _known(self, cloud: str) -> bool:
        if cloud in self._contexts:
            return True
        self.notice(f"no cloud named {cloud!r} in this demo", level="warning")
        return False

    async def start(self, clouds: Sequence[str] | None = None) -> None:
        for name in clouds or [c.name for c in self.demo.clouds]:
            if not self._known(name) or self._workers.running(name):
                continue
            status = self.state.clouds[name].status
            if status in ("idle", "torn_down"):
                self._spawn(name, None)

    async def retry(self, cloud: str) -> None:
        if not self._known(cloud) or self._workers.running(cloud):
            return
        c = self.state.clouds[cloud]
        if c.status not in ("failed", "cancelled"):
            self.notice(f"{c.label} is {c.status}: nothing to retry", cloud=cloud)
            return
        stopped = c.current
        self._spawn(cloud, stopped.name if stopped is not None else None)

    async def cancel(self, cloud: str) -> None:
        if self._known(cloud):
            self._workers.cancel(cloud)

    def _spawn(self, cloud: str, from_step: str | None) -> None:
        steps = self.backend.clouds[cloud].steps()
        self._workers.spawn(cloud, lambda: run_cloud(self._contexts[cloud], steps, from_step))

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

    def _target(self, text: str) -> Target | None:
        target = resolve_target(self.demo, text)
        if isinstance(target, str):
            self.notice(target, level="warning")
            return None
        return target

    def _nodes_of(self, target: Target) -> tuple[str, ...]:
        nodes = target_nodes(target, self.demo.cloud(target.cloud).nodes)
        return tuple(n for n in nodes if n in self.state.nodes)

    async def kill(self, target: str) -> None:
        parsed = self._target(target)
        if parsed is None:
            return
        nodes = self._nodes_of(parsed)
        if not nodes and parsed.kind in ("pod", "node"):
            self.notice(f"{parsed}: no such node is running yet", level="warning")
            return
        self._publish(KillIssued(target=str(parsed), target_kind=parsed.kind, nodes=nodes))
        self._tg.start_soon(self._chaos, parsed, True)

    async def revive(self, target: str) -> None:
        parsed = self._target(target)
        if parsed is None:
            return
        nodes = self._nodes_of(parsed)
        self._publish(ReviveIssued(target=str(parsed), target_kind=parsed.kind, nodes=nodes))
        self._tg.start_soon(self._chaos, parsed, False)

    async def _chaos(self, target: Target, kill: bool) -> None:
        backend, ctx = self.backend.clouds[target.cloud], self._contexts[target.cloud]
        await carry_out(backend, target, ctx, kill, self._publish)

    # --- preflight and teardown ----------------------------------------------------------

    async def check(self) -> None:
        """Ask every cloud, at once and read-only, whether it is ready for the show."""
        self._tg.start_soon(check_all, self.demo, self._publish)

    async def teardown(self, clouds: Sequence[str] | None = None) -> None:
        names = [n for n in (clouds or [c.name for c in self.demo.clouds]) if self._known(n)]
        for name in names:
            await self._workers.stop(name)
        async with self._teardown_lock, anyio.create_task_group() as tg:
            for name in names:
                tg.start_soon(self._teardown_cloud, name)

    async def _teardown_cloud(self, cloud: str) -> None:
        await teardown_cloud(self._contexts[cloud], self.backend.clouds[cloud], self._publish)

    # --- running -----------------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        if self._recorder is None:
            return
        while True:
            await anyio.sleep(FLUSH_EVERY_S)
            self._recorder.flush()

    async def _watch_cluster(self) -> None:
        await self.backend.cluster.run(self._publish, self.clock)

    async def _watch_clouds(self) -> None:
        """Clouds that see things of their own (Kubernetes pods) watch until the room closes."""
        async with anyio.create_task_group() as tg:
            for name, cloud in self.backend.clouds.items():
                if getattr(cloud, "watch", None) is not None:
                    tg.start_soon(self._watch_one, name, cloud)

    async def _watch_one(self, name: str, cloud: object) -> None:
        try:
            await cloud.watch(self._contexts[name])  # type: ignore[attr-defined]
        except Exception as exc:  # a watcher must never take the room down
            self.notice(f"watching stopped: {one_line(str(exc))}", level="warning", cloud=name)

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
    speed = options.speed if all(c.provider == "sim" for c in demo.clouds) else 1.0
    clock = ScaledClock(speed)
    base = state_dir(options.state_dir)
    if options.run_id:
        run_dir = RunDir.existing(base, options.run_id)
    else:
        run_dir = RunDir.create(base, new_run_id(demo.run_prefix))
    lock = RunLock(run_dir, options.purpose)  # raises RunBusy: one show or teardown a run
    try:
        async with _room(demo, options, backend, run_dir, clock, speed) as room:
            yield room
    finally:
        lock.release()


@asynccontextmanager
async def _room(
    demo: DemoConfig,
    options: RoomOptions,
    backend: Backend | None,
    run_dir: RunDir,
    clock: ScaledClock,
    speed: float,
) -> AsyncIterator[Room]:
    if demo.source is not None and not run_dir.config_copy.exists():
        shutil.copyfile(demo.source, run_dir.config_copy)
    backend = backend or build_backend(demo, options.seed, certs_dir=run_dir.cockroach_certs)
    recorder = Recorder(run_dir.events) if options.record else None
    room: Room | None = None
    try:
        async with anyio.create_task_group() as tg:
            room = Room(demo, backend, run_dir, clock, options.seed, tg, recorder)
            room._publish(run_started(demo, backend, run_dir, speed, options.seed))
            tg.start_soon(room._watch_cluster)
            tg.start_soon(room._watch_clouds)
            tg.start_soon(room._flush_forever)
            try:
                yield room
            finally:
                tg.cancel_scope.cancel()
    finally:
        # Only now have the workers finished publishing their cancellations.
        if room is not None:
            await room.aclose()
        elif recorder is not None:
            recorder.close()
