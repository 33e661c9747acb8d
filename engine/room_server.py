"""Serves one show's ``Room`` to screens in other processes, over a Unix socket.

Every screen is a client with a bounded queue: the hub hands each event to the server once,
it is encoded once and appended to every client's queue, and each client's own task writes
its queue out. Nothing the engine does ever waits for a screen: a client whose queue
outgrows its bound is dropped to a ``resync`` and sent the hub's catch-up again once it
reads, while the show and the other screens go on. Commands from a presenter run as the
room's own calls would; an audience screen's commands are refused here, by the engine.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.abc import SocketStream, TaskGroup, TaskStatus

from engine import wire
from engine.events import Event, NoticeLevel
from engine.hub import EventHub
from engine.room_api import ACCEPTED, COMMAND_NAMES, Reply, RoomCommands, refused
from engine.state import RoomState

log = logging.getLogger("crossroom.engine")

QUEUE_BYTES = 8 << 20
"""How far a screen may fall behind the live stream (beyond its catch-up) before it is
resynced: a few seconds of the worst log flood, so only a stuck screen ever hits it."""
HANDSHAKE_TIMEOUT_S = 5.0
"""A connection that says nothing this long is not a screen."""
WRITE_CHUNK_BYTES = 256 << 10
"""Lines joined into one write, so a flood costs a syscall per chunk, not per event."""
CLOSE_FLUSH_S = 2.0
"""How long a leaving screen's last answers (``detach``, ``stop``) may take to go out."""
ORPHAN_GRACE_S = 300.0
"""A rehearsal whose presenter vanished without detaching (a hang-up) waits this long for
one to come back before stopping, so trying the demo never leaves a process behind."""
READ_ONLY = "read-only screen"

NOTICE_LEVELS: tuple[NoticeLevel, ...] = ("info", "warning", "error")


class ServedRoom(RoomCommands, Protocol):
    """What the server needs of a room beyond the commands: its hub and its demo's name."""

    @property
    def hub(self) -> EventHub: ...


@dataclass(frozen=True)
class ShowFacts:
    """What the handshake and ``info`` tell about the show besides its live state."""

    run_id: str
    demo: str
    rehearsal: bool
    """Every cloud is simulated: nothing to clean up, so the engine ends with its screens."""


