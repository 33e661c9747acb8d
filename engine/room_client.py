"""A screen's side of the engine socket: ``attach_room`` gives a ``RemoteRoom``.

``RemoteRoom`` is a ``RoomCommands`` like the in-process room, so the screen does not know
the engine runs elsewhere. It folds what it receives into its own hub (its ``state`` and
late subscribers' catch-up come from there), sends commands as requests and waits for each
answer with a timeout. When the engine goes away it says so once, as an ``EngineGone``
event with the run's exact teardown command, keeps its last state, and refuses commands.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
from anyio.abc import TaskGroup

from engine import wire
from engine.events import EngineGone, EventSink, NoticeLevel, from_dict
from engine.hub import EventHub
from engine.room_api import Playback, Reply, RoomCommands, refused
from engine.rundir import state_dir
from engine.state import RoomState

log = logging.getLogger("crossroom.client")

CONNECT_TIMEOUT_S = 5.0
CATCH_UP_TIMEOUT_S = 30.0
"""Attaching returns once the screen holds the whole show; an hour's catch-up takes well
under a second (``bench/attach_catchup.py``), so this only ends a wedged engine."""
REQUEST_TIMEOUT_S = 10.0
"""A command is answered at once; what it sets off shows up as events."""
TEARDOWN_TIMEOUT_S = 3600.0
"""Teardown answers when every cloud is cleaned, which can take minutes per cloud."""


class AttachRefused(Exception):
    """The screen cannot attach; ``str()`` is one line to show."""


def check_owner(socket_path: Path) -> None:
    """Refuse a socket that is not the current user's: another user's engine is not ours to
    drive, and a socket planted by someone else must not receive our commands."""
    try:
        owner = os.stat(socket_path).st_uid
    except FileNotFoundError:
        raise AttachRefused(f"no engine at {socket_path}") from None
    if owner != os.getuid():
        raise AttachRefused(
            f"{socket_path} belongs to uid {owner}, not to you (uid {os.getuid()}): not attaching"
        )


def teardown_command(socket_path: Path, run_id: str) -> str:
    """The exact command that cleans up the run served at ``socket_path``."""
    base = socket_path.parent.parent.parent
    command = f"crossroom teardown --run {shlex.quote(run_id)}"
    if base.absolute() != state_dir().absolute():
        command += f" --state-dir {shlex.quote(str(base))}"
    return command


class _Pending:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.message: dict[str, Any] = {}


class RemoteRoom:
    """Implements ``engine.room_api.RoomCommands`` over the engine's socket."""

    def __init__(
        self,
        stream: wire.Connection,
        reader: wire.LineReader,
        run_id: str,
        demo: str,
        role: wire.Role,
        socket_path: Path,
        task_group: TaskGroup,
    ) -> None:
        self.run_id = run_id
        self.demo = demo
        self.role = role
        self.socket_path = socket_path
        self.resyncs = 0
        self.received = 0
        self._stream = stream
        self._reader = reader
        self._tg = task_group
        self._hub = EventHub()
        self._sinks: list[EventSink] = []
        self._last_seq = 0
        self._ids = 0
        self._pending: dict[int, _Pending] = {}
        self._send_lock = anyio.Lock()
        self._caught_up = anyio.Event()
        self._gone = anyio.Event()
        self._detached = False
        self._stopped = False

    # --- what the screen reads -------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._hub.state

    @property
    def bytes_received(self) -> int:
        return self._reader.bytes

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def subscribe(self, sink: EventSink, *, replay: bool = True) -> Callable[[], None]:
        off = self._hub.subscribe(sink, replay=replay)
        self._sinks.append(sink)

        def unsubscribe() -> None:
            off()
            if sink in self._sinks:
                self._sinks.remove(sink)

        return unsubscribe

    @property
    def playback(self) -> Playback | None:
        """A show served by an engine is live (replays play in the screen's own process)."""
        return None

    async def wait_idle(self) -> None:
        """Return once no cloud is running its plan (the engine's own answer: only it knows
        whether a cloud just started is running yet), or the engine has gone."""
        await self.request("wait_idle", wait_s=math.inf)

    # --- receiving -------------------------------------------------------------------------

    async def _receive(self) -> None:
        reason = "the engine closed the connection"
        try:
            while True:
                message = await self._reader.message()
                if "event" in message:
                    self._event(message)
                elif "id" in message:
                    pending = self._pending.pop(message["id"], None)
                    if pending is not None:
                        pending.message = message
                        pending.done.set()
                elif message.get("caught_up") is True:
                    self._caught_up.set()
                elif message.get("resync") is True:
                    self.resyncs += 1
        except anyio.EndOfStream:
            pass
        except wire.WireError as exc:
            reason = str(exc)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            reason = f"the connection broke: {exc}"
        finally:
            self._went(reason)

    def _event(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if not isinstance(seq, int) or seq <= self._last_seq:
            return  # already held (a resync's catch-up repeats what arrived before it)
        data = message.get("event")
        try:
            event = from_dict(data) if isinstance(data, dict) else None
        except msgspec.ValidationError as exc:
            log.warning("skipped an event the engine sent: %s", exc)
            return
        self._last_seq = seq
        if event is None:
            return  # a kind this version does not know
        self.received += 1
        self._hub.publish(event)

    def _went(self, reason: str) -> None:
        """Say once that the engine has gone (unless this screen detached), refuse the rest."""
        if self.gone:
            return
        self._gone.set()
        self._caught_up.set()
        for pending in self._pending.values():
            pending.done.set()
        self._pending.clear()
        if self._detached:
            return
        gone = EngineGone(
            run_id=self.run_id,
            teardown_command=teardown_command(self.socket_path, self.run_id),
            reason="stopped as this screen asked" if self._stopped else reason,
            t=self.state.t,
        )
        for sink in list(self._sinks):
            sink(gone)

    # --- requests --------------------------------------------------------------------------

    def _refusal_gone(self) -> Reply:
        return refused(f"engine for run {self.run_id} has gone")

    async def request(
        self, command: str, args: dict[str, Any] | None = None, wait_s: float | None = None
    ) -> dict[str, Any]:
        """Send one request and return the engine's answer (``accepted`` false on a timeout
        or a gone engine, with the reason in one line)."""
        if self.gone:
            return _as_message(self._refusal_gone())
        wait_s = REQUEST_TIMEOUT_S if wait_s is None else wait_s
        self._ids += 1
        request_id = self._ids
        pending = self._pending[request_id] = _Pending()
        try:
            async with self._send_lock:
                await self._stream.send(wire.request(request_id, command, args))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            self._pending.pop(request_id, None)
            self._went(f"the connection broke: {exc}")
            return _as_message(self._refusal_gone())
        with anyio.move_on_after(wait_s):
            await pending.done.wait()
        if pending.message:
            return pending.message
        self._pending.pop(request_id, None)
        if self.gone:
            return _as_message(self._refusal_gone())
        return _as_message(refused(f"{command}: no answer from the engine in {wait_s:g} s"))

    async def call(
        self, command: str, args: dict[str, Any] | None = None, wait_s: float | None = None
    ) -> Reply:
        """Any command of ``engine.room_api.COMMAND_NAMES``, by name."""
        return wire.reply_of(await self.request(command, args, wait_s))

    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        return await self.call("start", {"clouds": _names(clouds)})

    async def retry(self, cloud: str) -> Reply:
        return await self.call("retry", {"cloud": cloud})

    async def cancel(self, cloud: str) -> Reply:
        return await self.call("cancel", {"cloud": cloud})

    async def kill(self, target: str) -> Reply:
        return await self.call("kill", {"target": target})

    async def revive(self, target: str) -> Reply:
        return await self.call("revive", {"target": target})

    async def check(self) -> Reply:
        return await self.call("check")

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        return await self.call("teardown", {"clouds": _names(clouds)}, TEARDOWN_TIMEOUT_S)

    async def toggle_pause(self) -> Reply:
        return await self.call("toggle_pause")

    async def faster(self) -> Reply:
        return await self.call("faster")

    async def slower(self) -> Reply:
        return await self.call("slower")

    def notice(self, message: str, level: NoticeLevel = "info", cloud: str | None = None) -> None:
        """Sent without waiting (the protocol's ``notice`` is a plain call)."""
        args = {"message": message, "level": level, "cloud": cloud}
        self._tg.start_soon(self.request, "notice", args)

    async def info(self) -> dict[str, Any]:
        """What ``crossroom ls`` shows of this show (empty when the engine has gone)."""
        info = (await self.request("info")).get("info")
        return info if isinstance(info, dict) else {}

    async def detach(self) -> None:
        """Leave the show running (a rehearsal's engine stops when its last presenter leaves)."""
        if self.gone or self._detached:
            return
        self._detached = True
        await self.request("detach")

    async def _leave(self) -> None:
        """Detach, then close the connection and let the reader see it end. Reads on the
        socket end when it closes, rather than being cancelled (``engine.wire.CloseAfter``)."""
        with anyio.move_on_after(CONNECT_TIMEOUT_S):
            await self.detach()
        await self._stream.aclose()
        with anyio.move_on_after(CONNECT_TIMEOUT_S):
            await self._gone.wait()

    async def stop(self, teardown: bool = False) -> Reply:
        """Stop the engine (tearing the run down first when asked)."""
        self._stopped = True  # set first: the engine may close before this call resumes
        wait_s = TEARDOWN_TIMEOUT_S if teardown else None
        reply = await self.call("stop", {"teardown": teardown}, wait_s)
        self._stopped = reply.accepted or self.gone
        return reply


def _names(clouds: Sequence[str] | None) -> list[str] | None:
    return None if clouds is None else list(clouds)


def _as_message(reply: Reply) -> dict[str, Any]:
    return {"accepted": reply.accepted, "reason": reply.reason}


@asynccontextmanager
async def attach_room(
    socket_path: str | os.PathLike[str], role: wire.Role = "presenter"
) -> AsyncIterator[RemoteRoom]:
    """Attach to the engine at ``socket_path``; the room holds the whole show on entry.

    Raises ``AttachRefused`` (one line) when there is no engine, it is another user's, or it
    refuses the handshake. Leaving the block detaches (the show goes on).
    """
    path = Path(socket_path)
    check_owner(path)
    try:
        with anyio.fail_after(CONNECT_TIMEOUT_S):
            stream = wire.Connection.of(await anyio.connect_unix(path))
    except (OSError, TimeoutError) as exc:
        raise AttachRefused(f"no engine answers at {path}: {exc}") from None
    async with stream:
        reader = wire.LineReader(stream)
        answer = await _handshake(stream, reader, role)
        if isinstance(answer, str):
            raise AttachRefused(f"the engine at {path} {answer}")
        run_id, demo = answer
        failure = ""
        async with anyio.create_task_group() as tg:
            room = RemoteRoom(stream, reader, run_id, demo, role, path, tg)
            tg.start_soon(room._receive)
            with anyio.move_on_after(CATCH_UP_TIMEOUT_S) as waited:
                await room._caught_up.wait()
            if waited.cancelled_caught:
                failure = f"sent no catch-up in {CATCH_UP_TIMEOUT_S:g} s"
            elif room.gone:
                failure = "closed while catching up"
            if failure:
                await stream.aclose()
            else:
                try:
                    yield room
                finally:
                    with anyio.CancelScope(shield=True):
                        await room._leave()
        if failure:
            raise AttachRefused(f"the engine of run {run_id} {failure}")


async def _handshake(
    stream: wire.Connection, reader: wire.LineReader, role: wire.Role
) -> tuple[str, str] | str:
    """The run id and demo name the engine answers with, or why not (words after "the
    engine at PATH"). Errors are returned, not raised, from inside the deadline's tasks."""
    deadline = wire.CloseAfter(stream, CONNECT_TIMEOUT_S)
    async with anyio.create_task_group() as tg:
        tg.start_soon(deadline.watch)
        try:
            await stream.send(wire.hello(role))
            answer: tuple[str, str] | str = wire.check_welcome(await reader.message())
        except wire.WireError as exc:
            answer = f"refused: {exc}"
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            late = f"in {CONNECT_TIMEOUT_S:g} s" if deadline.expired else "(it closed)"
            answer = f"did not answer {late}"
        finally:
            deadline.done()
            tg.cancel_scope.cancel()
    return answer


if TYPE_CHECKING:
    _remote_rooms_are_rooms: type[RoomCommands] = RemoteRoom
