"""Opening the rehearsal room imports no cloud SDK: they are imported lazily, by real clouds.

A rehearsal must start on a laptop without the SDKs' import cost (and without them
installed at all), so ``kubernetes``, ``openstack`` (openstacksdk) and ``psycopg2`` may
be imported only where a real cloud or a real cluster needs them. Checked in a fresh
interpreter, since this test process has imported them for other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LAZY = ("kubernetes", "openstack", "psycopg2")

_OPEN_THE_REHEARSAL = """
import sys
from pathlib import Path

import anyio

from engine.room_api import RoomOptions
from engine.room import open_room
from engine.sim.fleet import rehearsal_demo


async def main() -> None:
    options = RoomOptions(seed=1, speed=100.0, state_dir=Path(sys.argv[1]))
    async with open_room(rehearsal_demo(), options) as room:
        await room.start()
        await anyio.sleep(0.5)
        await room.kill(room.state.cloud_list()[0].name)


anyio.run(main)
print(",".join(m for m in sys.argv[2:] if m in sys.modules))
"""


def test_opening_the_rehearsal_room_imports_no_cloud_sdk(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_THE_REHEARSAL, str(tmp_path / "state"), *LAZY],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1:] in ([], [""]), done.stdout
