"""The run-sheet runs in the engine's own process: ``--scenario`` and ``--paced`` reach it,
and a screen attached over the socket fires cues and releases the gate."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import anyio
import pytest

from engine.engine_process import spawn_show
from engine.room_api import RoomOptions
from engine.room_client import attach_room

DEMO = """\
name: three clouds
clouds:
  - {name: vexxhost, provider: sim, sim: {slowness: 0.1}}
  - {name: platform9, provider: sim, sim: {slowness: 0.15}}
  - {name: rackspace, provider: sim, sim: {slowness: 0.2}}
"""
SHEET = """\
hold_before: cockroach
cues:
  - {name: hello, do: say, text: hello}
  - {name: restart, do: restart, target: vexxhost/node-1, at: 1h}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def until(condition: object, seconds: float = 60.0) -> None:
    with anyio.fail_after(seconds):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - socket-fed state
            await anyio.sleep(0.05)


@pytest.mark.anyio
async def test_a_paced_run_sheet_is_driven_over_the_socket(tmp_path: Path) -> None:
    demo, sheet = tmp_path / "demo.yaml", tmp_path / "sheet.yaml"
    demo.write_text(DEMO)
    sheet.write_text(SHEET)
    options = RoomOptions(speed=100.0, state_dir=tmp_path, scenario_file=sheet, paced=True)
    address = spawn_show(demo, options)
    try:
        async with attach_room(address.socket_path) as room:
            await until(lambda: room.state.cue_next is not None)
            assert room.state.cue_next is not None and room.state.cue_next.paced
            assert (await room.start()).accepted
            await until(lambda: room.state.gate == "held")
            assert (await room.release_gate()).accepted
            await until(lambda: all(c.status == "joined" for c in room.state.cloud_list()))
            assert room.state.cues_fired == ()  # paced: nothing fires by itself
            assert (await room.fire_next_cue()).accepted
            await until(lambda: len(room.state.cues_fired) == 1)
            assert room.state.cues_fired[0].text == "hello"
            assert room.state.cue_next is not None and room.state.cue_next.cue == "restart"
            await room.stop()
    finally:
        await gone(address.pid)


def _alive(pid: int) -> bool:
    """``pid`` runs (reaping our exited child, so a zombie does not count)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def gone(pid: int) -> None:
    """Wait for the engine to stop; stop it (by its pid) if it does not."""
    with anyio.move_on_after(10):
        while _alive(pid):  # noqa: ASYNC110 - another process, no event to wait on
            await anyio.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        with anyio.fail_after(20):
            while _alive(pid):  # noqa: ASYNC110
                await anyio.sleep(0.05)
