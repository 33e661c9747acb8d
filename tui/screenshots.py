"""Pictures of the room, made by replaying a recording into the real screen, headless.

The report's screenshots and the README's picture come from here. The recording plays
in a ``ReplayRoom`` at its fastest speed inside ``App.run_test`` (Textual's headless
driver: no terminal needed), pausing at each chosen marker (cues; in a show without a
run-sheet, each fault and the moment the last cloud joined) and at the end; each pause is
one ``export_screenshot()`` SVG. The header clock and the timers are frozen to the
recording's own times, so the same recording gives the same pictures.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from engine import events as ev
from engine.replay import SPEEDS, ReplayRoom, open_replay
from engine.report_html import without_web_fonts
from engine.room_api import RoomCommands
from engine.show_summary import Marker, marker_of, summarize_recording

SHOT_SIZE = (160, 48)
"""Terminal cells of a report screenshot (the room's wide layout)."""
README_SIZE = SHOT_SIZE
MAX_SHOTS = 8
"""Screenshots per report at most (the end included), so a long show stays quick."""
SETTLE_S = 0.05
"""How long to let the screen fold and paint before a picture is taken."""
README_SEED = 7
README_KILL = "vexxhost/node-2"
README_SPEED = 100.0
"""Demo seconds per real second of the picture's rehearsal: the pace ``crossroom run
--speed 100`` is tested at; much faster and a loaded machine falls behind the fleet's
own timeouts (at 500, on two busy cores, most clouds timed out)."""


def chosen_stops(markers: tuple[Marker, ...], limit: int = MAX_SHOTS - 1) -> list[Marker]:
    """Cues; without any, each fault and the last join. At most ``limit``, spread evenly."""
    stops = [m for m in markers if m.kind == "cue"]
    if not stops:
        joins = [m for m in markers if m.kind == "join"]
        stops = sorted([*joins[-1:], *(m for m in markers if m.kind == "kill")], key=_t)
    if len(stops) <= limit:
        return stops
    step = len(stops) / limit
    return [stops[int(i * step)] for i in range(limit)]


def _t(m: Marker) -> float:
    return m.t


async def _pictures(
    path: Path, stops: list[Marker], size: tuple[int, int], end_only: bool = False
) -> list[tuple[str, str]]:
    from tui.app import RoomApp

    wanted = {(m.t, m.label) for m in stops}
    seen: list[Marker] = []

    def pause_here(event: ev.Event) -> bool:
        marker = marker_of(event)
        if marker is None or (marker.t, marker.label) not in wanted:
            return False
        wanted.discard((marker.t, marker.label))
        seen.append(marker)
        return True

    rooms: list[ReplayRoom] = []

    @asynccontextmanager
    async def opener() -> AsyncIterator[RoomCommands]:
        pause_at = None if end_only else pause_here
        async with open_replay(path, SPEEDS[-1], pause_at, instant=True) as room:
            rooms.append(room)
            yield room

    first_wall = _first_wall(path)
    app = RoomApp(opener, wall=lambda: first_wall, monotonic=lambda: 0.0)
    shots: list[tuple[str, str]] = []
    async with app.run_test(size=size) as pilot:
        while not rooms:
            await pilot.pause(SETTLE_S)
        room = rooms[0]
        while True:
            await room.wait_halted()
            for _ in range(2):  # fold what arrived, paint, and once more for late widgets
                app.fold_inbox()
                app.refresh_view(slow=True, timers=True)
                await pilot.pause(SETTLE_S)
            caption = (
                f"{seen[-1].t:.0f} s: {seen[-1].label}"
                if room.paused and seen
                else f"{room.position:.0f} s: the end"
            )
            picture = app.export_screenshot(title=f"crossroom · {caption}")
            shots.append((caption, without_web_fonts(picture)))
            if room.finished:
                break
            await room.toggle_pause()
        await app.leave()
    return shots


def _first_wall(path: Path) -> float:
    """The recording's start in Unix time (the frozen header clock)."""
    summary_wall = summarize_recording(path).started_wall
    return summary_wall if summary_wall is not None else 0.0


def recording_screenshots(
    path: Path, size: tuple[int, int] = SHOT_SIZE, limit: int = MAX_SHOTS
) -> list[tuple[str, str]]:
    """(caption, SVG) pictures of the room at each chosen marker and at the end."""
    stops = chosen_stops(summarize_recording(path).markers, max(0, limit - 1))
    return asyncio.run(_pictures(path, stops, size))


async def _rehearse(state_dir: Path, seed: int) -> Path:
    """A seeded rehearsal show: every cloud joins, then one node is stopped."""
    from engine.room import open_room
    from engine.room_api import RoomOptions
    from engine.sim.fleet import rehearsal_demo

    options = RoomOptions(seed=seed, speed=README_SPEED, state_dir=state_dir)
    async with open_room(rehearsal_demo(), options) as room:
        await room.start()
        await room.wait_idle()
        await room.clock.sleep(10.0)
        await room.kill(README_KILL)
        await room.clock.sleep(12.0)
        run_dir = room.state.run_dir
    return Path(run_dir) / "events.jsonl"


def write_readme_picture(target: Path, seed: int = README_SEED) -> None:
    """The README's picture of the room: a seeded rehearsal, the room just after a kill."""
    with tempfile.TemporaryDirectory(prefix="crossroom-picture-") as tmp:
        recording = asyncio.run(_rehearse(Path(tmp), seed))
        ((_, svg),) = asyncio.run(_pictures(recording, [], README_SIZE, end_only=True))
    target.write_text(svg, encoding="utf-8")
