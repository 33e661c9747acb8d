"""Screens on a real Unix socket against a real rehearsal room: commands, read-only screens,
slow screens, catch-up, bad peers and the engine's lifetime.

These run on asyncio in real time (not trio's virtual clock): the sockets are real, and a
virtual clock would fire every timeout while a task waits on one.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from engine import events as ev
from engine import room_client, wire
from engine.hub import EventHub
from engine.room import Room, open_room
from engine.room_api import RoomOptions
from engine.room_client import AttachRefused, attach_room
from engine.room_server import RoomServer, ShowFacts
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState, apply

pytestmark = pytest.mark.anyio

SPEED = 400.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def served(
    tmp_path: Path, *, rehearsal: bool = True, **server_options: Any
) -> AsyncIterator[tuple[Room, RoomServer, Path]]:
    """A rehearsal room served on a socket in its run dir; stopped on exit."""
    demo = rehearsal_demo()
    options = RoomOptions(seed=3, speed=SPEED, state_dir=tmp_path, record=False)
    async with open_room(demo, options) as room:
        facts = ShowFacts(room.run_dir.run_id, demo.name, rehearsal)
        server = RoomServer(room, facts, **server_options)
        path = room.run_dir.socket
        async with anyio.create_task_group() as tg:
            await tg.start(server.serve, path)
            try:
                yield room, server, path
            finally:
                server.stop("test over")


def comparable(state: RoomState) -> RoomState:
    """A screen's fold equals the engine's except ``log_count``: catch-up carries each
    cloud's latest log batches (``engine.hub.LOG_HISTORY_PER_CLOUD``), not every line ever."""
    clouds = {name: replace(c, log_count=0) for name, c in state.clouds.items()}
    return replace(state, clouds=state.clouds.update(clouds))  # type: ignore[attr-defined]


async def until(condition: Any, seconds: float = 10.0) -> None:
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - polls what other tasks and sockets change
            await anyio.sleep(0.01)


async def flood(
    hub: EventHub, batches: int, clouds: list[str], width: int = 200, burst: int = 100
) -> None:
    """Publish ``batches`` log batches straight into the hub, ``burst`` at a time with the
    loop free in between (as a busy fleet would)."""
    for n in range(batches):
        cloud = clouds[n % len(clouds)]
        hub.publish(ev.LogLines(cloud=cloud, lines=(f"{n:08d} " + "x" * width,)))
        if n % burst == burst - 1:
            await anyio.lowlevel.checkpoint()


# --- commands between screens ------------------------------------------------------------


async def test_a_kill_from_one_screen_shows_on_the_other(tmp_path: Path) -> None:
    async with (
        served(tmp_path) as (room, _server, path),
        attach_room(path) as first,
        attach_room(path) as second,
    ):
        assert (await first.start(["canonical"])).accepted
        await until(lambda: "canonical/node-1" in room.state.nodes)
        seen: list[ev.Event] = []
        second.subscribe(seen.append, replay=False)
        reply = await first.kill("canonical/node-1")
        assert reply.accepted, reply.reason
        await until(lambda: any(isinstance(e, ev.KillIssued) for e in seen))
        kill = next(e for e in seen if isinstance(e, ev.KillIssued))
        assert kill.target == "canonical/node-1"
        assert second.state.kills and second.state.kills[-1].target == "canonical/node-1"


async def test_the_engine_refuses_an_audience_screens_commands(tmp_path: Path) -> None:
    async with served(tmp_path) as (room, _server, path), attach_room(path, "audience") as audience:
        for reply in (
            await audience.start(),
            await audience.kill("canonical"),
            await audience.teardown(),
            await audience.stop(teardown=True),
        ):
            assert not reply.accepted
            assert reply.reason == "read-only screen"
        raw = await audience.request("notice", {"message": "hello"})
        assert raw["accepted"] is False
        await anyio.sleep(0.2)
        assert all(c.status == "idle" for c in room.state.cloud_list())
        assert not room.state.kills and not room.state.notices


