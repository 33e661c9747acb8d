"""One action table drives the bindings, the footer hints, the help screen and the
palette: they must never disagree. Also the zoom view's log search."""

from __future__ import annotations

from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from scenes import mid_show
from textual.command import CommandList
from textual.widgets import Log

from engine import events as ev
from tui.actions import ACTIONS, action_name, bindings
from tui.app import RoomApp
from tui.screens.help import help_text
from tui.screens.zoom import ZoomScreen
from tui.widgets.key_hints import hints

pytestmark = pytest.mark.anyio


def test_every_action_has_a_handler_a_binding_and_a_help_line() -> None:
    text = help_text()
    keys = {b.key for b in bindings()}
    for a in ACTIONS:
        assert hasattr(RoomApp, f"action_{action_name(a.action)}"), a.action
        assert a.keys in keys
        if not a.action.startswith("focus_cloud"):
            assert f"{a.key_display:<12} {a.help}" in text, a.action


async def wait_for_events(pilot: Any, app: RoomApp) -> None:
    for _ in range(100):
        if app.state.cloud_order:
            return
        await pilot.pause(0.02)


async def test_footer_and_palette_offer_the_same_actions_as_check_action() -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for_events(pilot, app)
        app.focused_cloud = "t2cloud"  # failed: retry makes sense, cancel does not
        shown = {d for _, d in hints(lambda name: app.check_action(name, ()))}
        assert "retry" in shown and "cancel" not in shown
        app.focused_cloud = "netapp"  # running: cancel, no retry, no kill (no nodes yet)
        shown = {d for _, d in hints(lambda name: app.check_action(name, ()))}
        assert "cancel" in shown and "retry" not in shown and "stop node" not in shown
        assert "restart pod" not in shown
        assert "pause" not in shown  # replay keys only in a replay
        app.focused_cloud = "t2cloud"
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"focused cloud")
        await pilot.pause(0.5)
        found = app.screen.query_one(CommandList)
        offered = [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]
        assert any("Retry the focused cloud" in o for o in offered), offered
        assert not any("Cancel the focused cloud" in o for o in offered), offered
        await pilot.press("escape")


async def test_help_lists_the_table_and_any_key_closes_it() -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_events(pilot, app)
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("x")
        assert type(app.screen).__name__ == "RoomScreen"
        assert app.prompt is None  # the key closed the help and did nothing else


async def test_zoom_shows_the_log_and_search_filters_it() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_events(pilot, app)
        await pilot.press("5", "enter")
        assert isinstance(app.screen, ZoomScreen) and app.screen.cloud == "netapp"
        room.publish(
            ev.LogLines(cloud="netapp", lines=tuple(f"line {i} ok" for i in range(300)), t=150)
        )
        await pilot.pause(0.3)
        log = app.screen.query_one(Log)
        assert log.line_count >= 300
        await pilot.press("slash", *"line 29", "enter")
        await pilot.pause(0.2)
        assert [line for line in log.lines] == [
            f"line {i} ok" for i in (29, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299)
        ]
        await pilot.press("escape")
        assert type(app.screen).__name__ == "RoomScreen"
