"""Whole shows on the rehearsal fleet, on virtual time: joins, failures, cancel, teardown."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from engine import events as ev
from engine.config.model import CloudConfig, DemoConfig, SimConfig
from engine.plan import STEPS
from engine.recording import read_recording
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.sim.books import SimBooks
from engine.sim.fleet import rehearsal_demo
from engine.state import fold
from engine.wiring import build_backend

pytestmark = pytest.mark.anyio


def fleet(n: int) -> DemoConfig:
    """``n`` simulated clouds: the 2017 fifteen, then numbered extras."""
    base = rehearsal_demo()
    clouds = list(base.clouds)
    for i in range(len(clouds), n):
        clouds.append(
            CloudConfig(name=f"cloud{i:03d}", label=f"Cloud {i}", provider="sim", sim=SimConfig())
        )
    return replace(base, clouds=tuple(clouds[:n]))


async def run_show(demo: DemoConfig, seed: int = 1, books: SimBooks | None = None):
    books = books if books is not None else SimBooks()
    backend = build_backend(demo, seed, books)
    async with open_room(demo, RoomOptions(seed=seed, speed=1.0), backend) as room:
        await room.start()
        with anyio.fail_after(3600):
            await room.wait_idle()
        return room, books


@pytest.mark.parametrize("n", [15, 100])
async def test_every_cloud_of_the_fleet_joins(n: int) -> None:
    room, books = await run_show(fleet(n))
    states = room.state.cloud_list()
    assert len(states) == n
    assert all(c.status == "joined" for c in states), [c.error for c in states if c.error]
    assert room.state.count("live") == 3 * n
    assert all(c.time_to_join_s and c.time_to_join_s > 90 for c in states)
    # seconds for some, minutes for others, as on stage
    times = sorted(c.time_to_join_s or 0 for c in states)
    assert times[-1] > 1.5 * times[0]
    assert len(books.of()) > 0


async def test_the_beijing_cloud_is_markedly_slower() -> None:
    room, _ = await run_show(fleet(15))
    joins = {c.name: c.time_to_join_s or 0 for c in room.state.cloud_list()}
    others = sorted(v for k, v in joins.items() if k != "easystack")
    assert joins["easystack"] > others[len(others) // 2] * 1.5


@pytest.mark.parametrize("step", [s for s in STEPS if s != "join"])
async def test_a_failure_at_any_step_stops_that_cloud_alone_and_teardown_leaves_nothing(
    step: str,
) -> None:
    demo = fleet(4)
    broken = replace(demo.clouds[1], sim=replace(demo.clouds[1].sim, fail_step=step))
    demo = replace(demo, clouds=(demo.clouds[0], broken, *demo.clouds[2:]))
    books = SimBooks()
    backend = build_backend(demo, 3, books)
    async with open_room(demo, RoomOptions(seed=3), backend) as room:
        await room.start()
        await room.wait_idle()
        by_name = {c.name: c for c in room.state.cloud_list()}
        assert by_name[broken.name].status == "failed"
        assert by_name[broken.name].error.startswith(f"{step}: quota exceeded")
        assert all(c.status == "joined" for n, c in by_name.items() if n != broken.name)
        await room.teardown()
        assert books.of() == []
        assert room.ledger.live() == []
        assert all(c.status == "torn_down" for c in room.state.cloud_list())
        # safe to run twice
        await room.teardown()
        assert all(not c.leftovers for c in room.state.cloud_list())


async def test_retry_resumes_from_the_failed_step_without_duplicates() -> None:
    demo = fleet(2)
    broken = replace(demo.clouds[0], sim=replace(demo.clouds[0].sim, fail_step="volumes"))
    demo = replace(demo, clouds=(broken, demo.clouds[1]))
    books = SimBooks()
    backend = build_backend(demo, 5, books)
    async with open_room(demo, RoomOptions(seed=5), backend) as room:
        await room.start()
        await room.wait_idle()
        servers_before = [r for r in books.of(broken.name) if r.resource_type == "server"]
        assert room.state.clouds[broken.name].status == "failed"
        # the operator fixes the cause (quota raised), then retries
        backend.clouds[broken.name].cloud = replace(broken, sim=SimConfig())  # type: ignore[attr-defined]
        await room.retry(broken.name)
        await room.wait_idle()
        c = room.state.clouds[broken.name]
        assert c.status == "joined"
        servers_after = [r for r in books.of(broken.name) if r.resource_type == "server"]
        assert len(servers_after) == len(servers_before) == broken.servers
        assert c.step("resolve") is not None and c.step("resolve").status == "done"


async def test_cancel_is_prompt_and_keeps_the_ledger() -> None:
    demo = fleet(3)
    async with open_room(demo, RoomOptions(seed=2), build_backend(demo, 2)) as room:
        await room.start()
        await room.clock.sleep(30)
        await room.cancel("easystack")
        with anyio.fail_after(0.01):  # virtual seconds: no demo time may pass
            while room.state.clouds["easystack"].status != "cancelled":
                await anyio.lowlevel.checkpoint()
        assert room.state.clouds["easystack"].status == "cancelled"
        recorded = room.state.clouds["easystack"].resources
        assert recorded == len(room.ledger.live("easystack")) and recorded > 0


async def test_transient_errors_are_retried_visibly() -> None:
    demo = fleet(15)
    seen: list[ev.Event] = []
    backend = build_backend(demo, 11)
    async with open_room(demo, RoomOptions(seed=11), backend) as room:
        room.subscribe(seen.append)
        await room.start()
        await room.wait_idle()
    retries = [e for e in seen if isinstance(e, ev.StepRetrying)]
    assert retries, "the rehearsal should hit transient errors"
    assert all(0.5 <= r.delay_s <= 30 for r in retries)
    assert all(c.status == "joined" for c in room.state.cloud_list())


def _comparable(events: list[ev.Event]) -> dict[str, list[tuple[object, ...]]]:
    """Each cloud's and each node's events in order, times included.

    Tasks that wake at the same instant may interleave either way (trio shuffles them on
    purpose), so the global order between clouds is not part of the promise.
    """
    out: dict[str, list[tuple[object, ...]]] = {}
    run_id = "?"
    for e in events:
        if isinstance(e, ev.RunStarted):
            run_id = e.run_id
            continue
        if isinstance(e, ev.EtaEstimated):
            continue  # estimates come from the runs before: the second run has the first's
        d = ev.to_dict(e)
        d.pop("wall")
        key = str(d.get("cloud") or d.get("node") or d["kind"])
        # rooms started at different virtual instants differ in the last float bits
        items = ((k, round(v, 6) if isinstance(v, float) else v) for k, v in d.items())
        row = tuple(sorted((k, repr(v).replace(run_id, "RUN")) for k, v in items))
        out.setdefault(key, []).append(row)
    return out


async def test_same_seed_gives_the_same_event_sequence(tmp_path: Path) -> None:
    streams = []
    for _ in range(2):
        demo = fleet(5)
        async with open_room(demo, RoomOptions(seed=7), build_backend(demo, 7)) as room:
            await room.start()
            await room.wait_idle()
            await room.kill("ibm/node-1")
            # off the cluster's one-second ticks, so no tick races the exit
            await room.clock.sleep(20.5)
            run_events = room.run_dir.events
        streams.append(_comparable(list(read_recording(run_events))))
    differences = [
        f"{key} #{i}: {a} != {b}"
        for key in streams[0]
        for i, (a, b) in enumerate(zip(streams[0][key], streams[1].get(key, []), strict=False))
        if a != b
    ]
    assert not differences, differences[:3]
    assert streams[0].keys() == streams[1].keys()
    assert all(len(streams[0][k]) == len(streams[1][k]) for k in streams[0])
    assert sum(len(v) for v in streams[0].values()) > 200


async def test_a_cloud_alone_behaves_as_in_the_fleet() -> None:
    whole, _ = await run_show(fleet(15), seed=9)
    alone, _ = await run_show(fleet(15).only(("zte",)), seed=9)
    assert whole.state.clouds["zte"].time_to_join_s == pytest.approx(
        alone.state.clouds["zte"].time_to_join_s, abs=3.0
    )


async def test_kill_shows_at_once_then_suspect_dead_and_heals() -> None:
    demo = fleet(15)
    async with open_room(demo, RoomOptions(seed=4), build_backend(demo, 4)) as room:
        await room.start()
        await room.wait_idle()
        await room.kill("vexxhost/node-1")
        assert room.state.nodes["vexxhost/node-1"].killed_t is not None
        with anyio.fail_after(1000):
            while room.state.kills[0].healed_t is None:
                await room.clock.sleep(1)
        k = room.state.kills[0]
        assert k.suspect_t is not None and 0 < k.suspect_t - k.at_t <= 7
        assert k.dead_t is not None and 74 <= k.dead_t - k.at_t <= 90
        assert k.healed_t > k.dead_t
        assert room.state.health.under_replicated == 0


async def test_bad_kill_targets_are_refused_to_the_caller_not_crashes() -> None:
    demo = fleet(2)
    async with open_room(demo, RoomOptions(seed=1), build_backend(demo, 1)) as room:
        replies = [
            await room.kill("nowhere/node-1"),
            await room.kill("canonical/node-9"),
            await room.kill("canonical/node-1"),  # nothing running yet
            await room.kill("not a target!"),
        ]
        assert len([r for r in replies if not r.accepted and r.reason]) == 4
        assert "no cloud named 'nowhere'" in replies[0].reason
        assert "has only 3" in replies[1].reason
        assert "no such node is running yet" in replies[2].reason
        assert "bad target" in replies[3].reason
        assert room.state.notices == ()  # a refusal answers its caller, not the whole room
        assert room.state.kills == ()


async def test_a_late_subscriber_catches_up_to_the_same_state_with_bounded_history() -> None:
    demo = fleet(3)
    async with open_room(demo, RoomOptions(seed=6), build_backend(demo, 6)) as room:
        await room.start()
        await room.wait_idle()
        await room.clock.sleep(600)  # ten demo minutes of samples
        seen: list[ev.Event] = []
        room.subscribe(seen.append)
        late = fold(seen)
        assert late.cloud_list() == room.state.cloud_list()
        assert late.nodes == room.state.nodes
        assert late.health == room.state.health
        assert late.workload.history == room.state.workload.history
        samples = [e for e in seen if isinstance(e, ev.WorkloadSample)]
        assert len(samples) == 120


async def test_a_live_room_refuses_replay_controls_and_has_no_playback() -> None:
    demo = fleet(1)
    async with open_room(demo, RoomOptions(seed=1), build_backend(demo, 1)) as room:
        assert room.playback is None
        for control in (room.toggle_pause, room.faster, room.slower):
            reply = await control()
            assert (reply.accepted, reply.reason) == (False, "not a replay")
        assert (await room.start()).accepted
        assert not (await room.retry("canonical")).accepted  # running: nothing to retry
