"""The screen under a load of keys: bursts handled in order, modals never freeze the room.

A burst is several keys in one read of the terminal (typed fast or pasted): they reach
the App back to back, before any of them has been handled. ``burst`` posts them that
way; ``pilot.press`` waits for the screen to settle between keys, so both are tried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app, scripted_opener
from scenes import WALL0, mid_show
from textual import events
from textual.command import CommandPalette
from textual.pilot import Pilot

from engine import events as ev
from tui.app import RoomApp
from tui.screens.check import CheckScreen
from tui.screens.help import HelpScreen
from tui.screens.zoom import ZoomScreen
from tui.widgets.prompt_bar import PromptBar
from tui.widgets.room_header import RoomHeader

pytestmark = pytest.mark.anyio


async def until(pilot: Pilot[Any], check: Callable[[], bool], seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for: {what}")


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Post every key before the App handles the first (one read of the terminal)."""
    app = pilot.app
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(key, char))
    await pilot.pause(0.2)


def text_of(widget: Any) -> str:
    return "\n".join("".join(t for t, _ in line) for line in widget._lines)


async def ready(pilot: Pilot[Any]) -> RoomApp:
    app = pilot.app
    assert isinstance(app, RoomApp)
    await until(pilot, lambda: bool(app.state.cloud_order), 5, "events")
    return app


@pytest.mark.parametrize("how", ["burst", "press"])
async def test_kill_pick_and_confirm_typed_at_once_all_count(how: str) -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        keys = ("4", "k", "2", "y")
        if how == "burst":
            await burst(pilot, *keys)
        else:
            await pilot.press(*keys)
            await pilot.pause()
        assert room.calls == [("kill", "ibm/node-2")]
        assert app.focused_cloud == "ibm"  # the 2 answered the question, it did not focus


async def test_a_burst_of_focus_keys_is_handled_in_order() -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await burst(pilot, "3", "tab", "tab", "down", "shift+tab", "tab", "tab")
        order = app.state.cloud_order
        assert app.focused_cloud == order[2 + 1 + 1 + 1 - 1 + 1 + 1]


async def test_a_burst_that_declines_then_asks_again_ends_on_the_new_question() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await burst(pilot, "4", "x", "n", "v", "3")
        bar = app.screen.query_one(PromptBar)
        assert room.calls == []
        assert "KILL ibm/server-3" in bar.question
        await burst(pilot, "enter")
        assert room.calls == [("kill", "ibm/server-3")]


async def test_teardown_question_counts_in_words() -> None:
    start = mid_show(1)
    one = [
        *start,
        ev.ResourceRecorded(
            cloud="canonical", resource_type="server", resource_id="s1", name="xr-s1"
        ),
    ]
    app = frozen_app(ScriptedRoom(one))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("d")
        question = app.screen.query_one(PromptBar).question
        assert "1 resources" not in question
        assert "delete the 1 resource?" in question


async def test_quit_during_a_teardown_says_tearing_down() -> None:
    events_ = [*mid_show(), ev.TeardownStarted(cloud="ibm", t=131.0)]
    app = frozen_app(ScriptedRoom(events_))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await until(
            pilot, lambda: app.state.clouds["ibm"].status == "tearing_down", 2, "tearing down"
        )
        await pilot.press("q")
        question = app.screen.query_one(PromptBar).question
        assert "1 cloud still tearing down (IBM)" in question
        assert "IBM" not in question.split("still tearing down")[0]


@pytest.mark.parametrize("modal", ["palette", "help", "check", "zoom"])
async def test_the_room_behind_a_modal_keeps_moving(modal: str) -> None:
    clock = [WALL0]
    room = ScriptedRoom(mid_show())
    app = RoomApp(scripted_opener(room), wall=lambda: clock[0], monotonic=lambda: 0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        open_key, kind = {
            "palette": ("ctrl+p", CommandPalette),
            "help": ("question_mark", HelpScreen),
            "check": ("p", CheckScreen),
            "zoom": ("enter", ZoomScreen),
        }[modal]
        await pilot.press(open_key)
        await until(pilot, lambda: isinstance(app.screen, kind), 2, modal)
        folded = app.ticks_with_events
        clock[0] = WALL0 + 3723.0
        room.publish(
            ev.NodeObserved(node="ibm/node-1", cloud="ibm", liveness="dead", node_id=1, t=140.0)
        )
        later = time.strftime("%H:%M:%S", time.localtime(WALL0 + 3723.0))
        base = app.base_screen()
        assert base is not None
        header = base.query_one(RoomHeader)
        await until(pilot, lambda: later in text_of(header), 3, "the clock behind the modal")
        assert app.ticks_with_events > folded
        assert app.state.nodes["ibm/node-1"].liveness == "dead"
        assert isinstance(app.screen, kind)
        await pilot.pause(0.2)
        assert later in app.export_screenshot()  # painted, not only built
