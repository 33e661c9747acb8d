"""The show outlives the terminal: a hang-up mid-provisioning loses nothing.

Real processes and a real pseudo-terminal throughout: ``crossroom`` runs as the session
leader of a pty (``pty.fork``, TERM=xterm-256color, 160x48), the start key is typed into
it, and once provisioning is under way (step events in the run's recording) the pty's
master is closed, so the kernel hangs up the session as when an SSH link drops. The
engine process carries on (the recording grows, the ledger keeps every line it had), a
second ``crossroom attach`` in a new pty paints every cloud, an attached client holds
the same state as the recording, and ``crossroom stop`` ends it with no process left.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.events import decode
from engine.room_client import attach_room
from engine.state import RoomState, fold

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GENEROUS_S = 90.0
COLS, ROWS = 160, 48
_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|.)")


def env_for(state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CROSSROOM_STATE_DIR": str(state),
        "TERM": "xterm-256color",
    }


class PtyScreen:
    """A ``crossroom`` command in a pseudo-terminal of its own, as a presenter's SSH
    session runs it: the child is a session leader whose controlling terminal is the pty."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the command
            # with the hang-up a presenter's session has, whatever this test runs under
            # (an ignored SIGHUP, as under nohup, would be inherited through exec)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.seen = b""
        self.status: int | None = None

    def read(self, seconds: float = 0.1) -> None:
        if self.fd < 0:
            return
        while select.select([self.fd], [], [], seconds)[0]:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.seen = (self.seen + data)[-2_000_000:]
            seconds = 0.0

    def text(self) -> str:
        """What was written, escape sequences removed (labels come out whole)."""
        return _ESCAPES.sub(b"", self.seen).decode("utf-8", "replace")

    def wait_for(self, check: Callable[[], bool], what: str, seconds: float = GENEROUS_S) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.read()
            if check():
                return
            if self.exited() is not None:
                raise AssertionError(f"exited ({self.status}) waiting for {what}: {self.tail()}")
        raise AssertionError(f"timed out waiting for: {what}; screen: {self.tail()}")

    def tail(self) -> str:
        return self.text()[-800:]

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def hang_up(self) -> None:
        """Close the master side: the kernel sends SIGHUP to the session (a dropped link)."""
        os.close(self.fd)
        self.fd = -1

    def exited(self) -> int | None:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status

    def wait_exit(self, seconds: float = GENEROUS_S) -> int:
        deadline = time.monotonic() + seconds
        while self.exited() is None:
            assert time.monotonic() < deadline, "the screen did not exit"
            self.read(0.05)
        assert self.status is not None
        return self.status

    def kill(self) -> None:
        if self.exited() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that does not reap is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def engine_pid(run_dir: Path) -> int | None:
    """The engine process holding the run (its lock file names it while it is held)."""
    try:
        text = (run_dir / "lock").read_text()
    except OSError:
        return None
    match = re.match(r"pid (\d+) \(crossroom engine\)", text)
    return int(match.group(1)) if match else None


def lines(path: Path) -> list[str]:
    """Whole lines only: the recording is written in buffered chunks, so the last line
    may be half written when it is read."""
    return path.read_text().split("\n")[:-1] if path.exists() else []


def recorded_state(run_dir: Path) -> RoomState:
    return fold(e for e in map(decode, lines(run_dir / "events.jsonl")) if e is not None)


def step_events(run_dir: Path) -> int:
    return sum('"step_started"' in line for line in lines(run_dir / "events.jsonl"))


@pytest.fixture
def short_state_dir(short_dir: Path) -> Iterator[Path]:
    """``short_dir``, and a failed test leaves no engine behind either."""
    yield short_dir
    for run_dir in short_dir.glob("runs/*"):
        pid = engine_pid(run_dir)
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def processes() -> Iterator[list[PtyScreen]]:
    """Every pty the test opened is gone afterwards, whatever happened."""
    screens: list[PtyScreen] = []
    yield screens
    for screen in screens:
        screen.kill()


def until(check: Callable[[], bool], what: str, seconds: float = GENEROUS_S) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.1)