async def test_a_refused_command_says_why_and_bad_arguments_do_not_reach_the_room(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as (_room, _server, path), attach_room(path) as screen:
        reply = await screen.retry("atlantis")
        assert not reply.accepted and "atlantis" in reply.reason
        for command, args in (
            ("kill", {"victim": "canonical"}),
            ("kill", {"target": {"nested": 1}}),
            ("launch_missiles", {}),
        ):
            answer = await screen.request(command, args)
            assert answer["accepted"] is False and answer["reason"], (command, answer)
        assert (await screen.check()).accepted


async def test_stop_with_teardown_cleans_up_first_and_answers_before_the_engine_goes(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as (room, server, path), attach_room(path) as screen:
        gone: list[ev.Event] = []
        screen.subscribe(lambda e: gone.append(e) if isinstance(e, ev.EngineGone) else None)
        screen.notice("rehearsal over", "warning")
        assert (await screen.start(["canonical"])).accepted
        await screen.wait_idle()
        assert room.state.clouds["canonical"].status == "joined"
        reply = await screen.stop(teardown=True)
        assert reply.accepted, reply.reason
        assert room.state.clouds["canonical"].status == "torn_down"
        assert screen.state.clouds["canonical"].status == "torn_down"
        assert [n.message for n in screen.state.notices] == ["rehearsal over"]
        await until(server.stopping.is_set)
        assert "asked to stop after teardown" in server.stop_reason
        await until(lambda: screen.gone)
        assert [e.reason for e in gone if isinstance(e, ev.EngineGone)] == [
            "stopped as this screen asked"
        ]


# --- slow screens and catch-up -----------------------------------------------------------


async def test_a_stalled_screen_slows_nobody_and_is_resynced(tmp_path: Path) -> None:
    queue = 64 << 10
    async with (
        served(tmp_path, queue_bytes=queue) as (room, server, path),
        attach_room(path) as healthy,
    ):
        stalled = await anyio.connect_unix(path)  # handshakes, then never reads
        await stalled.send(wire.hello("presenter"))
        await until(lambda: len(server.clients) == 2)
        got: list[ev.Event] = []
        healthy.subscribe(got.append, replay=False)
        clouds = [c.name for c in rehearsal_demo().clouds]
        batches = 20_000  # about 4.5 MB: far past the socket buffers and the stalled queue
        await flood(room.hub, batches, clouds)
        await until(lambda: sum(isinstance(e, ev.LogLines) for e in got) >= batches, 30)
        assert healthy.resyncs == 0
        slow = next(c for c in server.clients if c.name != "screen 1 (presenter)")
        assert slow.resyncs >= 1
        assert slow.queued <= slow.limit

        # Once it reads again it is told to resync and holds the engine's whole show.
        reader = wire.LineReader(stalled)
        state, last, markers = RoomState(), 0, []
        async with stalled:
            with anyio.fail_after(30):
                while True:
                    message = await reader.message()
                    if "event" in message and message["seq"] > last:
                        last = message["seq"]
                        event = ev.from_dict(message["event"])
                        assert event is not None
                        state = apply(state, event)
                    elif "resync" in message or "caught_up" in message:
                        markers.append(next(iter(message)))
                        if markers[-2:] == ["resync", "caught_up"]:
                            break
        assert comparable(state) == comparable(room.state)


async def test_catch_up_after_a_long_flood_gives_the_engines_state(tmp_path: Path) -> None:
    async with served(tmp_path, rehearsal=False) as (room, _server, path):
        async with attach_room(path) as first:
            await first.start()
            await first.wait_idle()
            await until(lambda: "canonical/node-2" in room.state.nodes)
            assert (await first.kill("canonical/node-2")).accepted
            await until(lambda: room.state.kills[-1].healed_t is not None, 60)
        clouds = [c.name for c in rehearsal_demo().clouds]
        await flood(room.hub, 30_000, clouds, burst=30_000)
        for n in range(3000):
            room.hub.publish(ev.WorkloadSample(ops_per_s=float(n), p99_ms=n / 10))
            # Later samples say degraded: the moment the kill healed is only in older ones.
            room.hub.publish(ev.ClusterHealthObserved(ranges=60, under_replicated=n % 7))
        async with attach_room(path) as late:
            # The rehearsal goes on publishing: equal once what is in flight has arrived.
            await until(lambda: comparable(late.state) == comparable(room.state))
            assert late.state.kills[-1].target == "canonical/node-2"
            assert late.state.kills[-1].healed_t == room.state.kills[-1].healed_t
            events: list[ev.Event] = []
            late.subscribe(events.append)  # a screen inside the client process catches up too
            assert sum(isinstance(e, ev.LogLines) for e in events) <= 64 * len(clouds)


async def test_screens_coming_and_going_under_a_flood_leave_the_engine_clean(
    tmp_path: Path,
) -> None:
    """Connections opened and closed while events stream both ways: no error from the event
    loop (the asyncio test runner fails the test on one), nothing left attached."""
    async with served(tmp_path, rehearsal=False) as (room, server, path):
        clouds = [c.name for c in rehearsal_demo().clouds]
        async with anyio.create_task_group() as tg:

            async def flooding() -> None:
                while True:
                    await flood(room.hub, 50, clouds, burst=50)
                    await anyio.sleep(0.001)

            tg.start_soon(flooding)
            for n in range(20):
                async with attach_room(path, "audience" if n % 2 else "presenter") as screen:
                    screen.notice(f"visit {n}")
                    await screen.check()
            for _ in range(5):
                vanishing = socket.socket(socket.AF_UNIX)
                vanishing.connect(str(path))
                vanishing.sendall(wire.hello("presenter") + wire.request(1, "check"))
                await anyio.sleep(0.05)
                vanishing.close()  # mid-stream, unread events in its buffer
            tg.cancel_scope.cancel()
        await until(lambda: not server.clients)
        assert not server.stopping.is_set()


# --- bad peers ---------------------------------------------------------------------------


async def _rejected(path: Path, first: bytes) -> bytes:
    """What the engine answers before closing on a connection that opens with ``first``."""
    async with await anyio.connect_unix(path) as stream:
        await stream.send(first)
        answer = b""
        with anyio.fail_after(10):
            while True:
                try:
                    answer += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return answer


async def test_malformed_lines_close_that_connection_and_never_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(wire, "MAX_LINE_BYTES", 4096)
    caplog.set_level(logging.INFO, "crossroom.engine")
    async with served(tmp_path, rehearsal=False) as (_room, server, path):
        assert b"error" in await _rejected(path, b"\xff\xfe not json\n")
        assert b"error" in await _rejected(path, b"[1, 2, 3]\n")
        assert b"protocol" in await _rejected(
            path, b'{"hello": "crossroom", "protocol": 99, "role": "presenter"}\n'
        )
        assert b"role" in await _rejected(
            path, b'{"hello": "crossroom", "protocol": 1, "role": "root"}\n'
        )
        assert b"error" in await _rejected(path, b"{" + b'"a":"' + b"y" * 200_000 + b'"}\n')
        # After the handshake: garbage, an over-long line, a request without an id.
        for bad in (b"}{\n", b"z" * 200_000 + b"\n", b'{"command": "kill"}\n'):
            after_hello = await _rejected(path, wire.hello("presenter") + bad)
            assert b'"run_id"' in after_hello
        async with attach_room(path) as screen:
            assert (await screen.check()).accepted
        assert not server.stopping.is_set()
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    closings = [r.getMessage() for r in caplog.records if "closing it" in r.getMessage()]
    assert len(refusals) == 5 and len(closings) == 3
    assert sum("longer than 4096 bytes" in line for line in refusals + closings) == 2
    assert all("\n" not in line for line in refusals + closings)


async def test_a_screen_that_never_says_hello_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.room_server.HANDSHAKE_TIMEOUT_S", 0.2)
    async with served(tmp_path) as (_room, server, path):
        async with await anyio.connect_unix(path) as silent:
            with anyio.fail_after(10):
                with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                    await silent.receive()
        assert not server.clients


async def test_an_engine_that_never_answers_a_request_gives_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wedged engine: it handshakes and catches up, then answers nothing."""
    monkeypatch.setattr(room_client, "REQUEST_TIMEOUT_S", 0.3)
    monkeypatch.setattr(room_client, "CONNECT_TIMEOUT_S", 0.5)
    path = tmp_path / "engine.sock"
    listener = await anyio.create_unix_listener(path, mode=0o600)

    async def wedged(stream: Any) -> None:
        async with stream:
            await stream.receive()
            await stream.send(wire.welcome("xr-wedged", "Wedged", "presenter") + wire.CAUGHT_UP)
            await anyio.sleep_forever()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, wedged)
        async with attach_room(path) as screen:
            with anyio.fail_after(10):
                reply = await screen.kill("canonical")
        assert not reply.accepted
        assert reply.reason == "kill: no answer from the engine in 0.3 s"
        tg.cancel_scope.cancel()


async def test_a_socket_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with served(tmp_path) as (_room, server, path):
        real_stat = os.stat

        def someone_elses(target: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            result = real_stat(target, *args, **kwargs)
            if Path(target) != path:
                return result
            fields = list(result)
            fields[4] = os.getuid() + 1  # st_uid
            return os.stat_result(fields)

        monkeypatch.setattr(room_client.os, "stat", someone_elses)
        with pytest.raises(AttachRefused, match="belongs to uid"):
            async with attach_room(path):
                pass
        assert not server.clients


# --- the engine's lifetime ---------------------------------------------------------------


async def test_the_engine_says_it_has_gone_once_and_the_screen_keeps_its_state(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as (_room, server, path), attach_room(path) as screen:
        await screen.start(["canonical"])
        await until(lambda: screen.state.clouds["canonical"].status == "running")
        gone: list[ev.EngineGone] = []
        screen.subscribe(lambda e: gone.append(e) if isinstance(e, ev.EngineGone) else None)
        server.stop("test")
        await until(lambda: screen.gone)
        await anyio.sleep(0.1)
        assert len(gone) == 1
        assert gone[0].run_id == screen.run_id
        assert gone[0].teardown_command.startswith(f"crossroom teardown --run {screen.run_id}")
        assert str(tmp_path) in gone[0].teardown_command
        assert screen.state.clouds["canonical"].status == "running"  # the last state, kept
        reply = await screen.kill("canonical")
        assert reply.reason == f"engine for run {screen.run_id} has gone"
        assert not path.exists()


async def test_a_rehearsal_stops_when_its_last_presenter_detaches(tmp_path: Path) -> None:
    async with served(tmp_path) as (_room, server, path):
        async with attach_room(path, "audience"), attach_room(path):
            async with attach_room(path):
                pass
            assert not server.stopping.is_set()  # one presenter is still there
        await until(server.stopping.is_set)


async def test_a_rehearsal_whose_presenter_vanished_waits_then_stops(tmp_path: Path) -> None:
    async with served(tmp_path, orphan_grace_s=0.5) as (_room, server, path):
        lost = socket.socket(socket.AF_UNIX)
        lost.connect(str(path))
        lost.sendall(wire.hello("presenter"))
        await until(lambda: len(server.clients) == 1)
        lost.close()  # a hang-up: no detach
        await anyio.sleep(0.2)
        assert not server.stopping.is_set()
        await until(server.stopping.is_set)


async def test_a_show_with_real_clouds_outlives_its_screens(tmp_path: Path) -> None:
    async with served(tmp_path, rehearsal=False, orphan_grace_s=0.1) as (_room, server, path):
        async with attach_room(path):
            pass
        await anyio.sleep(0.5)
        assert not server.stopping.is_set()
        async with attach_room(path) as again:
            assert (await again.stop()).accepted
        await until(server.stopping.is_set)
