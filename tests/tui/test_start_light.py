"""What the first frame costs: the room's screens, widgets and stylesheet come after it.

Checked in a fresh interpreter (this test process has imported everything for other
tests): when the first frame has been painted (the App's ``_show_room`` is called after
it), neither the room screen nor its widgets are imported and ``room.tcss`` is not
parsed; right after, the room screen has both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import asyncio, json, sys
from contextlib import asynccontextmanager
from pathlib import Path
from tui.app import RoomApp

CSS = str(Path(sys.argv[1]) / "themes" / "room.tcss")
seen = {}

ROOM = ("tui.screens.room", "tui.widgets.cloud_grid", "tui.widgets.cloud_pane",
        "tui.widgets.cloud_table", "tui.widgets.node_grid", "tui.widgets.leaderboard")

def room_modules():
    return sorted(m for m in ROOM if m in sys.modules)

@asynccontextmanager
async def never_opened():
    raise AssertionError("the engine is opened after the room's first frame")
    yield

class Probe(RoomApp):
    def _show_room(self):
        seen["before"] = {"modules": room_modules(), "css": self.stylesheet.has_source(CSS, "")}
        super()._show_room()
        seen["after"] = {"modules": room_modules(), "css": self.stylesheet.has_source(CSS, "")}
        self.exit(0)

async def main():
    app = Probe(never_opened)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            if "after" in seen:
                break
            await pilot.pause(0.02)

asyncio.run(main())
print(json.dumps(seen))
"""


def test_the_room_is_loaded_after_the_first_frame() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"] == {"modules": [], "css": False}
    assert "tui.widgets.cloud_pane" in seen["after"]["modules"]
    assert seen["after"]["css"] is True
