"""The run-sheet paced by the presenter, in the screen, keys only (Pilot on the real
rehearsal fleet): the gate holds every cloud and ``g`` lets them go, the next cue counts
down on its own line, ``space`` fires it, and the verdict line follows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness import FLOW_SPEED, ScriptedRoom, frozen_app
from scenes import mid_show
from textual.pilot import Pilot

from engine import events as ev
from engine.config.scenario_model import Cue, Expectations, Scenario
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.sim.fleet import rehearsal_demo
from engine.state import fold
from tui.app import RoomApp
from tui.widgets.cloud_pane import CloudPane
from tui.widgets.cloud_table import CloudTable
from tui.widgets.cue_bar import CueBar

pytestmark = pytest.mark.anyio

SHEET = Scenario(
    cues=(
        Cue(
            "restart",
            "restart",
            "vexxhost/node-1",
            at_s=3000.0,
            expect=Expectations(unavailable_ranges=0, healed_within_s=600.0),
        ),
        Cue("thanks", "say", text="thank you"),
    ),
    pace="presenter",
    hold_before="cockroach",
)


async def until(pilot: Pilot[Any], check: Callable[[], bool], seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


def bar(app: RoomApp) -> str:
    widget = app.screen.query_one(CueBar)
    return "".join(t for line in widget._lines for t, _ in line)


async def test_presenter_paces_the_run_sheet_with_g_and_space(tmp_path: Path) -> None:
    base = rehearsal_demo()
    fast = tuple(c for c in base.clouds if c.name in ("vexxhost", "platform9", "rackspace"))
    demo = replace(base, clouds=fast, scenario=SHEET)
    options = RoomOptions(seed=3, speed=FLOW_SPEED, state_dir=tmp_path)
    app = RoomApp(lambda: open_room(demo, options))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 10, "the run to start")
        await until(pilot, lambda: "NEXT restart" in bar(app), 5, "the run-sheet line")
        await pilot.press("s")
        await until(pilot, lambda: app.state.gate == "held", 60, "the gate to hold")
        assert all(c.status == "running" for c in app.state.cloud_list())
        await until(pilot, lambda: "HELD before cockroach" in bar(app), 5, "the held line")
        assert "NEXT restart" in bar(app)
        await pilot.press("g")
        await until(pilot, lambda: app.state.gate == "released", 5, "the release")
        await until(
            pilot,
            lambda: all(c.status == "joined" for c in app.state.cloud_list()),
            60,
            "every cloud to join",
        )
        # The next cue counts down, and waits for the presenter.
        await until(pilot, lambda: "space fires it" in bar(app), 5, "the countdown")
        assert "NEXT restart: restart vexxhost/node-1 in " in bar(app)
        assert app.state.cues_fired == ()
        await pilot.press("space")
        await until(pilot, lambda: len(app.state.cues_fired) == 1, 5, "the cue to fire")
        assert app.state.kills[-1].target == "vexxhost/pod-1"
        await until(pilot, lambda: "NEXT thanks" in bar(app), 5, "the next cue")
        await until(pilot, lambda: len(app.state.verdicts) == 2, 60, "the verdicts")
        await until(pilot, lambda: "restart: healed_within" in bar(app), 5, "the verdict line")
        assert "PASS" in bar(app)
        await pilot.press("space")
        await until(pilot, lambda: "run-sheet done" in bar(app), 5, "the end of the sheet")
        assert [c.cue for c in app.state.cues_fired] == ["restart", "thanks"]
        assert all(v.passed for v in app.state.verdicts)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_each_running_cloud_shows_its_eta_and_lead(size: tuple[int, int]) -> None:
    events = mid_show()
    running = [c.name for c in fold(events).cloud_list() if c.status == "running"]
    ahead, behind = running[0], running[1]
    t = fold(events).t
    events += [
        ev.EtaEstimated(cloud=ahead, expected_total_s=452.0, ahead_s=12.4, t=t),
        ev.EtaEstimated(cloud=behind, expected_total_s=300.0, ahead_s=-45.0, t=t),
    ]
    app = frozen_app(ScriptedRoom(events))
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: bool(app.state.eta), 5, "the estimates")
        narrow = size == (80, 24)
        wanted = ((ahead, "left +12s"), (behind, "left -45s"))
        for cloud, words in wanted:
            app.focused_cloud = cloud  # the table's window follows the focused cloud
            app.refresh_view(slow=True, timers=True)
            await pilot.pause()
            if narrow:
                table = app.screen.query_one("#table", CloudTable)  # every row, 80 wide
                rows = table.build(app.view, 80, 40)
                shown = "\n".join("".join(t for t, _ in line) for line in rows)
            else:
                shown = "\n".join(
                    str(p.border_subtitle) for p in app.screen.query(CloudPane).results()
                )
            assert words in shown


async def test_the_run_sheet_line_shows_only_with_a_run_sheet_and_room_for_it() -> None:
    events = mid_show()
    t = fold(events).t
    app = frozen_app(ScriptedRoom(events))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 5, "events")
        assert not app.screen.query_one(CueBar).display  # no run-sheet: every row for the room
    cue = ev.CueNext(cue="stop", index=0, action="stop", target="ibm/node-1", due_t=t + 65)
    app = frozen_app(ScriptedRoom([*events, cue]))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.state.cue_next is not None, 5, "the cue")
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert app.screen.query_one(CueBar).display
        assert "NEXT stop: stop ibm/node-1 in 1m05s" in bar(app)
        await pilot.resize_terminal(60, 12)  # too small: the notice alone
        await pilot.pause()
        assert not app.screen.query_one(CueBar).display


STORY = Path(__file__).resolve().parents[2] / "scenarios" / "summit-2017.yaml"


@pytest.mark.slow
async def test_the_2017_story_runs_presenter_paced_in_the_screen(tmp_path: Path) -> None:
    """The whole 2017 run-sheet on the 15-cloud rehearsal fleet, every cue fired by the
    presenter's ``space`` once its trigger has come: gate, release, restart a pod, stop a
    node for 90 s, freeze one for 20 s, cut a cloud off for 60 s, stop a server, heal."""
    from engine.config.scenario import load_scenario_file

    base = rehearsal_demo()
    story = replace(load_scenario_file(STORY, base), pace="presenter")
    demo = replace(base, scenario=story)
    options = RoomOptions(seed=7, speed=FLOW_SPEED, state_dir=tmp_path)
    app = RoomApp(lambda: open_room(demo, options))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 10, "the run to start")
        await pilot.press("s")
        await until(pilot, lambda: app.state.gate == "held", 120, "the gate to hold")
        for number, cue in enumerate(story.cues, start=1):

            def due(name: str = cue.name) -> bool:
                nxt = app.state.cue_next
                return nxt is not None and nxt.cue == name and nxt.due_t is not None

            await until(pilot, due, 300, f"cue {cue.name} to come due")
            assert f"NEXT {cue.name}" in bar(app)
            await pilot.press("space")
            await until(
                pilot, lambda n=number: len(app.state.cues_fired) == n, 10, f"{cue.name} to fire"
            )
        await until(pilot, lambda: "run-sheet done" in bar(app), 300, "the end of the sheet")
        wanted = 1 + sum(
            sum(
                v is not None
                for v in (
                    x.unavailable_ranges,
                    x.kv_error_rate_max,
                    x.p99_max_ms,
                    x.healed_within_s,
                )
            )
            for x in (c.expect for c in story.cues)
        )
        await until(pilot, lambda: len(app.state.verdicts) == wanted, 300, "every verdict")
        fired = [c.cue for c in app.state.cues_fired]
        assert fired == [c.name for c in story.cues]
        kinds = {k.target: k.target_kind for k in app.state.kills}
        assert kinds["ibm/freeze-3"] == "freeze"
        assert kinds["easystack/partition"] == "partition"
        scopes = {v.scope for v in app.state.verdicts}
        assert {"restart-pod", "stop-node", "freeze-node", "cut-off", "stop-server"} <= scopes
        assert all(v.passed for v in app.state.verdicts), [
            v for v in app.state.verdicts if not v.passed
        ]
