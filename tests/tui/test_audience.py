"""The audience view: read-only, legible, every cloud, outside text as data.

Pilot runs the real ``AudienceApp`` on a ``ScriptedRoom`` (the engine's command API
with a fixed event list) at a projector's 80x24 and a browser's 160x48, with the 2017
fifteen clouds and with a hundred.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from harness import ScriptedRoom, scripted_opener
from scenes import WALL0, mid_show, run_started

from engine import events as ev
from engine.captions import latest_caption
from engine.room_api import RoomCommands
from engine.terminal_text import visible
from tui.audience_app import AudienceApp
from tui.screens.audience import AudienceScreen

pytestmark = pytest.mark.anyio

SIZES = [(80, 24), (160, 48)]
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028-\u202e]")


def audience(room: ScriptedRoom) -> AudienceApp:
    return AudienceApp(scripted_opener(room), wall=lambda: WALL0, monotonic=lambda: 0.0)


def frame(app: AudienceApp) -> str:
    """The text of a full frame of the current screen, row by row (no control characters
    in any segment: outside text cannot reach the terminal as control)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=[])
    assert update is not None
    rows: list[str] = []
    for line in getattr(update, "strips", []):
        text = ""
        for strip in line:
            for segment in strip:
                assert segment.control is None
                bad = CONTROLS.search(segment.text)
                assert bad is None, f"{bad.group()!r} in {segment.text!r}"
                text += segment.text
        rows.append(text)
    return "\n".join(rows)


async def settle(app: AudienceApp, pilot: Any, room: ScriptedRoom) -> str:
    for _ in range(200):
        if app.state.t >= room.state.t and not len(app.inbox) and app.state.run_id:
            break
        await pilot.pause(0.02)
    app.refresh_view(slow=True)
    await pilot.pause()
    app.refresh_view(slow=True)
    await pilot.pause()
    return frame(app)


@pytest.mark.parametrize("size", SIZES)
async def test_fifteen_clouds_every_label_the_badge_and_the_caption(size: tuple[int, int]) -> None:
    room = ScriptedRoom(mid_show(15))
    app = audience(room)
    async with app.run_test(size=size) as pilot:
        shown = await settle(app, pilot, room)
        assert isinstance(app.screen, AudienceScreen)
        assert "REHEARSAL" in shown
        for c in room.state.cloud_list():
            assert c.label in shown, f"{c.label} missing at {size}\n{shown}"
        assert app.caption is not None and app.caption == latest_caption(room.events)
        assert app.caption in shown
        assert "joined" in shown and "ops/s" in shown and "under-rep" in shown
        # No key hints and no prompt: nothing here invites a key.
        assert not app.screen.query("KeyHints, PromptBar, Footer, Input")
        assert "q quit" not in shown and "confirm" not in shown


@pytest.mark.parametrize("size", SIZES)
async def test_a_hundred_clouds_fit_and_the_rest_is_summed(size: tuple[int, int]) -> None:
    room = ScriptedRoom(mid_show(100))
    app = audience(room)
    async with app.run_test(size=size) as pilot:
        shown = await settle(app, pilot, room)
        assert "REHEARSAL" in shown
        assert re.search(r"\+ \d+ more", shown), shown
        ranked = sorted(
            (c for c in room.state.cloud_list() if c.time_to_join_s is not None),
            key=lambda c: (c.time_to_join_s, c.name),
        )
        assert ranked[0].label in shown  # the fastest heads the board at any size
        lines = shown.splitlines()
        assert len(lines) == size[1] and all(len(line) == size[0] for line in lines)


