"""The shows running on this machine: every run directory whose engine answers on its socket.

Plain blocking sockets with a short timeout: ``crossroom ls`` and ``spawn_show`` ask from
ordinary synchronous code, and an engine answers ``info`` at once or is not healthy.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from dataclasses import dataclass, replace
from pathlib import Path

import msgspec

from engine import wire
from engine.room_client import AttachRefused, check_owner

INFO_TIMEOUT_S = 2.0
SOCKET_NAME = "engine.sock"


@dataclass(frozen=True)
class ShowInfo:
    """One running show as its engine describes it (``engine.room_server.RoomServer.info``)."""

    run_id: str
    demo: str
    rehearsal: bool = False
    clouds: int = 0
    joined: int = 0
    running: int = 0
    failed: int = 0
    presenters: int = 0
    audience: int = 0
    started_at: float | None = None
    """Unix time the show started (``None`` before its first event)."""
    pid: int | None = None
    socket_path: str = ""

    @property
    def screens(self) -> int:
        return self.presenters + self.audience


def query_info(socket_path: str | os.PathLike[str], timeout: float = INFO_TIMEOUT_S) -> ShowInfo:
    """Ask one engine what it is running. Raises ``AttachRefused`` for another user's socket,
    ``ConnectionRefusedError``/``FileNotFoundError`` when nothing listens (a stale socket),
    ``TimeoutError`` or ``wire.WireError`` when something answers badly."""
    path = Path(socket_path)
    check_owner(path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(wire.dumps({"command": "info"}))
        with sock.makefile("rb") as answer:
            line = answer.readline(wire.MAX_LINE_BYTES)
    if not line.endswith(b"\n"):
        raise wire.WireError("the engine closed without answering")
    message = wire.loads(line)
    if "error" in message:
        raise wire.WireError(str(message["error"]))
    try:
        info = msgspec.convert(message.get("info"), ShowInfo)
    except msgspec.ValidationError as exc:
        raise wire.WireError(f"an unreadable answer: {exc}") from None
    return replace(info, socket_path=str(path))


def running_shows(state_dir: str | os.PathLike[str]) -> list[ShowInfo]:
    """Every show whose engine answers, oldest run first. A socket nobody listens on (its
    engine was killed) is removed; one that answers badly or slowly is left and skipped."""
    shows = []
    for sock in sorted((Path(state_dir) / "runs").glob(f"*/{SOCKET_NAME}")):
        try:
            shows.append(query_info(sock))
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(sock.lstat().st_mode):  # only ever remove a dead socket
                    sock.unlink()
        except (AttachRefused, OSError, wire.WireError):
            continue
    return shows
