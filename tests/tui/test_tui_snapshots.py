"""SVG snapshots of the room at 80x24, 120x40 and 200x60 in every theme.

The scene is hand-made (``scenes.mid_show``) and the clocks are frozen (``harness``),
so the pictures change only when the screen does. Update with ``--snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from scenes import mid_show
from textual.pilot import Pilot

from tui.app import RoomApp

SIZES = [(80, 24), (120, 40), (200, 60)]
THEMES = ["stage", "light", "mono"]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the scripted events are folded and drawn."""
    app = pilot.app
    assert isinstance(app, RoomApp)
    for _ in range(100):
        if app.ticks_with_events:
            break
        await pilot.pause(0.02)
    app.refresh_view(slow=True, timers=True)
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_room(snap_compare: Any, size: tuple[int, int], theme: str) -> None:
    app = frozen_app(ScriptedRoom(mid_show()), theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_kill_prompt_names_the_target(snap_compare: Any) -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle, press=["3", "k", "2"])


def test_zoom(snap_compare: Any) -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle, press=["5", "enter"])


def test_too_small(snap_compare: Any) -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    assert snap_compare(app, terminal_size=(60, 15), run_before=settle)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_room_with_100_clouds(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(ScriptedRoom(mid_show(100, 6)))
    assert snap_compare(app, terminal_size=size, run_before=settle)
