"""The preflight check screen: `p` asks the room, the answers show as they arrive."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import rehearsal_app
from test_tui_flows import WIDE, until
from textual.widgets import Static

from tui.screens.check import CheckScreen

pytestmark = pytest.mark.anyio


async def test_p_checks_every_cloud_and_any_key_closes(tmp_path: Path) -> None:
    app = rehearsal_app(tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: bool(app.state.cloud_order), 10, "the run to start")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, CheckScreen), 5, "the check screen")
        await until(
            pilot,
            lambda: all(c.preflight_ok for c in app.state.cloud_list()),
            10,
            "every cloud's answer",
        )
        await pilot.pause(0.6)  # the screen refreshes twice a second
        text = str(app.screen.query_one("#check-text", Static).render())
        assert "15/15 ready, 0 still checking" in text
        assert "simulated cloud: nothing to check" in text
        await pilot.press("x")  # any key closes; it must not reach the room as a kill
        assert not isinstance(app.screen, CheckScreen)
        assert app.state.kills == ()
