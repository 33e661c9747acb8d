"""Quitting a screen of a show that runs in its own engine process.

A rehearsal just quits (its engine stops when its last screen has left); a real show that
holds resources asks: leave it running, stop it, or tear down first, naming how many
resources in which clouds and the exact teardown command, which is printed to the
terminal too once the screen has closed. A screen whose engine has gone keeps the last
state and says so in one line.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness import ScriptedShow, scripted_opener
from scenes import WALL0, mid_show, run_started
from textual.pilot import Pilot

from engine import events as ev
from engine.room_api import RoomCommands
from tui.app import RoomApp
from tui.cli import main
from tui.commands.screen import print_farewell
from tui.screens.quit import QuitScreen
from tui.widgets.prompt_bar import PromptBar

pytestmark = pytest.mark.anyio

RUN = "xr-20261127-051200-a1b2"


async def until(pilot: Pilot[Any], check: Callable[[], bool], seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for: {what}")


def app_of(room: ScriptedShow) -> RoomApp:
    return RoomApp(scripted_opener(room), theme="stage", wall=lambda: WALL0, monotonic=lambda: 0.0)


def real_show(*, made: bool = True, running: bool = False) -> list[ev.Event]:
    """Three real clouds (not the rehearsal fleet), each joined with two servers and a
    key pair, or idle with nothing made; ``running``: the third is still provisioning."""
    start = replace(
        run_started(3),
        simulated=False,
        run_dir=f"/srv/shows/runs/{RUN}",
        clouds=tuple(replace(c, provider="openstack") for c in run_started(3).clouds),
    )
    events: list[ev.Event] = [start]
    if not made:
        return events
    for i, c in enumerate(start.clouds):
        events.append(ev.CloudStarted(cloud=c.name, t=1.0))
        for kind, rid in (("keypair", "k"), ("server", "s1"), ("server", "s2")):
            events.append(
                ev.ResourceRecorded(
                    cloud=c.name, resource_type=kind, resource_id=f"{c.name}-{rid}", t=2.0
                )
            )
        if not (running and i == 2):
            events.append(ev.CloudJoined(cloud=c.name, time_to_join_s=60.0, t=61.0))
    return events


async def opened(pilot: Pilot[Any]) -> RoomApp:
    app = pilot.app
    assert isinstance(app, RoomApp)
    await until(pilot, lambda: bool(app.state.cloud_order) and app.room is not None, 5, "events")
    return app


async def test_a_rehearsal_quits_at_once_and_leaves_its_engine_to_stop_itself() -> None:
    room = ScriptedShow(mid_show())
    app = app_of(room)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        assert any(c.status == "running" for c in app.state.cloud_list())
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    assert room.calls == [("detach", "")]
    assert app.return_code == 0
    assert app.farewell == []


async def test_a_real_show_that_made_nothing_stops_its_engine_without_asking() -> None:
    room = ScriptedShow(real_show(made=False))
    app = app_of(room)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    assert room.calls == [("stop", "")]


async def test_real_resources_ask_three_ways_naming_counts_clouds_and_the_command() -> None:
    room = ScriptedShow(real_show(running=True))
    app = app_of(room)
    async with app.run_test(size=(100, 30)) as pilot:
        await opened(pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), 2, "the quit question")
        text = str(app.screen.query_one("#quit-text").render())
        assert "9 resources in 3 clouds: Canonical 3, EasyStack 3, Huawei 3" in text
        assert "1 cloud still running: Huawei" in text
        assert f"crossroom teardown --run {RUN} --state-dir /srv/shows" in text
        for key, words in (("l", "leave the show running"), ("s", "stop the show")):
            assert f" {key}   {words}" in text
        assert "tear down first" in text
        # Any other key: back to the show, nothing sent, nothing quit.
        await pilot.press("k")
        await until(pilot, lambda: not isinstance(app.screen, QuitScreen), 2, "back")
        assert app.is_running and room.calls == []
        assert not app.screen.query_one(PromptBar).question  # the k went to the question


@pytest.mark.parametrize("key", ["l", "s"])
async def test_leave_or_stop_and_the_lines_printed_after_the_screen(key: str) -> None:
    room = ScriptedShow(real_show())
    app = app_of(room)
    async with app.run_test(size=(100, 30)) as pilot:
        await opened(pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), 2, "the quit question")
        await pilot.press(key)
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    out = io.StringIO()
    print_farewell(app.farewell, out)
    printed = out.getvalue()
    assert "9 resources in 3 clouds: Canonical 3, EasyStack 3, Huawei 3" in printed
    if key == "l":
        assert room.calls == [("detach", "")]
        assert "keeps running" in printed
        assert f"crossroom attach {RUN} --state-dir /srv/shows" in printed
        assert f"crossroom stop {RUN} --teardown --state-dir /srv/shows" in printed
    else:
        assert room.calls == [("stop", "")]
        assert "stopped; left behind" in printed
        assert f"crossroom teardown --run {RUN} --state-dir /srv/shows" in printed


async def test_tear_down_first_shows_the_teardown_then_closes_when_the_engine_stops() -> None:
    room = ScriptedShow(real_show())
    app = app_of(room)
    async with app.run_test(size=(100, 30)) as pilot:
        await opened(pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), 2, "the quit question")
        await pilot.press("t")
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    assert room.calls == [("stop", "teardown")]
    assert all(c.resources == 0 for c in app.state.cloud_list())
    assert app.farewell == [f"crossroom: run {RUN} holds nothing in any cloud"]


async def test_engine_gone_keeps_the_state_says_one_line_and_refuses_commands() -> None:
    room = ScriptedShow(real_show())
    app = app_of(room)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        before = app.state.clouds
        room.engine_went("connection lost")
        await until(pilot, lambda: app.engine_gone, 2, "the engine gone")
        app.refresh_view()
        await pilot.pause()
        bar = app.screen.query_one(PromptBar)
        line = "".join(t for row in bar._lines for t, _ in row)
        assert (
            f"the engine has gone; what it made stays: crossroom teardown --run {RUN} "
            "(connection lost)"
        ) in line
        assert app.state.clouds == before  # the last state stays on screen
        await pilot.press("d", "y")  # tear down: refused by the engine that has gone
        await until(pilot, lambda: "has gone" in bar.question, 2, "the refusal")
        assert bar.question == f"engine for run {RUN} has gone"
        await pilot.press("q")  # nothing to ask the engine any more: quits at once
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    assert ("detach", "") not in room.calls and ("stop", "") not in room.calls
    assert any(f"crossroom teardown --run {RUN}" in line for line in app.farewell)


async def test_quitting_before_the_engine_is_up_stops_an_idle_real_show() -> None:
    """q on the opening frame: once the engine answers, an idle real show is stopped (no
    idle engine left behind), as it would have been had the screen been open."""
    room = ScriptedShow(real_show(made=False))
    engine_up = asyncio.Event()

    @asynccontextmanager
    async def slow_opener() -> AsyncIterator[RoomCommands]:
        await engine_up.wait()
        yield room

    app = RoomApp(slow_opener, theme="stage", wall=lambda: WALL0, monotonic=lambda: 0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert app.room is None
        asyncio.get_running_loop().call_later(0.3, engine_up.set)  # while q waits for it
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    assert room.calls == [("stop", "")]


def test_a_state_dir_too_deep_for_the_socket_is_one_line_before_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    assert main(["--state-dir", str(deep)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "too deep for the engine's socket" in err and "at most 107" in err


async def test_ctrl_q_while_the_question_is_open_asks_once() -> None:
    room = ScriptedShow(real_show())
    app = app_of(room)
    async with app.run_test(size=(100, 30)) as pilot:
        await opened(pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), 2, "the quit question")
        await pilot.press("ctrl+q")
        await pilot.pause(0.1)
        assert sum(isinstance(s, QuitScreen) for s in app.screen_stack) == 1
        assert isinstance(app.screen, QuitScreen)  # ctrl+q is Textual's priority key
        await pilot.press("s")
        await until(pilot, lambda: not app.is_running, 5, "the screen to close")
    assert room.calls == [("stop", "")]
