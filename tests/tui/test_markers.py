"""Replay markers: ``]`` and ``[`` jump between cues, joins, faults and revives, and
``--pause-at-markers`` stops at each.

The recording is written here, one event a line, as the room writes one: a show recorded
at speed 1 whose markers are minutes apart, so only a jump can reach them in a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from engine import events as ev
from engine.replay import ReplayRoom, at_markers, open_replay
from engine.room_api import RoomCommands
from tui.app import RoomApp

JOIN_T, KILL_T, REVIVE_T, END_T = 100.0, 200.0, 300.0, 400.0


def write_recording(path: Path) -> Path:
    clouds = (ev.CloudInfo(name="alpha", label="Alpha", nodes=1, steps=("boot",)),)
    events: list[ev.Event] = [
        ev.RunStarted(run_id="xr-1", demo="markers", simulated=True, speed=1.0, clouds=clouds),
        ev.CloudStarted(cloud="alpha", t=1.0),
        ev.StepStarted(cloud="alpha", step="boot", t=1.0),
        ev.StepFinished(cloud="alpha", step="boot", duration_s=98.0, t=99.0),
        ev.NodeObserved(node="alpha/node-1", cloud="alpha", liveness="live", t=99.5),
        ev.CloudJoined(cloud="alpha", time_to_join_s=99.0, t=JOIN_T),
        ev.WorkloadSample(ops_per_s=10, t=150.0),
        ev.KillIssued(target="alpha/node-1", target_kind="node", nodes=("alpha/node-1",), t=KILL_T),
        ev.WorkloadSample(ops_per_s=5, t=250.0),
        ev.ReviveIssued(
            target="alpha/node-1", target_kind="node", nodes=("alpha/node-1",), t=REVIVE_T
        ),
        ev.WorkloadSample(ops_per_s=10, t=END_T),
    ]
    path.write_bytes(b"".join(ev.encode(e) + b"\n" for e in events))
    return path


async def until(condition: Callable[[], bool], pause: Callable[[], object]) -> None:
    """Wait for ``condition`` (generously bounded: a failure, not a hang)."""
    for _ in range(400):
        if condition():
            return
        await pause()  # type: ignore[misc]
    raise AssertionError("condition never held")


@pytest.mark.anyio
async def test_pause_at_markers_stops_at_each(tmp_path: Path) -> None:
    recording = write_recording(tmp_path / "events.jsonl")
    room = ReplayRoom(recording, speed=64.0, pause_at=at_markers, instant=True)
    halts: list[float] = []
    async with asyncio.timeout(60):
        task = asyncio.create_task(room.run())
        while True:
            await room.wait_halted()
            halts.append(room.state.t)
            if room.finished:
                break
            assert room.paused
            await room.toggle_pause()
        task.cancel()
    assert halts == [JOIN_T, KILL_T, REVIVE_T, END_T]


def replay_app(recording: Path, rooms: list[ReplayRoom]) -> RoomApp:
    @asynccontextmanager
    async def opener() -> AsyncIterator[RoomCommands]:
        async with open_replay(recording, speed=1.0) as room:
            rooms.append(room)
            yield room

    return RoomApp(opener, wall=lambda: 0.0, monotonic=lambda: 0.0)


@pytest.mark.anyio
async def test_brackets_jump_to_the_next_and_previous_marker(tmp_path: Path) -> None:
    recording = write_recording(tmp_path / "events.jsonl")
    rooms: list[ReplayRoom] = []
    app = replay_app(recording, rooms)
    async with app.run_test(size=(120, 40)) as pilot:

        async def tick() -> None:
            await pilot.pause(0.05)

        await until(lambda: bool(rooms) and app.state.run_id == "xr-1", tick)
        room = rooms[0]
        # At the recorded pace the cloud starts a second in, and joins 99 s later.
        await until(lambda: app.state.clouds["alpha"].status == "running", tick)

        await pilot.press("right_square_bracket")
        await until(lambda: app.state.clouds["alpha"].status == "joined", tick)
        assert room.position == pytest.approx(JOIN_T, abs=1.0)
        assert not app.state.kills

        await pilot.press("right_square_bracket")
        await until(lambda: len(app.state.kills) == 1, tick)
        assert room.position == pytest.approx(KILL_T, abs=1.0)

        # Back: the recording starts over and the screen folds afresh up to the join.
        await pilot.press("left_square_bracket")
        await until(lambda: not app.state.kills and room.position < KILL_T, tick)
        assert app.state.clouds["alpha"].status == "joined"
        assert room.position == pytest.approx(JOIN_T, abs=1.0)

        # Nothing before the first marker: refused with a reason, the replay stays put.
        assert not (await room.previous_marker()).accepted

        # Paused stays paused at the marker it jumps to (a narrated replay).
        await pilot.press("space")
        await until(lambda: room.paused, tick)
        await pilot.press("right_square_bracket")
        await until(lambda: len(app.state.kills) == 1, tick)
        await pilot.pause(0.3)
        assert room.paused and room.position == pytest.approx(KILL_T, abs=0.01)
        assert not any(isinstance(n, ev.ReviveIssued) for n in app.state.notices)
        await app.leave()


@pytest.mark.anyio
async def test_the_live_room_refuses_markers() -> None:
    from engine.room import Room

    reply = await Room.next_marker(None)  # type: ignore[arg-type]
    assert not reply.accepted and reply.reason == "not a replay"
    reply = await Room.previous_marker(None)  # type: ignore[arg-type]
    assert not reply.accepted and reply.reason == "not a replay"


@pytest.mark.anyio
async def test_replay_command_pauses_at_markers_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``crossroom replay FILE --pause-at-markers`` opens the screen on a replay that stops
    at each marker (the opener it hands the screen is entered here, without a terminal)."""
    from tui.cli import build_parser
    from tui.commands import screen

    recording = write_recording(tmp_path / "events.jsonl")
    openers: list[Callable[[], object]] = []
    monkeypatch.setattr(screen, "open_screen", lambda opener, theme: openers.append(opener) or 0)
    for flag, expected in (("--pause-at-markers", at_markers), (None, None)):
        argv = ["replay", str(recording), *([flag] if flag else [])]
        args = build_parser(argv).parse_args(argv)
        assert args.func(args) == 0
        async with openers[-1]() as room:  # type: ignore[attr-defined]
            assert isinstance(room, ReplayRoom) and room.pause_at is expected