def test_a_hang_up_leaves_the_show_running_and_attach_shows_it(
    short_state_dir: Path, processes: list[PtyScreen]
) -> None:
    state = short_state_dir
    env = env_for(state)
    crossroom = [sys.executable, "-m", "tui"]
    screen = PtyScreen([*crossroom, "--speed", "50", "--state-dir", str(state)], env)
    processes.append(screen)
    screen.wait_for(lambda: "REHEARSAL" in screen.text(), "the first frame")
    until(lambda: any(state.glob("runs/*/engine.sock")), "the engine's socket")
    run_dir = next(state.glob("runs/*/engine.sock")).parent
    run_id = run_dir.name
    pid = engine_pid(run_dir)
    assert pid is not None and pid != screen.pid
    screen.wait_for(lambda: run_id in screen.text(), "the room attached to its engine")

    screen.send(b"s")
    until(
        lambda: step_events(run_dir) >= 15 and bool(lines(run_dir / "ledger.jsonl")),
        "provisioning under way (steps started, resources in the ledger)",
    )
    before_events = len(lines(run_dir / "events.jsonl"))
    before_ledger = lines(run_dir / "ledger.jsonl")
    at_hang_up = recorded_state(run_dir)
    assert any(c.status == "running" for c in at_hang_up.cloud_list()), "nothing left to do"

    screen.hang_up()
    screen.wait_exit()  # however it ends (SIGHUP, or Textual noticing its terminal is gone)
    assert alive(pid), "the hang-up took the engine with it"
    # The engine goes on: the recording grows, the ledger keeps every line it had.
    until(
        lambda: len(lines(run_dir / "events.jsonl")) > before_events + 50, "the recording to grow"
    )
    assert lines(run_dir / "ledger.jsonl")[: len(before_ledger)] == before_ledger

    # ls lists it with no screen attached.
    listed = subprocess.run(
        [*crossroom, "ls"], env=env, capture_output=True, text=True, timeout=GENEROUS_S
    )
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(run_id))
    assert re.split(r"\s{2,}", row)[3] == "0"  # screens attached

    # A new screen attaches and paints every cloud (the labels from the recording).
    again = PtyScreen([*crossroom, "attach"], env)
    processes.append(again)
    labels = [c.label for c in recorded_state(run_dir).cloud_list()]
    assert len(labels) == 15
    again.wait_for(lambda: all(label in again.text() for label in labels), "every cloud shown")
    again.wait_for(lambda: run_id in again.text(), "the run id in the header")

    # An attached client holds what the engine has: once the show has settled, exactly
    # the state its recording folds to.
    async def attached_state() -> RoomState:
        async with attach_room(run_dir / "engine.sock", role="audience") as room:
            for _ in range(int(GENEROUS_S / 0.1)):
                if all(c.status == "joined" for c in room.state.cloud_list()):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            return room.state

    seen = asyncio.run(attached_state())
    until(
        lambda: all(c.status == "joined" for c in recorded_state(run_dir).cloud_list()),
        "the recording to hold every join (it is flushed twice a second)",
    )
    on_disk = recorded_state(run_dir)
    assert sorted(seen.clouds) == sorted(on_disk.clouds)
    for name, cloud in on_disk.clouds.items():
        assert seen.clouds[name].status == cloud.status == "joined", name
        assert seen.clouds[name].time_to_join_s == cloud.time_to_join_s, name
        assert seen.clouds[name].resources == cloud.resources, name

    # Stop it: the attached screen says its engine has gone; no process is left behind.
    stopped = subprocess.run(
        [*crossroom, "stop", run_id], env=env, capture_output=True, text=True, timeout=GENEROUS_S
    )
    assert stopped.returncode == 0, stopped.stderr
    assert f"run {run_id} stopped" in stopped.stdout
    until(lambda: not alive(pid), "the engine process to exit")
    assert not (run_dir / "engine.sock").exists()
    again.wait_for(lambda: "the engine has gone" in again.text(), "the engine-gone line")
    again.send(b"q")
    assert again.wait_exit() == 0
    listed = subprocess.run(
        [*crossroom, "ls"], env=env, capture_output=True, text=True, timeout=GENEROUS_S
    )
    assert run_id not in listed.stdout


def test_sigterm_to_a_rehearsals_screen_stops_its_engine(
    short_state_dir: Path, processes: list[PtyScreen]
) -> None:
    """A SIGTERM is a deliberate end, not a hang-up: the screen leaves as an unasked quit
    does, so a rehearsal's engine stops at once instead of waiting for its presenter."""
    state = short_state_dir
    screen = PtyScreen([sys.executable, "-m", "tui", "--state-dir", str(state)], env_for(state))
    processes.append(screen)
    until(lambda: any(state.glob("runs/*/engine.sock")), "the engine's socket")
    run_dir = next(state.glob("runs/*/engine.sock")).parent
    screen.wait_for(lambda: run_dir.name in screen.text(), "the room attached to its engine")
    pid = engine_pid(run_dir)
    assert pid is not None and alive(pid)
    os.kill(screen.pid, signal.SIGTERM)
    screen.wait_exit()
    until(lambda: not alive(pid), "the engine to stop (not the 300 s a hang-up gets)", seconds=30)
