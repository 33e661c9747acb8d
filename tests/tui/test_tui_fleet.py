"""1 to 200 clouds at any size from the minimum up: the table follows the focus and sums
up the rest, the node grid fits 600 nodes, and the too-small notice depends on the
terminal alone.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from rich.segment import Segment
from scenes import mid_show
from textual.pilot import Pilot
from textual.strip import Strip

from engine import events as ev
from tui.app import RoomApp
from tui.screens.room import MIN_SIZE, RoomScreen, layout_for
from tui.widgets.cloud_pane import CloudPane
from tui.widgets.cloud_table import CloudTable
from tui.widgets.lines import ELLIPSIS, RoomLines
from tui.widgets.node_grid import NodeGrid

pytestmark = pytest.mark.anyio

SIZES = [(80, 24), (160, 48)]


def text_of(widget: Any) -> str:
    return "\n".join("".join(t for t, _ in line) for line in widget._lines)


async def settle(pilot: Pilot[Any]) -> RoomApp:
    app = pilot.app
    assert isinstance(app, RoomApp)
    for _ in range(200):
        if app.ticks_with_events and app.state.cloud_order:
            break
        await pilot.pause(0.02)
    app.refresh_view(slow=True, timers=True)
    await pilot.pause()
    return app


def table(app: RoomApp) -> CloudTable:
    screen = app.screen
    assert isinstance(screen, RoomScreen)
    return screen.query_one("#wide-table" if screen.layout_name == "wide" else "#table", CloudTable)


def all_nodes_live(n: int, per_cloud: int) -> list[ev.Event]:
    """``mid_show`` with every node of every cloud observed (``n * per_cloud`` nodes)."""
    events = mid_show(n, per_cloud)
    start = events[0]
    assert isinstance(start, ev.RunStarted)
    for i, cloud in enumerate(start.clouds):
        for k in range(1, per_cloud + 1):
            events.append(
                ev.NodeObserved(
                    node=f"{cloud.name}/node-{k}",
                    cloud=cloud.name,
                    liveness="dead" if (i, k) == (7, 2) else "live",
                    node_id=i * per_cloud + k,
                    t=131.0,
                )
            )
    return events


@pytest.mark.parametrize("clouds", [1, 18, 100, 200])
def test_the_minimum_size_does_not_grow_with_the_fleet(clouds: int) -> None:
    assert layout_for(80, 24, clouds) == "narrow"
    assert layout_for(160, 48, clouds) == "wide"
    assert layout_for(MIN_SIZE[0] - 1, 24, clouds) == "tiny"
    assert layout_for(80, MIN_SIZE[1] - 1, clouds) == "tiny"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_100_clouds_focus_reaches_every_cloud_and_the_table_follows(
    size: tuple[int, int],
) -> None:
    app = frozen_app(ScriptedRoom(mid_show(100)))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RoomScreen)
        assert screen.layout_name != "tiny"
        assert not screen.query(CloudPane)  # no pane per cloud mounted when they cannot fit
        order = app.state.cloud_order
        seen: set[str] = set()
        for step in range(len(order)):
            assert app.focused_cloud == order[step]
            rows = text_of(table(app)).splitlines()
            focused = [r for r in rows if r.startswith("▌")]
            label = app.state.clouds[order[step]].label
            assert len(focused) == 1 and label[:8] in focused[0], (step, focused)
            hidden = rows[-1]
            assert "more:" in hidden
            counts = [int(w) for w in hidden.split("more:")[1].split() if w.isdigit()]
            shown = len(rows) - 2
            assert sum(counts[:3]) <= len(order) - shown
            seen.add(order[step])
            await pilot.press("tab")
        assert seen == set(order) and app.focused_cloud == order[0]
        await pilot.press("shift+tab")
        assert app.focused_cloud == order[-1]
        assert app.state.clouds[order[-1]].label in text_of(table(app))
        await pilot.press("up", "up")
        assert app.focused_cloud == order[-3]
        await pilot.press("4")
        assert app.focused_cloud == order[3]
        assert "▌4" in text_of(table(app))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_rest_of_the_fleet_is_summed_up_joined_running_failed(
    size: tuple[int, int],
) -> None:
    app = frozen_app(ScriptedRoom(mid_show(100)))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        rows = text_of(table(app)).splitlines()
        clouds = app.state.cloud_list()
        shown = len(rows) - 2  # the head and the rest line
        assert all(c.label[:8] in r for c, r in zip(clouds[:shown], rows[1:-1], strict=True))
        hidden = clouds[shown:]
        rest = rows[-1]
        assert f"↑ 0 ↓ {len(hidden)} more" in rest
        for status, word in (("joined", "joined"), ("running", "running"), ("failed", "failed")):
            n = sum(1 for c in hidden if c.status == status)
            assert f"{n} {word}" in rest, (n, word, rest)


async def test_600_nodes_fit_the_node_grid_summed_per_cloud() -> None:
    app = frozen_app(ScriptedRoom(all_nodes_live(100, 6)))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(NodeGrid)
        assert len(app.state.nodes) == 600
        text = text_of(grid)
        assert "600 seen" in text
        assert len(grid._lines) <= grid.rows
        assert "●599" in text and "✖1" in text  # the sums: 599 live, 1 dead
        assert grid.region.bottom <= app.screen.query_one("#leaderboard").region.y
        await pilot.press("8")
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert "Rackspace" in text_of(grid).splitlines()[-1]  # the focused cloud in words


@pytest.mark.parametrize("clouds", [1, 15, 40, 200])
async def test_any_fleet_fits_the_small_terminal(clouds: int) -> None:
    app = frozen_app(ScriptedRoom(mid_show(clouds)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RoomScreen) and screen.layout_name == "narrow"
        rows = text_of(table(app)).splitlines()
        assert len(rows) <= table(app).size.height
        if clouds < 17:
            assert "more:" not in rows[-1]
        else:
            assert "more:" in rows[-1]


@pytest.mark.parametrize("width", [60, 72, 80])
async def test_the_header_clock_stays_whole_when_the_name_gives_way(width: int) -> None:
    app = frozen_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")  # the ARMED badge takes most of the line
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        header = text_of(app.screen.query_one("#header"))
        assert header.rstrip().endswith("08:00:00"), header
        assert "ARMED" in header


def reaches_itself(obj: object, depth: int = 4) -> bool:
    """Whether ``obj`` is among the objects it refers to, up to ``depth`` steps away."""
    seen: set[int] = set()
    frontier = gc.get_referents(obj)
    for _ in range(depth):
        nxt: list[object] = []
        for ref in frontier:
            if ref is obj:
                return True
            if id(ref) not in seen and not isinstance(ref, str | int | float | type):
                seen.add(id(ref))
                nxt.extend(gc.get_referents(ref))
        frontier = nxt
    return False


async def test_painted_rows_are_not_reference_cycles() -> None:
    """Rows that hold themselves are freed only by a full collection, which the room runs
    rarely (key latency): under a log flood they piled up and the RSS crept."""
    app = frozen_app(ScriptedRoom(mid_show()))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        strips = [s for w in app.screen.query(RoomLines) for s in w._strips.values()]
        assert len(strips) > 100
        assert not [s for s in strips if reaches_itself(s)]


async def test_rows_cut_at_the_content_edge_stay_out_of_richs_split_cache() -> None:
    """A changed row is cropped where the pane's content ends (its border is not dirty).
    Rich splits a segment that is not all plain Latin through a cache of 16,384 entries,
    even at its very end: every fitted log line of a flood took an entry."""
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        running = [c for c, s in app.state.clouds.items() if s.status == "running"]
        pane = next(p for p in app.screen.query(CloudPane) if p.cloud == running[0])
        width = pane.size.width
        Segment._split_cells.cache_clear()
        shown = set()
        for n in range(200):
            line = f"{n:08d} GET /v2.1/servers/{pane.cloud}-server-1 -> 200 " + "x" * width
            room.publish(ev.LogLines(cloud=pane.cloud, lines=(line,), t=app.state.t))
            app.fold_inbox()
            app.refresh_view(slow=True)
            pane.show(replace(app.view, tick=pane.index))  # the pane's turn to show its log
            for y in range(len(pane._lines)):
                row = pane.render_line(y)
                if row.text.endswith(ELLIPSIS):
                    shown.add(row.text)
                in_border = Strip.join([Strip.blank(1), row, Strip.blank(1)])
                assert in_border.crop(0, 1 + width).text == " " + row.text
        assert len(shown) >= 200  # every new line was shown, cut to the width
        assert Segment._split_cells.cache_info().currsize <= 4