def test_screenshots_stop_at_cues_else_faults_and_stay_bounded() -> None:
    from engine.show_summary import Marker
    from tui.screenshots import chosen_stops

    joins = [Marker(float(t), "join", f"c{t} joined") for t in range(10)]
    kills = [Marker(100.0 + t, "kill", f"node c{t}/node-1") for t in range(3)]
    cues = [Marker(200.0 + t, "cue", f"cue {t}") for t in range(20)]
    # Without a run-sheet: the last join and every fault.
    assert chosen_stops((*joins, *kills)) == [joins[-1], *kills]
    # With one: its cues only, at most the limit, spread over the show, in order.
    stops = chosen_stops((*joins, *kills, *cues), limit=7)
    assert len(stops) == 7 and all(m.kind == "cue" for m in stops)
    assert stops[0] == cues[0] and stops == sorted(stops, key=lambda m: m.t)


@pytest.mark.anyio
async def test_going_back_keeps_one_pass_for_a_late_screen(tmp_path: Path) -> None:
    """A late screen catches up on the recording once, however often the replay went back;
    a screen that was there all along gets the new pass (from its ``run_started``)."""
    recording = write_recording(tmp_path / "events.jsonl")
    room = ReplayRoom(recording, speed=64.0, pause_at=at_markers, instant=True)
    early: list[ev.Event] = []
    room.subscribe(early.append)
    async with asyncio.timeout(60):
        task = asyncio.create_task(room.run())
        await room.wait_halted()  # at the join
        await room.next_marker()  # to the kill (paused stays paused)

        def nap() -> object:
            return asyncio.sleep(0.01)

        await until(lambda: room.position >= KILL_T, nap)
        for _ in range(3):
            assert (await room.previous_marker()).accepted
            await until(lambda: room.marker_times[-1:] == [JOIN_T], nap)
            await room.next_marker()
            await until(lambda: room.marker_times[-1:] == [KILL_T], nap)
        late: list[ev.Event] = []
        room.subscribe(late.append)
        task.cancel()
    assert sum(isinstance(e, ev.RunStarted) for e in late) == 1
    assert sum(isinstance(e, ev.KillIssued) for e in late) == 1
    assert sum(isinstance(e, ev.RunStarted) for e in early) == 4
    assert len(room.state.kills) == 1
