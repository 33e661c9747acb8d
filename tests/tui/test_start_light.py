"""What the first frame costs: the room's screens, widgets and stylesheet come after it,
and so do the engine's types (its events and state, the demo model, the rehearsal fleet).

Checked in a fresh interpreter (this test process has imported everything for other
tests): when the first frame has been painted (the App's ``_show_room`` is called after
it), neither the room screen nor its widgets nor the engine's show modules are imported
and ``room.tcss`` is not parsed; right after, the room screen has its part of them.
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

ENGINE = ("engine.events", "engine.state", "engine.room_api", "engine.config.model",
          "engine.sim.fleet", "engine.plan")

def room_modules():
    return sorted(m for m in ROOM + ENGINE if m in sys.modules)

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
    assert "engine.state" in seen["after"]["modules"]
    assert seen["after"]["css"] is True


COMMAND_LINE = """
import sys
from tui import cli
from tui.commands import screen

def opened(opener, theme):
    print(sorted(m for m in sys.modules if m.startswith("engine.")))
    return 0

screen.open_screen = opened
sys.exit(cli.main(sys.argv[1:]))
"""


def test_crossroom_opens_the_screen_before_building_the_rehearsal(short_dir: Path) -> None:
    """The built-in fleet is built by the engine process; the screen's process checks the
    options and paints first (a demo file is still checked before the screen opens)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", COMMAND_LINE, "--state-dir", str(short_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip().splitlines()[-1]
    for heavy in ("engine.events", "engine.state", "engine.config.model", "engine.sim.fleet"):
        assert repr(heavy) not in loaded
    assert "'engine.rundir'" in loaded  # the probe saw the modules of this process