class _Client:
    """One attached screen: its queue of lines and the task that writes them out."""

    def __init__(self, number: int, role: wire.Role, stream: wire.Connection, limit: int) -> None:
        self.name = f"screen {number} ({role})"
        self.role = role
        self.stream = stream
        self.limit = limit
        self._base_limit = limit
        self.lines: deque[bytes] = deque()
        self.queued = 0
        self.replies: deque[bytes] = deque()
        self.resync_due = False
        self.resyncs = 0
        self.sent = 0
        self.closing = False
        self.detached = False
        self.done = anyio.Event()
        self._wake = anyio.Event()

    def wake(self) -> None:
        self._wake.set()

    def push(self, line: bytes) -> None:
        """Queue one live event; past the bound, drop the queue and owe a resync."""
        if self.resync_due or self.closing:
            return
        self.lines.append(line)
        self.queued += len(line)
        if self.queued > self.limit:
            self.lines.clear()
            self.queued = 0
            self.resync_due = True
            self.resyncs += 1
        self._wake.set()

    def catch_up(self, hub: EventHub, resync: bool) -> None:
        """Queue the hub's catch-up (after a ``resync`` marker when replacing a dropped queue)."""
        lines = [wire.event_line(seq, event) for seq, event in hub.catch_up()]
        if resync:
            lines.insert(0, wire.RESYNC)
        lines.append(wire.CAUGHT_UP)
        size = sum(map(len, lines))
        self.lines.extend(lines)
        self.queued += size
        self.limit = self._base_limit + size
        self._wake.set()

    def answer(self, request_id: int, reply: Reply, **extra: Any) -> None:
        """Answers are never dropped with the event queue: a request always gets its reply."""
        self.replies.append(wire.answer(request_id, reply, **extra))
        self._wake.set()

    def _chunk(self) -> bytes:
        parts = list(self.replies)
        self.replies.clear()
        size = sum(map(len, parts))
        while self.lines and size < WRITE_CHUNK_BYTES and not self.closing:
            line = self.lines.popleft()
            self.queued -= len(line)
            parts.append(line)
            size += len(line)
        return b"".join(parts)

    async def write(self, hub: EventHub) -> None:
        """Write the queue out until closing (then only the last answers) or the peer is gone."""
        try:
            while True:
                if self.resync_due and not self.closing:
                    self.resync_due = False
                    self.catch_up(hub, resync=True)
                if self.closing and not self.replies:
                    return
                if not self.replies and not self.lines:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                    continue
                chunk = self._chunk()
                await self.stream.send(chunk)
                self.sent += len(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            await self.stream.aclose()  # the reader then ends too
        finally:
            self.done.set()


class RoomServer:
    """Serves ``room`` on a Unix socket until ``stopping`` is set (by ``stop``, or a rehearsal
    whose last presenter left)."""

    def __init__(
        self,
        room: ServedRoom,
        facts: ShowFacts,
        *,
        queue_bytes: int = QUEUE_BYTES,
        orphan_grace_s: float = ORPHAN_GRACE_S,
    ) -> None:
        self.room = room
        self.hub = room.hub
        self.facts = facts
        self.queue_bytes = queue_bytes
        self.orphan_grace_s = orphan_grace_s
        self.stopping = anyio.Event()
        self.stop_reason = ""
        self.clients: set[_Client] = set()
        self._streams: set[wire.Connection] = set()
        self._quiet = anyio.Event()
        self._numbers = 0
        self._orphaned_at = 0
        self._tg: TaskGroup | None = None

    # --- lifetime ------------------------------------------------------------------------

    async def serve(
        self, socket_path: Path, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen until ``stopping``; the socket file is the owner's alone (0600)."""
        listener = await anyio.create_unix_listener(socket_path, mode=0o600)
        off = self.hub.subscribe(self._fan_out, replay=False)
        task_status.started()
        try:
            async with listener, anyio.create_task_group() as tg:
                self._tg = tg
                tg.start_soon(listener.serve, self._handle, tg)
                if self.facts.rehearsal:
                    self._orphaned()
                await self.stopping.wait()
                await self._close_connections()
                tg.cancel_scope.cancel()
        finally:
            off()
            self._tg = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(socket_path)

    async def _close_connections(self) -> None:
        """Close every screen's connection and let its tasks end (see ``wire.CloseAfter``)."""
        if not self._streams:
            return
        self._quiet = anyio.Event()
        for stream in list(self._streams):
            await stream.aclose()
        with anyio.move_on_after(CLOSE_FLUSH_S):
            await self._quiet.wait()

    def stop(self, reason: str) -> None:
        if not self.stopping.is_set():
            self.stop_reason = reason
            log.info("stopping: %s", reason)
            self.stopping.set()

    def _presenters(self) -> int:
        return sum(1 for c in self.clients if c.role == "presenter")

    def _orphaned(self) -> None:
        """No presenter is attached to a rehearsal: stop unless one comes back in time."""
        self._orphaned_at += 1
        if self._tg is not None:
            self._tg.start_soon(self._stop_if_still_orphaned, self._orphaned_at)

    async def _stop_if_still_orphaned(self, generation: int) -> None:
        await anyio.sleep(self.orphan_grace_s)
        if generation == self._orphaned_at and not self._presenters():
            self.stop(f"no presenter came back to the rehearsal in {self.orphan_grace_s:g} s")

    def info(self) -> dict[str, Any]:
        """What ``crossroom ls`` shows of this show."""
        state: RoomState = self.room.state
        statuses = [c.status for c in state.cloud_list()]
        return {
            "run_id": self.facts.run_id,
            "demo": self.facts.demo,
            "rehearsal": self.facts.rehearsal,
            "clouds": len(statuses),
            "joined": statuses.count("joined"),
            "running": statuses.count("running"),
            "failed": statuses.count("failed"),
            "presenters": self._presenters(),
            "audience": sum(1 for c in self.clients if c.role == "audience"),
            "started_at": state.started_wall,
            "pid": os.getpid(),
        }

    # --- fan-out -------------------------------------------------------------------------

    def _fan_out(self, event: Event) -> None:
        """The hub's sink: encode once, queue for every screen, never wait."""
        if not self.clients:
            return
        line = wire.event_line(self.hub.seq, event)
        for client in self.clients:
            client.push(line)

    # --- one connection ------------------------------------------------------------------

    async def _handle(self, accepted: SocketStream) -> None:
        """Never raises: a bad or vanished screen ends its own connection, not the engine."""
        stream = wire.Connection.of(accepted)
        self._streams.add(stream)
        try:
            async with stream:
                await self._session(stream)
        except Exception as exc:
            log.warning("a screen's connection failed: %s", _one_line(exc))
        finally:
            self._streams.discard(stream)
            if not self._streams:
                self._quiet.set()

    async def _session(self, stream: wire.Connection) -> None:
        reader = wire.LineReader(stream)
        deadline = wire.CloseAfter(stream, HANDSHAKE_TIMEOUT_S)
        self._start(deadline.watch)
        try:
            first = await reader.message()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        except wire.WireError as exc:
            log.warning("refused a connection: %s", exc)
            await stream.send(wire.error(str(exc)))
            return
        finally:
            deadline.done()
        if first.get("command") == "info" and "hello" not in first:
            await stream.send(wire.dumps({"info": self.info()}))
            return
        try:
            role = wire.check_hello(first)
        except wire.WireError as exc:
            log.warning("refused a connection: %s", exc)
            await stream.send(wire.error(str(exc)))
            return
        if self.stopping.is_set():
            await stream.send(wire.error(f"the engine of run {self.facts.run_id} is stopping"))
            return
        self._numbers += 1
        client = _Client(self._numbers, role, stream, self.queue_bytes)
        client.replies.append(wire.welcome(self.facts.run_id, self.facts.demo, role))
        client.catch_up(self.hub, resync=False)
        self.clients.add(client)
        log.info("%s attached (%d attached)", client.name, len(self.clients))
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.write, self.hub)
                await self._read_requests(client, reader)
                client.closing = True
                client.wake()
                with anyio.move_on_after(CLOSE_FLUSH_S):
                    await client.done.wait()
                await stream.aclose()  # ends a writer stuck on a screen that does not read
        finally:
            self.clients.discard(client)
            how = "detached" if client.detached else "disconnected"
            log.info(
                "%s %s after %d bytes, %d resyncs (%d attached)",
                client.name,
                how,
                client.sent,
                client.resyncs,
                len(self.clients),
            )
            if client.role == "presenter" and self.facts.rehearsal and not self._presenters():
                if client.detached:
                    self.stop("the last presenter left the rehearsal")
                else:
                    self._orphaned()

    async def _read_requests(self, client: _Client, reader: wire.LineReader) -> None:
        """Answer requests until the screen detaches, closes, or breaks the protocol."""
        while True:
            try:
                message = await reader.message()
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            except wire.WireError as exc:
                log.warning("%s: %s; closing it", client.name, exc)
                return
            request_id, command = message.get("id"), message.get("command")
            args = message.get("args") or {}
            if not isinstance(request_id, int) or not isinstance(command, str):
                log.warning("%s: a request without an id and a command; closing it", client.name)
                return
            if not isinstance(args, dict):
                client.answer(request_id, refused(f"{command}: arguments must be an object"))
                continue
            if command == "detach":
                client.detached = True
                client.answer(request_id, ACCEPTED)
                return
            if command == "info":
                client.answer(request_id, ACCEPTED, info=self.info())
            elif command == "wait_idle":
                self._start(self._wait_idle, client, request_id)
            elif client.role != "presenter":
                client.answer(request_id, refused(READ_ONLY))
            elif command == "stop":
                self._start(self._stop_request, client, request_id, args.get("teardown") is True)
            elif command == "notice":
                client.answer(request_id, self._notice(args))
            elif command in COMMAND_NAMES:
                self._start(self._command, client, request_id, command, args)
            else:
                client.answer(request_id, refused(f"no command {command!r}"))

    def _start(self, func: Callable[..., Any], *args: Any) -> None:
        """Commands run in the server's tasks: a screen that leaves does not cancel them."""
        if self._tg is not None:
            self._tg.start_soon(func, *args)

    def _notice(self, args: dict[str, Any]) -> Reply:
        message, level, cloud = args.get("message"), args.get("level", "info"), args.get("cloud")
        if not isinstance(message, str) or not isinstance(cloud, str | None):
            return refused("notice: message must be text")
        for known in NOTICE_LEVELS:
            if level == known:
                self.room.notice(message, known, cloud)
                return ACCEPTED
        return refused(f"notice: level must be one of {', '.join(NOTICE_LEVELS)}")

    async def _command(
        self, client: _Client, request_id: int, command: str, args: dict[str, Any]
    ) -> None:
        client.answer(request_id, await self._call(command, args))

    async def _call(self, command: str, args: dict[str, Any]) -> Reply:
        method = getattr(self.room, command, None)
        if method is None:
            return refused(f"{command}: this show has no such command")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
        if not all(_plain(v) for v in values.values()):
            return refused(f"{command}: arguments must be text or lists of text")
        try:
            inspect.signature(method).bind(**values)
        except TypeError as exc:
            return refused(f"{command}: {exc}")
        try:
            reply = await method(**values)
        except Exception as exc:
            log.exception("%s failed", command)
            return refused(f"{command} failed: {_one_line(exc)}")
        return reply if isinstance(reply, Reply) else ACCEPTED

    async def _wait_idle(self, client: _Client, request_id: int) -> None:
        await self.room.wait_idle()
        client.answer(request_id, ACCEPTED)

    async def _stop_request(self, client: _Client, request_id: int, teardown: bool) -> None:
        reply = await self._call("teardown", {}) if teardown else ACCEPTED
        client.answer(request_id, reply)
        client.closing = True
        client.wake()
        with anyio.move_on_after(CLOSE_FLUSH_S):
            await client.done.wait()
        self.stop(f"{client.name} asked to stop" + (" after teardown" if teardown else ""))


def _plain(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, tuple) and all(isinstance(v, str) for v in value)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
