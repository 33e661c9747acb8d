"""``crossroom stop RUN_ID --teardown`` on a real engine process: everything the run made
is deleted (its steps printed as they happen, the per-cloud summary at the end), the
engine exits and lets go of the run, and ``ls`` no longer lists it.

The rehearsal fleet at speed 100 in an engine process of its own (``spawn_show``); a
presenter's client starts every cloud and stays attached meanwhile (so the engine does not
stop by itself, as a rehearsal does once its last presenter leaves).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from engine.engine_process import ShowAddress, spawn_show
from engine.events import Event, decode
from engine.room_api import RoomOptions
from engine.room_client import attach_room
from engine.state import fold

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GENEROUS_S = 120.0


@pytest.fixture
def show(short_dir: Path) -> Iterator[ShowAddress]:
    address = spawn_show(None, RoomOptions(speed=100.0, state_dir=short_dir))
    yield address
    with contextlib.suppress(ProcessLookupError):
        os.kill(address.pid, signal.SIGKILL)


def crossroom(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CROSSROOM_STATE_DIR": str(state)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=GENEROUS_S,
    )


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_stop_with_teardown_deletes_everything_and_the_engine_exits(show: ShowAddress) -> None:
    run_dir = show.socket_path.parent
    state = run_dir.parent.parent
    joined = threading.Event()
    release = threading.Event()

    async def presenter() -> None:
        """Start the show, say when every cloud joined, stay until the stop is done."""
        async with attach_room(show.socket_path) as room:
            every_cloud_joined = anyio.Event()

            def watch(event: Event) -> None:
                if all(c.status == "joined" for c in room.state.cloud_list()):
                    every_cloud_joined.set()

            room.subscribe(watch, replay=False)
            assert (await room.start()).accepted
            with anyio.fail_after(GENEROUS_S):
                await every_cloud_joined.wait()
            joined.set()
            await anyio.to_thread.run_sync(release.wait, GENEROUS_S)

    thread = threading.Thread(target=anyio.run, args=(presenter,), daemon=True)
    thread.start()
    assert joined.wait(GENEROUS_S), "the rehearsal never joined"
    before = fold(e for e in map(decode, (run_dir / "events.jsonl").read_text().splitlines()) if e)
    assert sum(c.resources for c in before.cloud_list()) > 0

    stopped = crossroom(state, "stop", show.run_id, "--teardown")
    release.set()
    thread.join(GENEROUS_S)
    assert stopped.returncode == 0, stopped.stderr
    assert f"teardown of run {show.run_id}:" in stopped.stdout
    assert "Traceback" not in stopped.stderr
    assert not running(show.pid)
    assert not show.socket_path.exists()
    after = fold(e for e in map(decode, (run_dir / "events.jsonl").read_text().splitlines()) if e)
    assert all(c.resources == 0 for c in after.cloud_list()), [
        (c.name, c.resources) for c in after.cloud_list() if c.resources
    ]
    assert show.run_id not in crossroom(state, "ls").stdout
    again = crossroom(state, "stop", show.run_id)
    assert again.returncode == 1 and "no engine is running" in again.stderr
