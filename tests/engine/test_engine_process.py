"""The engine as a real detached process: it outlives the process that started it, keeps its
socket and run dir private, stops cleanly, and leaves nothing stale behind."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from engine.engine_process import ShowAddress, ShowFailed, spawn_show
from engine.errors import ConfigError
from engine.events import EngineGone, Event
from engine.room_api import RoomOptions
from engine.room_client import attach_room
from engine.rundir import RunBusy, RunDir, RunLock
from engine.shows import query_info, running_shows

SPEED = 100.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _alive(pid: int) -> bool:
    """``pid`` runs (reaping it if it is our exited child, so a zombie does not count)."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        assert time.monotonic() < deadline, f"engine {pid} still running"
        time.sleep(0.05)


@pytest.fixture
def shows(tmp_path: Path) -> Iterator[list[ShowAddress]]:
    """Engines a test started; any still running at the end are stopped (by their pid)."""
    started: list[ShowAddress] = []
    yield started
    for show in started:
        if _alive(show.pid):
            os.kill(show.pid, signal.SIGTERM)
            _wait_gone(show.pid)


def spawn(tmp_path: Path, shows: list[ShowAddress], **kwargs: object) -> ShowAddress:
    options = RoomOptions(speed=SPEED, state_dir=tmp_path)
    address = spawn_show(None, options, **kwargs)  # type: ignore[arg-type]
    shows.append(address)
    return address


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.anyio
async def test_the_engine_is_private_and_stops_cleanly_on_sigterm(
    tmp_path: Path, shows: list[ShowAddress]
) -> None:
    show = spawn(tmp_path, shows)
    run_dir = show.socket_path.parent
    assert _mode(show.socket_path) == 0o600
    assert _mode(run_dir) == 0o700
    assert _mode(run_dir / "engine.log") == 0o600
    assert stat.S_ISSOCK(os.lstat(show.socket_path).st_mode)
    gone: list[Event] = []
    async with attach_room(show.socket_path) as room:
        room.subscribe(lambda e: gone.append(e) if isinstance(e, EngineGone) else None)
        assert (await room.start(["canonical", "vexxhost"])).accepted
        with anyio.fail_after(30):
            await room.wait_idle()
        assert room.state.clouds["canonical"].status == "joined"
        os.kill(show.pid, signal.SIGTERM)
        with anyio.fail_after(20):
            while not room.gone:  # noqa: ASYNC110 - the engine's socket closing ends it
                await anyio.sleep(0.05)
        assert [type(e) for e in gone] == [EngineGone]
        assert room.state.clouds["canonical"].status == "joined"
    _wait_gone(show.pid)
    assert not show.socket_path.exists()
    RunLock(RunDir(run_dir), "test").release()  # the lock was released (else RunBusy)
    log = (run_dir / "engine.log").read_text()
    assert "stopped: SIGTERM received" in log
    assert "Traceback" not in log
    recording = (run_dir / "events.jsonl").read_text().splitlines()
    assert any('"kind":"cloud_joined"' in line for line in recording)


PARENT = textwrap.dedent(
    """
    import socket, sys, time
    from pathlib import Path
    from engine import wire
    from engine.engine_process import spawn_show
    from engine.room_api import RoomOptions
    show = spawn_show(None, RoomOptions(speed={speed}, state_dir=Path(sys.argv[1])))
    screen = socket.socket(socket.AF_UNIX)
    screen.connect(str(show.socket_path))
    screen.sendall(wire.hello("presenter") + wire.request(1, "start"))
    print(show.socket_path, show.pid, flush=True)
    time.sleep(600)
    """
)
"""A screen's process: starts the engine, attaches as the presenter and starts the show."""


