"""The first frame is the one-line opening screen; the room screen replaces it, then the
engine opens. The opening screen needs nothing of the engine's (checked in a fresh
interpreter: this test process has imported the engine for other tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from scenes import mid_show
from textual.screen import Screen

from tui.screens.opening import OpeningScreen
from tui.screens.room import RoomScreen

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


async def test_the_opening_screen_comes_first_and_the_room_replaces_it() -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    shown: list[type[Screen[object]]] = []
    original = app.push_screen

    def record(screen: Screen[object], *args: Any, **kwargs: Any) -> Any:
        shown.append(type(screen))
        return original(screen, *args, **kwargs)

    setattr(app, "push_screen", record)  # noqa: B010 (spy on the App's own push)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert shown[0] is OpeningScreen
        assert isinstance(app.screen, RoomScreen)
        assert not any(isinstance(s, OpeningScreen) for s in app.screen_stack)
        assert app.room is not None


def test_the_opening_screen_imports_nothing_of_the_engine() -> None:
    code = (
        "import sys\nimport tui.screens.opening\n"
        "print(','.join(m for m in sys.modules if m == 'engine' or m.startswith('engine.')))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == ""