async def test_big_digits_from_a_browser_sized_window() -> None:
    room = ScriptedRoom(mid_show(15))
    app = audience(room)
    async with app.run_test(size=(160, 48)) as pilot:
        shown = await settle(app, pilot, room)
        assert app.screen.has_class("-big")
        assert "┏━┓" in shown or "╺━┓" in shown or "┗━┫" in shown  # three-row digits
    app = audience(ScriptedRoom(mid_show(15)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, room)
        assert not app.screen.has_class("-big")


async def test_the_caption_follows_the_show_and_stays_on_quiet_events() -> None:
    events = mid_show(15)
    room = ScriptedRoom(events)
    app = audience(room)
    victim = next(e.node for e in events if isinstance(e, ev.NodeObserved))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot, room)
        room.publish(ev.KillIssued(target=victim, target_kind="node", nodes=(victim,), t=140.0))
        room.publish(
            ev.NodeObserved(node=victim, cloud=victim.split("/")[0], liveness="suspect", t=146.2)
        )
        room.publish(ev.LogLines(cloud=victim.split("/")[0], lines=("noise",), t=147.0))
        shown = await settle(app, pilot, room)
        want = f"{victim} suspect after 6.2 s, kv errors 2"
        assert app.caption == want
        assert want in shown


@pytest.mark.parametrize(
    "keys",
    [
        ["k", "x", "b", "enter", "y"],
        ["K", "2", "y", "s", "r", "c"],
        ["tab", "space", "a", "y", "ctrl+p", "escape", "f1", "?"],
    ],
)
async def test_keys_send_nothing_to_the_show(keys: list[str]) -> None:
    room = ScriptedRoom(mid_show(15))
    app = audience(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, room)
        await pilot.press(*keys)
        await pilot.pause()
        assert room.calls == []
        assert isinstance(app.screen, AudienceScreen)  # no palette, help or prompt opened
        assert app.is_running


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_close_the_viewer_only(key: str) -> None:
    room = ScriptedRoom(mid_show(15))
    app = audience(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, room)
        await pilot.press(key)
        await pilot.pause()
    assert app.return_value == 0
    assert room.calls == []
    assert room._sinks == []  # unsubscribed: the viewer let go of the show


HOSTILE = "[bold red]EVIL[/]\x1b[31m\x1b]0;pwned\x07<b>\u202e"


async def test_outside_text_shows_literally() -> None:
    start = run_started(3)
    clouds = tuple(
        ev.CloudInfo(name=c.name, label=HOSTILE if i == 0 else c.label, steps=c.steps)
        for i, c in enumerate(start.clouds)
    )
    hostile_start = ev.RunStarted(
        run_id=start.run_id, demo=f"demo {HOSTILE}", simulated=True, clouds=clouds
    )
    name = clouds[0].name
    room = ScriptedRoom(
        [
            hostile_start,
            ev.CloudStarted(cloud=name, t=1.0),
            ev.StepFailed(cloud=name, step="keypair", error=f"boom {HOSTILE}", duration_s=1, t=2.0),
        ]
    )
    app = audience(room)
    async with app.run_test(size=(160, 48)) as pilot:
        shown = await settle(app, pilot, room)
        assert app.caption == f"{HOSTILE} failed at keypair: boom {HOSTILE}"
        assert visible(HOSTILE)[:16] in shown
        assert visible(f"{HOSTILE} failed at keypair") in shown


async def test_an_engine_that_cannot_be_reached_is_one_line_and_exit_1() -> None:
    @asynccontextmanager
    async def opener() -> AsyncIterator[RoomCommands]:
        raise ConnectionRefusedError("no engine at run xr-1")
        yield  # pragma: no cover

    app = AudienceApp(opener, wall=lambda: WALL0, monotonic=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(50):
            if not app.is_running:
                break
            await pilot.pause(0.02)
    assert app.return_value == 1


async def test_an_engine_that_goes_away_leaves_the_last_state_and_says_so() -> None:
    room = ScriptedRoom(mid_show(15))
    app = audience(room)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot, room)
        run_id = room.state.run_id
        room.publish(
            ev.EngineGone(run_id=run_id, teardown_command=f"crossroom teardown {run_id}", t=131.0)
        )
        shown = await settle(app, pilot, room)
        assert app.gone == run_id
        assert f"the engine of run {run_id} has gone" in shown
        for c in room.state.cloud_list():
            assert c.label in shown
        assert app.is_running  # the viewer stays up until someone closes it
