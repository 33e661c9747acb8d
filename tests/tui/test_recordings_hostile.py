"""Hostile and damaged recordings: nothing is skipped silently, nothing crashes.

Each recording is replayed headless (as ``crossroom replay --headless`` in a child process,
so a traceback or a hang would show) and into the screen (Pilot): the screen opens and
plays, or the command refuses with one line before the screen opens.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import events as ev
from engine.events import encode
from engine.replay import ReplayRoom, check_recording, open_replay
from tui.app import RoomApp

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("auth", "servers")


def started(*names: str) -> ev.RunStarted:
    clouds = tuple(
        ev.CloudInfo(name=n, label=n.upper(), region="r", provider="sim", nodes=1, steps=STEPS)
        for n in names
    )
    return ev.RunStarted(run_id="xr-20261201-000000-abcd", demo="Hostile", simulated=True,
                         clouds=clouds)  # fmt: skip


def show(*names: str) -> list[bytes]:
    lines = [encode(started(*names))]
    for i, name in enumerate(names):
        t = 1.0 + i
        lines += [
            encode(ev.CloudStarted(cloud=name, t=t)),
            encode(ev.StepStarted(cloud=name, step="auth", t=t)),
            encode(ev.StepFinished(cloud=name, step="auth", duration_s=0.5, t=t + 0.5)),
        ]
    return lines


def write(tmp_path: Path, lines: list[bytes], prefix: bytes = b"", tail: bytes = b"") -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(prefix + b"".join(line + b"\n" for line in lines) + tail)
    return path


def replay_headless(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "replay", "--headless", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


DEEP = b'{"kind":"notice","message":"x","extra":' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def damaged(tmp_path: Path) -> Path:
    """A good show with bad lines among its events: 5 of them, each of another kind."""
    lines = show("alpha", "beta")
    lines.insert(2, b"this is not json")
    lines.insert(3, b'{"kind":"from_the_future","x":1}')
    lines.insert(4, DEEP)
    lines.insert(5, b'{"kind":"step_started","cloud":7,"step":"auth"}')
    lines.append(encode(started("gamma")))  # a second run_started
    return write(tmp_path, lines, tail=b'{"kind":"notice","mess')  # torn last line


def test_skipped_lines_are_counted_named_and_fail_the_headless_replay(tmp_path: Path) -> None:
    done = replay_headless(damaged(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"crossroom: {tmp_path / 'events.jsonl'}: 6 events skipped: line 3: ")
    assert "line 4: unknown kind 'from_the_future'" in line
    assert "line 5: nested too deeply" in line
    assert line.endswith("; and 3 more")
    assert "alpha" in done.stdout and "beta" in done.stdout  # the good events still play


def test_every_reason_is_recorded(tmp_path: Path) -> None:
    from engine.recording import read_recording

    reader = read_recording(damaged(tmp_path))
    kinds = [e.kind for e in reader]
    assert kinds.count("run_started") == 1
    reasons = [s.reason for s in reader.skipped]
    assert [s.line for s in reader.skipped] == [3, 4, 5, 6, 12, 13]
    assert reasons[0].startswith("not an event: ")
    assert reasons[3].startswith("not an event: Expected `str`")
    assert reasons[4] == "a second run_started (a recording holds one run)"
    assert reasons[5] == "torn last line"


def test_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, show("alpha"), prefix=b"\xef\xbb\xbf")
    assert check_recording(path) is None
    done = replay_headless(path)
    assert done.returncode == 0, done.stderr
    assert "run xr-20261201-000000-abcd" in done.stdout


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (("alpha", "alpha"), "run_started: cloud 'alpha' is listed twice"),
        (("a.b",), "run_started: cloud name 'a.b' is not a valid cloud name"),
        (("[b]x",), "is not a valid cloud name"),
        (("\x1b]0;pwned\x07",), "is not a valid cloud name"),
    ],
)
def test_clouds_that_cannot_be_shown_are_one_line_exit_2(
    tmp_path: Path, names: tuple[str, ...], problem: str
) -> None:
    path = write(tmp_path, show(*names))
    done = replay_headless(path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"{path}:1: ") and problem in line
    assert "\x1b" not in done.stderr
    assert check_recording(path) == line  # the screen replay refuses before opening


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    done = replay_headless(fifo)
    assert done.returncode == 2
    assert done.stderr.strip() == f"{fifo}: is a FIFO (named pipe), not a file"


async def play(path: Path) -> RoomApp:
    app = RoomApp(lambda: open_replay(path, speed=64.0))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            if isinstance(app.room, ReplayRoom) and app.room.finished:
                break
            await pilot.pause(0.05)
        assert isinstance(app.room, ReplayRoom) and app.room.finished
        await pilot.pause(0.2)
        await pilot.press("q")
        await pilot.pause(0.2)
    return app


@pytest.mark.anyio
async def test_the_screen_plays_a_damaged_recording_and_says_what_it_skipped(
    tmp_path: Path,
) -> None:
    app = await play(damaged(tmp_path))
    assert app.return_code == 0
    messages = [n.message for n in app.state.notices]
    assert any(m.startswith("replay: 6 events skipped: line 3: ") for m in messages)
    assert set(app.state.clouds) == {"alpha", "beta"}  # the second run_started did not mount


@pytest.mark.anyio
async def test_the_screen_survives_clouds_it_cannot_show(tmp_path: Path) -> None:
    """Reached only when the file changed after ``check_recording``: one line on screen."""
    app = await play(write(tmp_path, show("alpha", "alpha")))
    assert app.return_code == 0
    assert "is listed twice" in app.state.notices[-2].message
    assert len(app.state.clouds) == 0


def test_a_flood_of_garbage_is_counted_not_kept(tmp_path: Path) -> None:
    path = write(tmp_path, [*show("alpha"), *([b"\x00garbage"] * 200_000)])
    done = replay_headless(path)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert ": 200000 events skipped: line 5: not an event: " in line
    assert line.endswith("; and 199997 more")
    from engine.recording import REASONS_KEPT, read_recording

    reader = read_recording(path)
    assert [e.kind for e in reader] == [
        "run_started",
        "cloud_started",
        "step_started",
        "step_finished",
    ]
    assert reader.skipped_count == 200_000 and len(reader.skipped) == REASONS_KEPT
