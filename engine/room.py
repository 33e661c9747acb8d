"""The engine's front door: one room per show, running on the caller's event loop.

``open_room`` starts the cluster watcher and returns a ``Room`` whose commands the screen
(or the headless runner) calls. Every event passes through ``Room._publish``: stamped on
the demo clock, folded into the room's own state, recorded, then handed to subscribers.
"""

from __future__ import annotations

import shutil
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup

from engine.backend import Backend
from engine.backends import build_backend, cloud_rng
from engine.clock import Clock, ScaledClock
from engine.commands import RoomOptions
from engine.config.model import CloudConfig, DemoConfig
from engine.errors import StepError
from engine.events import (
    CloudInfo,
    ClusterHealthObserved,
    Event,
    EventSink,
    KillFailed,
    KillIssued,
    LogLines,
    MonitorStatus,
    NodeObserved,
    Notice,
    PreflightChecked,
    ReviveIssued,
    RunFinished,
    RunStarted,
    WorkloadSample,
    stamped,
)
from engine.ledger import Ledger
from engine.plan import StepContext
from engine.preflight import preflight_cloud
from engine.recording import Recorder
from engine.redact import one_line
from engine.rundir import RunDir, RunLock, new_run_id, state_dir
from engine.runner import run_cloud
from engine.state import RoomState, apply
from engine.targets import Target, node_name, parse_target
from engine.teardown import teardown_cloud

LOG_HISTORY_PER_CLOUD = 64
"""Log batches a late subscriber is replayed per cloud (older ones are on disk)."""
SAMPLE_HISTORY = {WorkloadSample: 120, ClusterHealthObserved: 1, MonitorStatus: 1}
"""Periodic samples a late subscriber needs only the latest of (120 s for the sparkline),
so a long show's history grows with what happened, not with how long it ran."""
FLUSH_EVERY_S = 0.5


