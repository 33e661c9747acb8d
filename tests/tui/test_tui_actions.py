"""One action table drives the bindings, the footer hints, the help screen and the
palette: they must never disagree. Also the zoom view's log search."""

from __future__ import annotations

from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from scenes import mid_show
from textual.actions import parse
from textual.command import CommandList
from textual.widgets import Log

from engine import events as ev
from tui.actions import ACTIONS, bindings, find_action
from tui.app import RoomApp
from tui.screens.help import help_text
from tui.screens.zoom import ZoomScreen
from tui.widgets.key_hints import hints

pytestmark = pytest.mark.anyio


def test_every_action_has_a_handler_a_binding_and_a_help_line() -> None:
    text = help_text()
    keys = {b.key for b in bindings()}
    assert hasattr(RoomApp, "action_room")
    for a in ACTIONS:
        _, name, parameters = parse(a.action)
        assert name == "room" and find_action(name, parameters) is a, a.action
        assert a.keys in keys
        if not a.name.startswith("focus_cloud"):
            assert f"{a.key_display:<12} {a.help}" in text, a.name


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


async def test_each_records_enabled_when_is_what_the_keys_footer_and_palette_obey() -> None:
    """The record's ``enabled`` is the one answer: Textual's check for the binding, the
    footer's and the palette's all come from it, on the room, in zoom and in a palette."""
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for_events(pilot, app)

        def agree(where: str) -> set[str]:
            ctx = app.action_context()
            enabled = {a.name for a in ACTIONS if a.enabled(ctx)}
            for a in ACTIONS:
                _, name, parameters = parse(a.action)
                assert app.check_action(name, parameters) is (a.name in enabled), (where, a)
                assert app.check_action(a.name, ()) is (a.name in enabled), (where, a)
            footer = {d for _, d in hints(lambda name: app.check_action(name, ()))}
            assert footer == {a.description for a in ACTIONS if a.footer and a.name in enabled}
            return enabled

        for cloud in app.state.cloud_order:
            app.focused_cloud = cloud
            agree(cloud)
        app.focused_cloud = "ibm"
        on_room = agree("room")
        assert {"zoom", "focus_next", "kill_node"} <= on_room and "revive" not in on_room
        await room.kill("ibm/node-1")  # revive is enabled once something is killed
        await pilot.pause(0.3)
        assert "revive" in agree("after a kill")
        await pilot.press("enter")
        assert isinstance(app.screen, ZoomScreen)
        in_zoom = agree("zoom")
        assert "zoom" not in in_zoom and "focus_next" not in in_zoom and "revive" in in_zoom
        await pilot.press("escape")


async def test_help_lists_the_table_and_any_key_closes_it() -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_events(pilot, app)
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("x")
        assert type(app.screen).__name__ == "RoomScreen"
        assert app.questions.prompt is None  # the key closed the help and did nothing else


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


async def test_the_records_danger_decides_what_still_asks_in_armed_mode() -> None:
    """Armed mode skips the question for kills only: cancel, teardown and quit still ask."""
    assert {a.name for a in ACTIONS if a.danger == "kill"} == {
        "kill_node",
        "restart_pod",
        "kill_server",
        "kill_cloud",
        "crash_process",
        "freeze_process",
        "partition_cloud",
    }
    assert {a.name for a in ACTIONS if a.danger == "asks"} == {"cancel", "teardown", "quit"}
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_events(pilot, app)
        await pilot.press("a")
        assert app.armed
        app.focused_cloud = "netapp"  # running: cancel is enabled
        await pilot.press("c")
        assert app.questions.prompt is not None and "CANCEL" in app.questions.prompt.question
        await pilot.press("n")
        assert room.calls == [] and app.questions.prompt is None
        await pilot.press("4", "x")  # kill the whole of ibm: no question when armed
        await pilot.pause()
        assert room.calls == [("kill", "ibm")] and app.questions.prompt is None
