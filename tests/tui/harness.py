"""Helpers for the screen's tests: a frozen clock, a scripted room, the rehearsal fleet.

Snapshots must not move between runs, so the header clock (``wall``) and the timer
extrapolation (``monotonic``) are frozen: every timer then reads the state's own demo
time, which comes from the scripted events. Pilot flows run on asyncio (Textual's loop),
not on the engine suite's trio clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from scenes import WALL0

from engine import events as ev
from engine.room import open_room
from engine.room_api import ACCEPTED, Playback, Reply, RoomCommands, RoomOptions, refused
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState, fold
from tui.app import RoomApp

FLOW_SPEED = 100.0
"""Demo seconds per real second for Pilot flows on the rehearsal fleet."""


class ScriptedRoom:
    """A ``RoomCommands`` that plays a fixed event list and notes the commands it gets.

    Kill and revive publish ``KillIssued``/``ReviveIssued`` at once, as the real room
    does, so the screen's part of a kill can be checked without an engine.
    """

    def __init__(self, events: Sequence[ev.Event]) -> None:
        self.events = list(events)
        self.calls: list[tuple[str, str]] = []
        self._sinks: list[ev.EventSink] = []

    @property
    def state(self) -> RoomState:
        return fold(self.events)

    def subscribe(self, sink: ev.EventSink, *, replay: bool = True) -> Callable[[], None]:
        if replay:
            for event in self.events:
                sink(event)
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def publish(self, event: ev.Event) -> None:
        self.events.append(event)
        for sink in self._sinks:
            sink(event)

    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        self.calls.append(("start", ",".join(clouds or [])))
        return ACCEPTED

    async def retry(self, cloud: str) -> Reply:
        self.calls.append(("retry", cloud))
        return ACCEPTED

    async def cancel(self, cloud: str) -> Reply:
        self.calls.append(("cancel", cloud))
        return ACCEPTED

    async def kill(self, target: str) -> Reply:
        self.calls.append(("kill", target))
        nodes = tuple(n for n in self.state.nodes if n == target or n.startswith(f"{target}/"))
        kind = "node" if "/node-" in target else "server" if "/server-" in target else "cloud"
        t = self.state.t
        self.publish(ev.KillIssued(target=target, target_kind=kind, nodes=nodes, t=t))
        return ACCEPTED

    async def revive(self, target: str) -> Reply:
        self.calls.append(("revive", target))
        return ACCEPTED

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        self.calls.append(("teardown", ",".join(clouds or [])))
        return ACCEPTED

    async def check(self) -> Reply:
        self.calls.append(("check", ""))
        return ACCEPTED

    # A live room: no playback, replay controls refused, as ``engine.room.Room`` answers.
    playback: Playback | None = None

    def notice(
        self, message: str, level: ev.NoticeLevel = "info", cloud: str | None = None
    ) -> None:
        self.publish(ev.Notice(level=level, message=message, cloud=cloud, t=self.state.t))

    async def wait_idle(self) -> None:
        return None

    async def toggle_pause(self) -> Reply:
        return refused("not a replay")

    async def faster(self) -> Reply:
        return refused("not a replay")

    async def slower(self) -> Reply:
        return refused("not a replay")

    async def fire_next_cue(self) -> Reply:
        self.calls.append(("fire_next_cue", ""))
        return ACCEPTED

    async def release_gate(self) -> Reply:
        self.calls.append(("release_gate", ""))
        return ACCEPTED

    async def next_marker(self) -> Reply:
        return refused("not a replay")

    async def previous_marker(self) -> Reply:
        return refused("not a replay")


class ScriptedShow(ScriptedRoom):
    """A ``ScriptedRoom`` that is a show in an engine process of its own, as
    ``engine.room_client.RemoteRoom`` is: it can be left running (``detach``) or stopped
    (``stop``, with ``teardown`` deleting every held resource first), and it says when its
    engine has gone (``EngineGone``, which only the client side makes)."""

    def __init__(self, events: Sequence[ev.Event]) -> None:
        super().__init__(events)
        self.gone = False

    @property
    def run_id(self) -> str:
        return self.state.run_id

    async def detach(self) -> None:
        self.calls.append(("detach", ""))

    async def stop(self, teardown: bool = False) -> Reply:
        self.calls.append(("stop", "teardown" if teardown else ""))
        if teardown:
            t = self.state.t
            for c in self.state.cloud_list():
                self.publish(ev.TeardownStarted(cloud=c.name, t=t))
                for r in c.resource_list:
                    self.publish(
                        ev.ResourceDeleted(
                            cloud=c.name, resource_type=r.resource_type, resource_id=r.resource_id
                        )
                    )
                self.publish(ev.TeardownFinished(cloud=c.name, t=t))
            self.engine_went("stopped after teardown")
        return ACCEPTED

    def engine_went(self, reason: str = "") -> None:
        """The engine process has gone: commands are refused from now on."""
        self.gone = True
        run_id = self.state.run_id
        self.publish(
            ev.EngineGone(
                run_id=run_id,
                teardown_command=f"crossroom teardown --run {run_id}",
                reason=reason,
                t=self.state.t,
            )
        )

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        if self.gone:
            return refused(f"engine for run {self.run_id} has gone")
        return await super().teardown(clouds)


def scripted_opener(room: ScriptedRoom) -> Callable[[], AbstractAsyncContextManager[RoomCommands]]:
    @asynccontextmanager
    async def opener() -> AsyncIterator[RoomCommands]:
        yield room

    return opener


def frozen_app(room: ScriptedRoom, theme: str = "stage") -> RoomApp:
    """The App with its header clock and timer extrapolation frozen (stable snapshots)."""
    return RoomApp(scripted_opener(room), theme=theme, wall=lambda: WALL0, monotonic=lambda: 0.0)


def rehearsal_app(state_dir: Path, speed: float = FLOW_SPEED, seed: int = 3) -> RoomApp:
    demo = rehearsal_demo()
    options = RoomOptions(seed=seed, speed=speed, state_dir=state_dir)
    return RoomApp(lambda: open_room(demo, options))