def _started_by_a_screen_that_dies(tmp_path: Path, shows: list[ShowAddress]) -> ShowAddress:
    """Run ``PARENT`` in a session of its own, then hang up and kill its process group."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(speed=SPEED), str(tmp_path)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    try:
        assert parent.stdout is not None
        path, pid = parent.stdout.readline().split()
        show = ShowAddress(Path(path).parent.name, Path(path), int(pid))
        shows.append(show)
        os.killpg(parent.pid, signal.SIGHUP)
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    time.sleep(0.5)
    return show


@pytest.mark.anyio
async def test_the_engine_outlives_the_process_and_terminal_that_started_it(
    tmp_path: Path, shows: list[ShowAddress]
) -> None:
    show = _started_by_a_screen_that_dies(tmp_path, shows)
    assert _alive(show.pid)
    info = query_info(show.socket_path)
    assert info.run_id == show.run_id and info.clouds == 15
    async with attach_room(show.socket_path) as again:
        with anyio.fail_after(60):
            await again.wait_idle()
        assert sum(c.status == "joined" for c in again.state.cloud_list()) == 15
        assert (await again.stop()).accepted
    _wait_gone(show.pid)


@pytest.mark.anyio
async def test_a_rehearsal_engine_ends_with_its_last_presenter(
    tmp_path: Path, shows: list[ShowAddress]
) -> None:
    show = spawn(tmp_path, shows)
    async with attach_room(show.socket_path, "audience") as audience:
        async with attach_room(show.socket_path) as presenter:
            await presenter.start(["canonical"])
        with anyio.fail_after(20):
            while not audience.gone:  # noqa: ASYNC110 - the engine's socket closing ends it
                await anyio.sleep(0.05)
    _wait_gone(show.pid)
    assert running_shows(tmp_path) == []


def test_ls_lists_live_shows_and_removes_stale_sockets(
    tmp_path: Path, shows: list[ShowAddress]
) -> None:
    live = spawn(tmp_path, shows)
    dead = RunDir.create(tmp_path, "xr-dead-engine")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead.socket))  # an engine killed with -9 leaves its socket file
    listener.close()
    assert dead.socket.exists()
    listed = running_shows(tmp_path)
    assert [s.run_id for s in listed] == [live.run_id]
    assert listed[0].rehearsal and listed[0].clouds == 15 and listed[0].pid == live.pid
    assert listed[0].started_at is not None and abs(listed[0].started_at - time.time()) < 600
    assert not dead.socket.exists()
    # Something else under that name is not ours to remove.
    other = RunDir.create(tmp_path, "xr-not-a-socket")
    other.socket.write_text("notes")
    assert [s.run_id for s in running_shows(tmp_path)] == [live.run_id]
    assert other.socket.read_text() == "notes"
    with pytest.raises(ConnectionRefusedError):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(dead.socket))
        listener.close()
        query_info(dead.socket)


def test_an_engine_that_cannot_start_says_why_in_one_line(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, "xr-held-run")
    lock = RunLock(run, "crossroom teardown")
    try:
        with pytest.raises(ShowFailed) as failed:
            spawn_show(None, RoomOptions(state_dir=tmp_path, run_id=run.run_id))
    finally:
        lock.release()
    message = str(failed.value)
    assert "\n" not in message
    assert f"run {run.run_id} is in use by pid {os.getpid()} (crossroom teardown)" in message
    with pytest.raises(RunBusy):
        RunLock(run, "check").release()
        raise RunBusy(run.run_id, "released")  # the failed engine left the lock free


def test_a_bad_demo_file_fails_before_any_process_starts(tmp_path: Path) -> None:
    demo = tmp_path / "demo.yaml"
    demo.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError):
        spawn_show(demo, RoomOptions(state_dir=tmp_path))
    assert not (tmp_path / "runs").exists()


def test_a_state_dir_too_deep_for_a_socket_is_one_line_before_any_process(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    with pytest.raises(ShowFailed, match="too deep for the engine's socket"):
        spawn_show(None, RoomOptions(state_dir=deep))
    assert not deep.exists()
