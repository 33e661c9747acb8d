"""The screen's work per tick and per key stays proportional to what changed.

Behaviour, not time: which panes are rebuilt on a tick, that a focus key restyles no
pane and still shows the focus everywhere, and that merging a flood's log batches
before the fold leaves the folded state exactly as it was; ``crossroom`` lifts Textual's
frame cap before Textual is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import ScriptedRoom, scripted_opener
from hypothesis import given, settings
from hypothesis import strategies as st
from scenes import WALL0, mid_show
from textual.dom import DOMNode

from engine import events as ev
from engine.state import fold
from tui.app import RoomApp
from tui.frame_pace import FRAME_CAP
from tui.inbox import coalesce_logs
from tui.screens.room import RoomScreen
from tui.view import SLOW_EVERY
from tui.widgets.cloud_pane import CloudPane
from tui.widgets.node_grid import NodeGrid

pytestmark = pytest.mark.anyio

SIZE = (160, 48)


def still_app(room: ScriptedRoom) -> RoomApp:
    """The room with its tick timer far off: the test folds and shows by hand."""
    return RoomApp(scripted_opener(room), wall=lambda: WALL0, monotonic=lambda: 0.0, tick_hz=0.001)


async def settled(app: RoomApp, pilot: Any) -> RoomScreen:
    for _ in range(500):
        app.fold_inbox()  # no tick folds here: the timer is far off
        if app.state.cloud_order and isinstance(app.screen, RoomScreen) and app.room:
            break
        await pilot.pause(0.02)
    app.refresh_view()
    await pilot.pause()
    assert isinstance(app.screen, RoomScreen)
    return app.screen


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    original = CloudPane.build

    def spy(self: CloudPane, *args: Any, **kwargs: Any) -> Any:
        built.append(self.cloud)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CloudPane, "build", spy)
    return built


async def test_a_pane_whose_cloud_showed_nothing_new_is_not_rebuilt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = ScriptedRoom(mid_show())
    app = still_app(room)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settled(app, pilot)
        panes = {p.cloud: p for p in screen.query(CloudPane)}
        assert len(panes) == 15
        order = app.state.cloud_order
        turn = {c for i, c in enumerate(order) if i % SLOW_EVERY == app.view.tick % SLOW_EVERY}
        built = count_builds(monkeypatch)

        # A flood: every cloud gets log lines (its state changes), nothing it shows does.
        for cloud in order:
            room.publish(ev.LogLines(cloud=cloud, lines=("GET / -> 200",), t=app.state.t))
        app.fold_inbox()
        app.refresh_view()
        assert set(built) == turn  # only the panes whose turn it is (logs, timers)

        # One cloud's step moves: its pane is rebuilt, the others are not.
        built.clear()
        quiet = next(c for c in order if c not in turn and app.state.clouds[c].current)
        step = app.state.clouds[quiet].current
        assert step is not None
        room.publish(
            ev.StepProgress(cloud=quiet, step=step.name, message="3 of 3 ready", t=app.state.t)
        )
        app.fold_inbox()
        app.refresh_view()
        assert set(built) == turn | {quiet}
        await pilot.pause()
        assert any("3 of 3 ready" in "".join(t for t, _ in line) for line in panes[quiet]._lines)


async def test_a_focus_key_restyles_no_pane_and_shows_the_focus_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = still_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=SIZE) as pilot:
        screen = await settled(app, pilot)
        panes = {p.cloud: p for p in screen.query(CloudPane)}
        first = app.focused_cloud
        assert first is not None
        restyled: list[DOMNode] = []
        original = app.update_styles

        def spy(node: DOMNode, animate: bool = True) -> None:
            restyled.append(node)
            original(node, animate)

        monkeypatch.setattr(app, "update_styles", spy)
        await pilot.press("tab")
        await pilot.pause()
        now = app.focused_cloud
        assert now is not None and now != first
        assert not [n for n in restyled if isinstance(n, CloudPane)]
        focus_colour = app.theme_variables["pane-focus"].lower()
        assert panes[now].styles.border_top[0] == "double"
        assert panes[now].styles.border_top[1].hex.lower() == focus_colour
        assert panes[first].styles.border_top[0] != "double"
        # What mentions the focus outside the panes follows (the node grid's bold label).
        nodes = screen.query_one(NodeGrid)
        label = app.state.clouds[now].label[:8]
        bold = [t for line in nodes._lines for t, style in line if style == "bold"]
        assert any(t.strip().startswith(label.strip()) for t in bold)


async def test_the_focus_border_follows_a_theme_change() -> None:
    app = still_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=SIZE) as pilot:
        screen = await settled(app, pilot)
        focused = next(p for p in screen.query(CloudPane) if p.cloud == app.focused_cloud)
        app.theme = "light"
        await pilot.pause()
        focus_colour = app.theme_variables["pane-focus"].lower()
        assert focused.styles.border_top[1].hex.lower() == focus_colour


CLOUDS = ("a", "b", "c")


@st.composite
def batches(draw: st.DrawFn) -> list[ev.Event]:
    start = ev.RunStarted(
        run_id="r",
        demo="d",
        simulated=True,
        clouds=tuple(ev.CloudInfo(name=c, label=c.upper(), steps=("boot",)) for c in CLOUDS),
    )
    out: list[ev.Event] = [start]
    t = 0.0
    for kind, cloud, n, level in draw(
        st.lists(
            st.tuples(
                st.sampled_from(("log", "log", "log", "step")),
                st.sampled_from(CLOUDS),
                st.integers(1, 4),
                st.sampled_from(("info", "error")),
            ),
            max_size=40,
        )
    ):
        t += 0.5
        if kind == "log":
            lines = tuple(f"{cloud} {t} {i}" for i in range(n))
            out.append(ev.LogLines(cloud=cloud, lines=lines, level=level, t=t))
        else:
            out.append(ev.StepStarted(cloud=cloud, step="boot", t=t))
    return out


@settings(max_examples=200, deadline=None)
@given(batches())
def test_merging_log_batches_folds_to_the_same_state(events: list[ev.Event]) -> None:
    merged = coalesce_logs(events)
    assert fold(merged) == fold(events)
    others = [e for e in events if not isinstance(e, ev.LogLines)]
    assert [e for e in merged if not isinstance(e, ev.LogLines)] == others
    for cloud in CLOUDS:
        for level in ("info", "error"):
            lines = [
                line
                for e in events
                if isinstance(e, ev.LogLines) and e.cloud == cloud and e.level == level
                for line in e.lines
            ]
            got = [
                line
                for e in merged
                if isinstance(e, ev.LogLines) and e.cloud == cloud and e.level == level
                for line in e.lines
            ]
            assert got == lines


def test_crossroom_lifts_the_frame_cap_before_textual_is_imported() -> None:
    """A key's frame is not held back by Textual's 60 frames-a-second grid; a cap the
    environment already sets (textual-serve sets its own) is kept."""
    code = (
        "from tui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "import textual.constants, textual.screen\n"
        "print(textual.constants.MAX_FPS, round(1 / textual.screen.UPDATE_PERIOD))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    env["PYTHONPATH"] = str(root)
    run = [sys.executable, "-c", code]
    out = subprocess.run(run, capture_output=True, text=True, env=env, check=True, timeout=60)
    assert out.stdout.split()[-2:] == [str(FRAME_CAP), str(FRAME_CAP)]
    env["TEXTUAL_FPS"] = "30"
    out = subprocess.run(run, capture_output=True, text=True, env=env, check=True, timeout=60)
    assert out.stdout.split()[-2:] == ["30", "30"]
