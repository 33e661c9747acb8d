"""The engine socket's wire format: newline-delimited JSON, one message per line.

Each side's first line is the handshake: the screen says ``{"hello": "crossroom",
"protocol": 1, "role": ...}``, the engine answers with the run it serves or ``{"error":
...}`` and closes. Then the engine streams ``{"seq": N, "event": {...}}`` lines (the event's
exact JSON, ``engine.events.encode``; ``seq`` is the hub's number for it) and answers each
``{"id": N, "command": NAME, "args": {...}}`` request with ``{"id": N, "accepted": ...,
"reason": ...}``. ``{"resync": true}`` says the engine dropped what a slow screen had not
read and sends its catch-up again; ``{"caught_up": true}`` ends each catch-up.

Lines are read with a length cap (``MAX_LINE_BYTES``): a longer or malformed line ends that
connection, never the engine.
"""

from __future__ import annotations

import socket
from typing import Any, Literal

import anyio
import anyio.lowlevel
import msgspec
from anyio import DelimiterNotFound, EndOfStream, IncompleteRead
from anyio.abc import AsyncResource, ByteReceiveStream, ByteStream, SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from engine.events import Event, encode
from engine.room_api import Reply

PROTOCOL = 1
"""Bumped when a message changes meaning; both sides refuse a version they do not speak."""
HELLO = "crossroom"
MAX_LINE_BYTES = 4 << 20
"""Longest line either side reads. A log batch is a few KB and a request a few hundred bytes;
a line this long is a broken or hostile peer."""

Role = Literal["presenter", "audience"]
ROLES: tuple[Role, ...] = ("presenter", "audience")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class WireError(Exception):
    """A line that breaks the protocol; ``str()`` is one line for the log."""


def dumps(message: dict[str, Any]) -> bytes:
    """One message as a line (newline included)."""
    return _encoder.encode(message) + b"\n"


def loads(line: bytes) -> dict[str, Any]:
    """One line as a message: a JSON object, else ``WireError``."""
    try:
        data = _decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WireError(f"expected a JSON object, got {type(data).__name__}")
    return data


def hello(role: Role) -> bytes:
    return dumps({"hello": HELLO, "protocol": PROTOCOL, "role": role})


def welcome(run_id: str, demo: str, role: Role) -> bytes:
    return dumps(
        {"hello": HELLO, "protocol": PROTOCOL, "run_id": run_id, "demo": demo, "role": role}
    )


def error(reason: str) -> bytes:
    return dumps({"error": reason})


def check_hello(message: dict[str, Any]) -> Role:
    """The role a screen's handshake asks for, else ``WireError`` saying why not."""
    if message.get("hello") != HELLO:
        raise WireError("not a crossroom screen (no hello)")
    if message.get("protocol") != PROTOCOL:
        raise WireError(
            f"protocol {message.get('protocol')!r} is not spoken here (engine speaks {PROTOCOL})"
        )
    role = message.get("role")
    for known in ROLES:
        if role == known:
            return known
    raise WireError(f"unknown role {role!r} (presenter or audience)")


def check_welcome(message: dict[str, Any]) -> tuple[str, str]:
    """The run id and demo name of the engine's handshake, else ``WireError``."""
    if "error" in message:
        raise WireError(str(message["error"]))
    if message.get("hello") != HELLO or message.get("protocol") != PROTOCOL:
        raise WireError(f"the engine speaks protocol {message.get('protocol')!r}, not {PROTOCOL}")
    run_id, demo = message.get("run_id"), message.get("demo")
    if not isinstance(run_id, str) or not isinstance(demo, str):
        raise WireError("the engine's handshake has no run id")
    return run_id, demo


def event_line(seq: int, event: Event) -> bytes:
    """An event as the engine sends it: encoded once, the same bytes for every screen."""
    return b'{"seq":%d,"event":%s}\n' % (seq, encode(event))


RESYNC = dumps({"resync": True})
CAUGHT_UP = dumps({"caught_up": True})


def request(request_id: int, command: str, args: dict[str, Any] | None = None) -> bytes:
    return dumps({"id": request_id, "command": command, "args": args or {}})


def answer(request_id: int, reply: Reply, **extra: Any) -> bytes:
    return dumps({"id": request_id, "accepted": reply.accepted, "reason": reply.reason, **extra})


def reply_of(message: dict[str, Any]) -> Reply:
    return Reply(accepted=message.get("accepted") is True, reason=str(message.get("reason", "")))


class LineReader:
    """Whole lines from a byte stream, each at most ``MAX_LINE_BYTES`` (else ``WireError``)."""

    def __init__(self, stream: ByteReceiveStream, max_bytes: int | None = None) -> None:
        self._buffered = BufferedByteReceiveStream(stream)
        self._max = MAX_LINE_BYTES if max_bytes is None else max_bytes
        self.bytes = 0
        """Bytes of the whole lines read so far (for the benchmarks' bytes a second)."""

    async def message(self) -> dict[str, Any]:
        """The next message; ``anyio.EndOfStream`` when the peer closed between lines."""
        try:
            line = await self._buffered.receive_until(b"\n", self._max)
        except DelimiterNotFound:
            raise WireError(f"a line longer than {self._max} bytes") from None
        except IncompleteRead:
            if not self._buffered.buffer:
                raise EndOfStream from None
            raise WireError("the connection closed in the middle of a line") from None
        self.bytes += len(line) + 1
        return loads(line)


class CloseAfter:
    """Close ``stream`` unless ``done()`` is called within ``seconds`` (run ``watch`` in a task).

    A deadline on a handshake that closes the connection rather than cancelling the read,
    so the peer learns at once that it was too slow, and the read ends as any closed one.
    """

    def __init__(self, stream: AsyncResource, seconds: float) -> None:
        self._stream = stream
        self._seconds = seconds
        self._done = False
        self.expired = False

    def done(self) -> None:
        self._done = True

    async def watch(self) -> None:
        await anyio.sleep(self._seconds)
        if not self._done:
            self.expired = True
            await self._stream.aclose()


class Connection(ByteStream):
    """A connected Unix socket as a byte stream, waiting on it with ``anyio.wait_readable``
    and ``anyio.wait_writable`` and closing it with ``anyio.notify_closing``.

    anyio's own UNIX socket stream, on asyncio, waits on a future that a reader callback
    completes and removes that callback only later: a read that is cancelled, or a stream
    closed, just as data arrives raises ``InvalidStateError`` from the event loop
    (agronholm/anyio#1267). anyio's lower-level waits remove their callbacks at once, so
    the engine and its screens read and write through them instead. One reader and one
    writer at a time (as anyio's streams).
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._closed = False

    @classmethod
    def of(cls, stream: SocketStream) -> Connection:
        """Take over the socket of a stream anyio connected or accepted (never use both)."""
        return cls(stream.extra(SocketAttribute.raw_socket))

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                data = self._sock.recv(max_bytes)
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if not data:
                raise EndOfStream
            return data

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()
        view = memoryview(item)
        while view:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                sent = self._sock.send(view)
            except BlockingIOError:
                await anyio.wait_writable(self._sock)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            view = view[sent:]

    async def send_eof(self) -> None:
        self._sock.shutdown(socket.SHUT_WR)

    async def aclose(self) -> None:
        """Wakes a task waiting to read or write (it gets ``ClosedResourceError``)."""
        if not self._closed:
            self._closed = True
            anyio.notify_closing(self._sock)
            self._sock.close()
        await anyio.lowlevel.checkpoint()
