"""Pilot flows on the real rehearsal fleet at a high speed factor, keys only.

One show per test: start all, watch every pane join and the leaderboard fill; kill a
node and see it at once, then suspect, dead, and the cluster heal; tear down; quit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app, rehearsal_app
from scenes import mid_show
from textual import events
from textual.pilot import Pilot

from engine import events as ev
from tui.app import RoomApp
from tui.widgets.cloud_pane import CloudPane
from tui.widgets.leaderboard import Leaderboard
from tui.widgets.node_grid import NodeGrid
from tui.widgets.prompt_bar import PromptBar

pytestmark = pytest.mark.anyio

WIDE = (160, 48)


async def until(pilot: Pilot[Any], check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll the screen until ``check`` holds (real seconds; the fleet runs fast)."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


def text_of(widget: Any) -> str:
    """What a room widget shows right now, as plain text."""
    return "\n".join("".join(t for t, _ in line) for line in widget._lines)


def pane(app: RoomApp, cloud: str) -> CloudPane:
    return app.screen.query_one(f"#pane-{cloud}", CloudPane)


async def test_start_all_joins_every_pane_and_fills_the_leaderboard(tmp_path: Path) -> None:
    app = rehearsal_app(tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 10, "the run to start")
        clouds = app.state.cloud_order
        assert len(clouds) == 15
        await pilot.press("s")
        await until(
            pilot,
            lambda: all(c.status in ("joined", "failed") for c in app.state.cloud_list()),
            90,
            "every cloud to finish",
        )
        # A transient-heavy cloud may time out under load: retry it from its step, once.
        for cloud in [c.name for c in app.state.cloud_list() if c.status == "failed"]:
            await pilot.press(str(clouds.index(cloud) + 1) if clouds.index(cloud) < 10 else "1")
            app.focused_cloud = cloud
            await pilot.press("r")
        await until(
            pilot,
            lambda: all(c.status == "joined" for c in app.state.cloud_list()),
            60,
            "every cloud to join",
        )
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        for cloud in clouds:
            assert pane(app, cloud).has_class("-joined"), cloud
            assert "joined" in text_of(pane(app, cloud))
        board = text_of(app.screen.query_one("#leaderboard", Leaderboard))
        assert "15/15" in board, (app.screen, app.screen.query_one("#leaderboard")._lines)
        assert len(board.splitlines()) == 16

        # kill a node: the cell says "killed" at once, then suspect, then dead; it heals.
        await pilot.press("1", "k", "2")
        bar = app.screen.query_one(PromptBar)
        target = f"{clouds[0]}/node-2"
        assert f"KILL {target}" in bar.question
        # Send the answer without waiting for idle: at this speed the cluster calls the
        # node suspect a fraction of a real second later, and the kill must show before.
        app.post_message(events.Key("y", "y"))
        for _ in range(500):
            app.fold_inbox()
            if target in app.state.nodes and app.state.nodes[target].killed_t is not None:
                break
            await asyncio.sleep(0.001)
        app.refresh_view(slow=True, timers=True)
        assert app.state.nodes[target].liveness == "live"
        assert "killed" in text_of(pane(app, clouds[0]))
        assert "killed" in text_of(app.screen.query_one(NodeGrid))
        await until(pilot, lambda: app.state.nodes[target].liveness == "suspect", 30, "suspect")
        await until(pilot, lambda: app.state.nodes[target].liveness == "dead", 30, "dead")
        await until(pilot, lambda: app.state.health.under_replicated > 0, 30, "under-replication")
        await until(pilot, lambda: app.state.health.under_replicated == 0, 90, "healing")
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert "under-replicated 0" in text_of(app.screen.query_one("#summary-wide"))

        # tear down everything: asks first, then every pane ends torn down.
        await pilot.press("d")
        assert "TEAR DOWN" in bar.question
        await pilot.press("enter")
        await until(
            pilot,
            lambda: all(c.status == "torn_down" for c in app.state.cloud_list()),
            60,
            "teardown",
        )
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        for cloud in clouds:
            assert pane(app, cloud).has_class("-torn_down"), cloud
            assert "torn down" in str(pane(app, cloud).border_subtitle)
        await pilot.press("q")
        await pilot.pause(0.5)
    assert app.return_code == 0


async def test_quit_while_running_asks_first(tmp_path: Path) -> None:
    app = rehearsal_app(tmp_path, speed=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 10, "the run to start")
        await pilot.press("s")
        await until(
            pilot, lambda: any(c.status == "running" for c in app.state.cloud_list()), 10, "running"
        )
        await pilot.press("q")
        bar = app.screen.query_one(PromptBar)
        assert "QUIT? " in bar.question and "still running" in bar.question
        assert "keep their resources" in bar.question.replace("  ", " ")
        assert f"crossroom teardown --run {app.state.run_id}" in bar.question
        await pilot.press("n")  # any other key: stay
        await pilot.pause()
        assert app.is_running and not bar.question
        await pilot.press("q", "y")
        await pilot.pause(1.0)
    assert app.return_code == 0


async def test_armed_mode_kills_without_asking_and_says_so() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 5, "events")
        await pilot.press("a")
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        header = text_of(app.screen.query_one("#header"))
        assert "ARMED" in header
        await pilot.press("4", "k", "1")
        await pilot.pause()
        assert room.calls[-1] == ("kill", "ibm/node-1")
        await until(pilot, lambda: app.state.nodes["ibm/node-1"].killed_t is not None, 2, "kill")
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        assert "killed 0.0s" in text_of(pane(app, "ibm"))


async def test_destructive_keys_name_the_target_and_any_other_key_declines() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 5, "events")
        bar = app.screen.query_one(PromptBar)
        await pilot.press("4", "x")
        assert "KILL ibm: kill cloud (stop every server, all 3 nodes at once)?" in bar.question
        await pilot.press("escape")
        assert not bar.question and room.calls == []
        await pilot.press("v")
        assert "Stop which server of IBM?" in bar.question
        await pilot.press("3")
        assert "KILL ibm/server-3: stop server (stop the VM and node-3 on it" in bar.question
        await pilot.press("y")
        await pilot.pause()
        assert room.calls == [("kill", "ibm/server-3")]
        # Each fault is its own key, and the bar names the exact target and the fault.
        await pilot.press("b", "2")
        assert "KILL ibm/pod-2: restart pod (node" in bar.question
        assert "the StatefulSet brings it back on the same node, same node ID" in bar.question
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("k", "1")
        assert "KILL ibm/node-1: stop node (node" in bar.question
        assert "cordon its Kubernetes node and delete its pod" in bar.question
        await pilot.press("y")
        await pilot.pause()
        assert room.calls[1:] == [("kill", "ibm/pod-2"), ("kill", "ibm/node-1")]


async def test_the_ssh_and_partition_faults_have_keys_that_name_target_and_fault() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 5, "events")
        bar = app.screen.query_one(PromptBar)
        await pilot.press("4", "h", "2")
        assert "KILL ibm/crash-2: crash process (node" in bar.question
        assert "SIGKILL its cockroach process over SSH" in bar.question
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("f", "1")
        assert "KILL ibm/freeze-1: freeze process (node" in bar.question
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("i")
        assert "KILL ibm/partition: partition cloud (cut IBM's nodes off" in bar.question
        await pilot.press("y")
        await pilot.pause()
        assert room.calls == [
            ("kill", "ibm/crash-2"),
            ("kill", "ibm/freeze-1"),
            ("kill", "ibm/partition"),
        ]


async def test_retry_and_cancel_reach_the_focused_cloud() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 5, "events")
        order = app.state.cloud_order
        app.focused_cloud = "t2cloud"
        await pilot.press("r")
        await pilot.pause()
        assert ("retry", "t2cloud") in room.calls
        await pilot.press("5", "c")
        assert order[4] == "netapp"
        await pilot.press("enter")
        await pilot.pause()
        assert ("cancel", "netapp") in room.calls


async def test_a_restarting_pod_and_a_cloud_without_its_api_say_so() -> None:
    events_ = [
        *mid_show(),
        ev.KillIssued(t=131.0, target="ibm/pod-2", target_kind="pod", nodes=("ibm/node-2",)),
        ev.CloudApiObserved(t=131.0, cloud="ibm", reachable=False, detail="ibm/server-1"),
    ]
    app = frozen_app(ScriptedRoom(events_))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: "ibm" in app.state.clouds, 5, "events")
        await until(pilot, lambda: app.state.clouds["ibm"].api_stale_since_t is not None, 5, "api")
        app.refresh_view(slow=True, timers=True)
        await pilot.pause()
        text = text_of(pane(app, "ibm"))
        assert "restarting" in text  # a pod restart, not a stopped node
        assert "stale" in text  # what the pane shows of ibm's pods is its last word
