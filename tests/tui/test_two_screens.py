"""Two presenters' screens on one show: a kill from one appears on the other at once.

One real engine process (``spawn_show``, the rehearsal fleet at speed 100) and two room
Apps driven by Pilot in this test, each attached over the engine's socket
(``attach_room``), as a second laptop or a tmux pane on the jump host would be. Focus,
prompts and armed mode stay per screen. A read-only (audience) client's kill is refused
by the engine itself, not by a view.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from textual.pilot import Pilot

from engine.engine_process import ShowAddress, spawn_show
from engine.room_api import RoomOptions
from engine.room_client import attach_room
from tui.app import RoomApp
from tui.widgets.prompt_bar import PromptBar

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

GENEROUS_S = 60.0


@pytest.fixture
def show(short_dir: Path) -> Iterator[ShowAddress]:
    """A rehearsal in its own engine process; killed afterwards if the test left it
    running."""
    address = spawn_show(None, RoomOptions(speed=100.0, state_dir=short_dir))
    yield address
    with contextlib.suppress(ProcessLookupError):
        os.kill(address.pid, signal.SIGKILL)


async def until(pilot: Pilot[Any], check: Callable[[], bool], what: str) -> None:
    with anyio.fail_after(GENEROUS_S, shield=False):
        while not check():
            await pilot.pause(0.05)
    assert check(), what


def screen_on(address: ShowAddress) -> RoomApp:
    return RoomApp(lambda: attach_room(address.socket_path))


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_a_kill_from_one_screen_appears_on_the_other(show: ShowAddress) -> None:
    one, two = screen_on(show), screen_on(show)
    async with one.run_test(size=(160, 48)) as p1, two.run_test(size=(160, 48)) as p2:
        await until(p1, lambda: one.room is not None and bool(one.state.cloud_order), "one")
        await until(p2, lambda: two.room is not None and bool(two.state.cloud_order), "two")
        await p1.press("s")
        first = one.state.cloud_order[0]
        target = f"{first}/node-1"

        def live(app: RoomApp) -> bool:
            node = app.state.nodes.get(target)
            return node is not None and node.liveness == "live"

        await until(p1, lambda: live(one) and live(two), "the first cloud's nodes live on both")

        # Per screen: screen two moves its focus and arms; screen one is unchanged.
        await p2.press("tab", "a")
        assert two.armed and not one.armed
        assert one.focused_cloud == first and two.focused_cloud != first

        # Screen one kills node 1 of the first cloud (not armed: it asks first).
        await p1.press("k", "1")
        assert "KILL" in one.screen.query_one(PromptBar).question
        assert two.questions.prompt is None  # the question is screen one's
        await p1.press("y")
        await until(p2, lambda: any(k.target == target for k in two.state.kills), "kill on two")
        await until(p2, lambda: two.state.nodes[target].killed_t is not None, "node hit on two")
        assert [k.target for k in one.state.kills] == [k.target for k in two.state.kills]

        # A read-only client asks for a kill: the engine refuses it and nothing happens.
        async with attach_room(show.socket_path, role="audience") as audience:
            reply = await audience.kill(f"{first}/node-2")
            assert not reply.accepted and "read-only" in reply.reason
            await anyio.sleep(0.5)
            assert all(k.target != f"{first}/node-2" for k in audience.state.kills)
        await p2.pause(0.2)
        assert all(k.target != f"{first}/node-2" for k in two.state.kills)
        assert all(k.target != f"{first}/node-2" for k in one.state.kills)

        # Both quit: a rehearsal, so each just quits, and when the last presenter has
        # left, the engine stops by itself.
        await p1.press("q")
        await p2.press("q")
    with anyio.fail_after(GENEROUS_S):
        while running(show.pid):  # noqa: ASYNC110 (another process: nothing to await)
            await anyio.sleep(0.1)
    assert not show.socket_path.exists()
