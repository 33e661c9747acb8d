"""The engine of one show as a process of its own, so the show outlives the terminal.

``spawn_show`` starts ``python -m engine.engine_process`` detached from the caller's
terminal (a session of its own, stdin from /dev/null, output to the run's ``engine.log``,
hang-ups ignored) and returns once its socket answers. The process opens the room, holds
the run's lock, serves screens on ``<run dir>/engine.sock`` (``engine.room_server``) and
stops on ``stop``, on SIGTERM/SIGINT, or when a rehearsal's last presenter has left:
the recording is flushed, the lock released and the socket removed on the way out.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from engine.config.model import DemoConfig
from engine.errors import ConfigError
from engine.library_logs import RedactingFormatter, route_library_logs
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.room_client import AttachRefused
from engine.room_server import ORPHAN_GRACE_S, RoomServer, ShowFacts
from engine.rundir import RunBusy, RunDir, new_run_id, state_dir
from engine.shows import query_info
from engine.sim.fleet import rehearsal_demo
from engine.wire import WireError

log = logging.getLogger("crossroom.engine")

READY_TIMEOUT_S = 30.0
"""How long ``spawn_show`` waits for the engine's socket (a demo file with many clouds
takes a moment to build its backends)."""
SOCKET_PATH_MAX = 107
"""Bytes of a Unix socket's path at most (``sun_path`` holds 108 with its NUL)."""
LOG_TAIL_LINES = 5
EXIT_BAD_INPUT = 2
EXIT_BUSY = 3


class ShowFailed(Exception):
    """The engine process did not come up; ``str()`` says why, with its log's last lines."""


@dataclass(frozen=True)
class ShowAddress:
    run_id: str
    socket_path: Path
    pid: int = 0


def _demo(config: str | os.PathLike[str] | None) -> DemoConfig:
    if not config:
        return rehearsal_demo()
    from engine.config.loader import load_demo

    return load_demo(Path(config))


def spawn_show(
    config_path: str | os.PathLike[str] | None,
    options: RoomOptions,
    *,
    orphan_grace_s: float | None = None,
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> ShowAddress:
    """Start a show's engine detached from this terminal; return once its socket answers.

    The demo file is read here first, so a bad one fails with the loader's ``ConfigError``
    before any process starts. Raises ``ShowFailed`` (one line with the tail of the
    engine's log) when the engine exits or does not answer in time.
    """
    demo = _demo(config_path)
    base = state_dir(options.state_dir)
    sample = base.absolute() / "runs" / new_run_id(demo.run_prefix) / "engine.sock"
    if len(os.fsencode(sample)) > SOCKET_PATH_MAX:
        raise ShowFailed(
            f"state dir {base}: too deep for the engine's socket ({len(os.fsencode(sample))} "
            f"bytes, at most {SOCKET_PATH_MAX}); use a shorter --state-dir"
        )
    run_dir = (
        RunDir.existing(base, options.run_id)
        if options.run_id
        else RunDir.create(base, new_run_id(demo.run_prefix))
    )
    command = [
        sys.executable,
        "-m",
        "engine.engine_process",
        "--state-dir",
        str(base.absolute()),
        "--run-id",
        run_dir.run_id,
        "--seed",
        str(options.seed),
        "--speed",
        repr(options.speed),
    ]
    if config_path:
        command += ["--config", str(Path(config_path).absolute())]
    if not options.record:
        command.append("--no-record")
    if orphan_grace_s is not None:
        command += ["--orphan-grace", repr(orphan_grace_s)]
    log_fd = os.open(run_dir.engine_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(log_fd)
    deadline = time.monotonic() + ready_timeout_s
    while True:
        code = process.poll()
        if code is not None:
            raise ShowFailed(
                f"the engine of run {run_dir.run_id} exited ({code}): {_tail(run_dir.engine_log)}"
            )
        try:
            query_info(run_dir.socket, timeout=1.0)
            return ShowAddress(run_dir.run_id, run_dir.socket, process.pid)
        except (OSError, AttachRefused, WireError):
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise ShowFailed(
                f"the engine of run {run_dir.run_id} did not answer in {ready_timeout_s:g} s: "
                f"{_tail(run_dir.engine_log)}"
            )
        time.sleep(0.05)


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no engine.log)"
    return " | ".join(line.strip() for line in lines[-LOG_TAIL_LINES:] if line.strip()) or "(empty)"


async def serve_show(demo: DemoConfig, options: RoomOptions, orphan_grace_s: float) -> str:
    """Run the show and serve it until it is stopped; returns why it stopped."""
    async with open_room(demo, options) as room:
        rehearsal = all(c.provider == "sim" for c in demo.clouds)
        facts = ShowFacts(room.run_dir.run_id, demo.name, rehearsal)
        server = RoomServer(room, facts, orphan_grace_s=orphan_grace_s)
        with contextlib.suppress(FileNotFoundError):  # we hold the run's lock: it is stale
            os.unlink(room.run_dir.socket)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_stop_on_signals, server)
            log.info("serving run %s (%s) on %s", facts.run_id, facts.demo, room.run_dir.socket)
            await server.serve(room.run_dir.socket)
            tg.cancel_scope.cancel()
    return server.stop_reason


async def _stop_on_signals(server: RoomServer) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            server.stop(f"{signal.Signals(signum).name} received")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.engine_process")
    parser.add_argument("--state-dir", required=True, metavar="DIR")
    parser.add_argument("--run-id", required=True, metavar="RUN_ID")
    parser.add_argument("--config", metavar="FILE", help="demo file (default: the rehearsal)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--orphan-grace", type=float, default=ORPHAN_GRACE_S, metavar="SECONDS")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the terminal that started us may close
    handler = route_library_logs(logging.INFO)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s: %(levelname)s: %(message)s"))
    try:
        demo = _demo(args.config)
    except ConfigError as exc:
        for line in exc.lines:
            log.error("%s", line)
        return EXIT_BAD_INPUT
    options = RoomOptions(
        seed=args.seed,
        speed=args.speed,
        state_dir=Path(args.state_dir),
        run_id=args.run_id,
        record=not args.no_record,
        purpose="crossroom engine",
    )
    try:
        reason = anyio.run(serve_show, demo, options, args.orphan_grace)
    except RunBusy as exc:
        log.error("%s", exc)
        return EXIT_BUSY
    log.info("stopped: %s", reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