@dataclass
class _Worker:
    scope: anyio.CancelScope
    done: anyio.Event = field(default_factory=anyio.Event)


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
        self._state = RoomState()
        self._sinks: list[EventSink] = []
        self._seq = 0
        self._history: list[tuple[int, Event]] = []
        self._logs: dict[str, deque[tuple[int, Event]]] = {}
        self._samples: dict[type[Event], deque[tuple[int, Event]]] = {
            kind: deque(maxlen=keep) for kind, keep in SAMPLE_HISTORY.items()
        }
        self._workers: dict[str, _Worker] = {}
        self._contexts: dict[str, StepContext] = {}
        self._idle = anyio.Event()
        self._idle.set()
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
                room=lambda: self._state,
                rng=cloud_rng(seed, cloud.name),
                nodes_changed=self._wait_nodes_changed,
            )

    # --- events ----------------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._state

    def _publish(self, event: Event) -> None:
        event = stamped(event, self.clock.now(), self.clock.wall())
        self._state = apply(self._state, event)
        self._seq += 1
        if isinstance(event, LogLines):
            self._logs.setdefault(event.cloud, deque(maxlen=LOG_HISTORY_PER_CLOUD)).append(
                (self._seq, event)
            )
        elif type(event) in self._samples:
            self._samples[type(event)].append((self._seq, event))
        else:
            self._history.append((self._seq, event))
        if isinstance(event, NodeObserved):
            self._nodes_changed.set()
            self._nodes_changed = anyio.Event()
        if self._recorder is not None:
            self._recorder(event)
        for sink in list(self._sinks):
            sink(event)

    async def _wait_nodes_changed(self) -> None:
        await self._nodes_changed.wait()

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        if replay:
            past = list(self._history)
            for recent in (*self._logs.values(), *self._samples.values()):
                past.extend(recent)
            past.sort(key=lambda pair: pair[0])
            for _seq, event in past:
                sink(event)
        self._sinks.append(sink)

        def unsubscribe() -> None:
            if sink in self._sinks:
                self._sinks.remove(sink)

        return unsubscribe

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
            if not self._known(name) or name in self._workers:
                continue
            status = self._state.clouds[name].status
            if status in ("idle", "torn_down"):
                self._spawn(name, None)

    async def retry(self, cloud: str) -> None:
        if not self._known(cloud) or cloud in self._workers:
            return
        c = self._state.clouds[cloud]
        if c.status not in ("failed", "cancelled"):
            self.notice(f"{c.label} is {c.status}: nothing to retry", cloud=cloud)
            return
        stopped = c.current
        self._spawn(cloud, stopped.name if stopped is not None else None)

    async def cancel(self, cloud: str) -> None:
        if self._known(cloud) and cloud in self._workers:
            self._workers[cloud].scope.cancel()

    def _spawn(self, cloud: str, from_step: str | None) -> None:
        worker = _Worker(scope=anyio.CancelScope())
        self._workers[cloud] = worker
        self._idle = anyio.Event()
        self._tg.start_soon(self._work, cloud, from_step, worker)

    async def _work(self, cloud: str, from_step: str | None, worker: _Worker) -> None:
        ctx = self._contexts[cloud]
        try:
            with worker.scope:
                await run_cloud(ctx, self.backend.clouds[cloud].steps(), from_step)
        finally:
            del self._workers[cloud]
            worker.done.set()
            if not self._workers:
                self._finished()
                self._idle.set()

    def _finished(self) -> None:
        states = self._state.cloud_list()
        self._publish(
            RunFinished(
                joined=sum(1 for c in states if c.status == "joined"),
                failed=sum(1 for c in states if c.status == "failed"),
                cancelled=sum(1 for c in states if c.status == "cancelled"),
            )
        )

    async def wait_idle(self) -> None:
        """Return once no cloud worker is running."""
        while not self._idle.is_set():
            await self._idle.wait()

    # --- chaos -------------------------------------------------------------------------------

    def _target(self, text: str) -> Target | None:
        try:
            target = parse_target(text)
        except ValueError as exc:
            self.notice(str(exc), level="warning")
            return None
        if not self._known(target.cloud):
            return None
        limit = self.demo.cloud(target.cloud).nodes
        if target.index is not None and target.index > limit:
            self.notice(
                f"{target}: {target.cloud} has only {limit} {target.kind}s", level="warning"
            )
            return None
        return target

    def _nodes_of(self, target: Target) -> tuple[str, ...]:
        """The nodes a target names: node N for pod, node and server N (one identity,
        ``engine.targets``); every node of the cloud for the cloud."""
        if target.index is None:
            count = self.demo.cloud(target.cloud).nodes
            return tuple(node_name(target.cloud, i) for i in range(1, count + 1))
        return (node_name(target.cloud, target.index),)

    async def kill(self, target: str) -> None:
        parsed = self._target(target)
        if parsed is None:
            return
        nodes = tuple(n for n in self._nodes_of(parsed) if n in self._state.nodes)
        if not nodes and parsed.kind in ("pod", "node"):
            self.notice(f"{parsed}: no such node is running yet", level="warning")
            return
        self._publish(KillIssued(target=str(parsed), target_kind=parsed.kind, nodes=nodes))
        self._tg.start_soon(self._chaos, parsed, True)

    async def revive(self, target: str) -> None:
        parsed = self._target(target)
        if parsed is None:
            return
        nodes = tuple(n for n in self._nodes_of(parsed) if n in self._state.nodes)
        self._publish(ReviveIssued(target=str(parsed), target_kind=parsed.kind, nodes=nodes))
        self._tg.start_soon(self._chaos, parsed, False)

    async def _chaos(self, target: Target, kill: bool) -> None:
        backend = self.backend.clouds[target.cloud]
        ctx = self._contexts[target.cloud]
        try:
            if kill:
                await backend.kill(target, ctx)
            else:
                await backend.revive(target, ctx)
        except Exception as exc:  # contained: a failed kill must not stop the show
            message = exc.message if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
            self._publish(KillFailed(target=str(target), error=one_line(message)))

    # --- preflight ---------------------------------------------------------------------------

    async def check(self) -> None:
        """Ask every cloud, at once and read-only, whether it is ready for the show."""
        self._tg.start_soon(self._check_all)

    async def _check_all(self) -> None:
        async with anyio.create_task_group() as tg:
            for cloud in self.demo.clouds:
                tg.start_soon(self._check_one, cloud)

    async def _check_one(self, cloud: CloudConfig) -> None:
        try:
            ok, reason, quotas = await preflight_cloud(self.demo, cloud)
        except Exception as exc:  # a check must never take the room down
            ok, reason, quotas = False, f"{type(exc).__name__}: {one_line(str(exc))}", ()
        self._publish(PreflightChecked(cloud=cloud.name, ok=ok, reason=reason, quotas=quotas))

    # --- teardown ----------------------------------------------------------------------------

    async def teardown(self, clouds: Sequence[str] | None = None) -> None:
        names = [n for n in (clouds or [c.name for c in self.demo.clouds]) if self._known(n)]
        for name in names:
            if name in self._workers:
                worker = self._workers[name]
                worker.scope.cancel()
                await worker.done.wait()
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
        for worker in list(self._workers.values()):
            worker.scope.cancel()
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
            room._publish(_run_started(demo, backend, run_dir, speed, options.seed))
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


def _run_started(
    demo: DemoConfig, backend: Backend, run_dir: RunDir, speed: float, seed: int
) -> RunStarted:
    return RunStarted(
        run_id=run_dir.run_id,
        demo=demo.name,
        simulated=backend.simulated,
        speed=speed,
        seed=seed,
        run_dir=str(run_dir.root),
        clouds=tuple(
            CloudInfo(
                name=c.name,
                label=c.label,
                region=c.region,
                provider=c.provider,
                nodes=c.nodes,
                steps=tuple(s.name for s in backend.clouds[c.name].steps()),
            )
            for c in demo.clouds
        ),
    )
