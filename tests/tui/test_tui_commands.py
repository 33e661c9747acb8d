"""``crossroom`` (the screen) and ``crossroom replay``: what they refuse before the
terminal is taken, and replay into the same screen with pause and speed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scenes import mid_show
from textual.theme import Theme

from engine.events import encode
from engine.replay import ReplayRoom, open_replay
from themes.palette import THEMES, check_themes, next_theme, theme_errors
from tui.app import RoomApp
from tui.commands.replay import print_recording
from tui.commands.screen import check_screen_options

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad_configs"


def crossroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_config_is_one_line_errors_and_exit_2() -> None:
    done = crossroom("--config", str(BAD / "duplicate_cloud.yaml"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "duplicate_cloud.yaml:" in done.stderr
    assert done.stdout == ""


def test_unknown_theme_is_refused_before_the_screen_opens() -> None:
    done = crossroom("--theme", "neon")
    assert done.returncode == 2
    assert "--theme: no theme named 'neon' (themes: stage, light, mono)" in done.stderr


def test_theme_colours_are_checked() -> None:
    assert check_themes() == []
    assert check_screen_options("stage") == []
    bad = Theme(name="bad", primary="not-a-colour", variables={"node-live": "#12345"})
    problems = theme_errors(bad)
    assert "theme bad: primary: 'not-a-colour' is not a colour" in problems
    assert "theme bad: $node-live: '#12345' is not a colour" in problems
    assert "theme bad: $node-dead is not set" in problems
    assert [next_theme(t.name) for t in THEMES] == ["light", "mono", "stage"]


def recording(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(encode(e) + b"\n" for e in mid_show()))
    return path


def test_replay_headless_prints_step_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert print_recording(recording(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "crossroom: OpenStack Interop Challenge (rehearsal) - run xr-20261127-051200-a1b2" in out
    assert "canonical     resolve         finished (6.0s)" in out
    assert "JOINED in" in out
    assert "security_group  FAILED after 3.0s: quota exceeded" in out


def test_replay_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    done = crossroom("replay", "--headless", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2
    assert "no such file" in done.stderr


@pytest.mark.anyio
async def test_replay_plays_into_the_screen_with_pause_and_speed(tmp_path: Path) -> None:
    path = recording(tmp_path)
    app = RoomApp(lambda: open_replay(path, speed=64.0))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            if isinstance(app.room, ReplayRoom) and app.room.position > 5:
                break
            await pilot.pause(0.05)
        room = app.room
        assert isinstance(room, ReplayRoom)
        await pilot.press("space")
        assert room.paused
        held = room.position
        await pilot.pause(0.3)
        assert room.position == held
        app.refresh_view()
        await pilot.pause()
        header = "".join(t for line in app.screen.query_one("#header")._lines for t, _ in line)
        assert "REPLAY ⏸ paused x64" in header
        await pilot.press("space", "plus")
        assert not room.paused and room.speed == 64.0  # already the fastest
        await pilot.press("minus", "minus")
        assert room.speed == 16.0
        await pilot.press("plus")
        for _ in range(200):
            if room.finished:
                break
            await pilot.pause(0.05)
        assert room.finished
        await pilot.pause(0.3)
        assert app.state.clouds["canonical"].status == "joined"
        await pilot.press("s", "k", "d")  # show and chaos keys are off in a recording
        await pilot.pause(0.2)
        assert app.state.notices[-1].message == "replay: end of the recording"
        await room.kill("canonical/node-1")  # and the commands themselves only say so
        await pilot.pause(0.2)
        assert "kill canonical/node-1 does nothing" in app.state.notices[-1].message
        await pilot.press("q")
        await pilot.pause(0.3)
    assert app.return_code == 0
