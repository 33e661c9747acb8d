"""The run-sheet on the rehearsal fleet, on virtual time: the go-gate holds every cloud
and releases them at once, cues fire in order (automatically or by the presenter), timed
faults undo themselves, and every expectation is decided with its measured figure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from engine import events as ev
from engine.config.scenario import load_scenario_file
from engine.config.scenario_model import Cue, Expectations, Scenario
from engine.room import Room, open_room
from engine.room_api import RoomOptions
from engine.scenario import command_target
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState

pytestmark = pytest.mark.anyio

STORY = Path(__file__).resolve().parents[2] / "scenarios" / "summit-2017.yaml"
HOUR = 3600.0


async def play(scenario: Scenario, *, start: bool = True, seed: int = 1) -> tuple[Room, list]:
    """Run the fleet with ``scenario`` until the run-sheet is done; the room and its events."""
    demo = replace(rehearsal_demo(), scenario=scenario)
    seen: list[ev.Event] = []
    async with open_room(demo, RoomOptions(seed=seed)) as room:
        room.subscribe(seen.append)
        if start:
            await room.start()
        with anyio.fail_after(4 * HOUR):
            await room.wait_scenario()
        return room, seen


async def until(room: Room, ok: Callable[[RoomState], bool]) -> None:
    """Return once the room's state satisfies ``ok`` (woken by its events)."""
    done = anyio.Event()
    off = room.subscribe(lambda e: done.set() if ok(room.state) else None, replay=False)
    try:
        if not ok(room.state):
            await done.wait()
    finally:
        off()


def of(kind: type, events: list) -> list:
    return [e for e in events if isinstance(e, kind)]


async def test_the_2017_story_runs_with_every_expectation_passing() -> None:
    story = load_scenario_file(STORY, rehearsal_demo())
    room, seen = await play(story)
    state = room.state
    assert all(c.status == "joined" for c in state.cloud_list())
    # The gate held every cloud once, before CockroachDB, and let them go on the go cue.
    (held,) = of(ev.GateHeld, seen)
    (released,) = of(ev.GateReleased, seen)
    assert held.step == "cockroach"
    assert released.t == pytest.approx(held.t + 5.0, abs=0.01)
    cockroach_starts = [
        e
        for e in of(ev.StepStarted, seen)
        if e.step == "cockroach" and e.attempt == 1 and e.t >= released.t
    ]
    assert len({e.cloud for e in cockroach_starts}) == 15
    assert all(e.t == pytest.approx(released.t, abs=0.01) for e in cockroach_starts)
    joins = of(ev.CloudJoined, seen)
    assert min(e.t for e in joins) > released.t
    # Cues in order, each as its target's kind of fault.
    fired = of(ev.CueFired, seen)
    assert [c.cue for c in fired] == [c.name for c in story.cues]
    kills = {k.target: k for k in of(ev.KillIssued, seen)}
    assert kills["vexxhost/pod-2"].target_kind == "pod"
    assert kills["canonical/node-1"].target_kind == "node"
    assert kills["huawei/server-1"].target_kind == "server"
    assert kills["ibm/freeze-3"].target_kind == "freeze"
    assert kills["easystack/partition"].target_kind == "partition"
    # for: 90s and for: 60s undo themselves after that long.
    revives = {r.target: r for r in of(ev.ReviveIssued, seen)}
    assert revives["canonical/node-1"].t - kills["canonical/node-1"].t == pytest.approx(
        90.0, abs=0.1
    )
    assert revives["huawei/server-1"].t - kills["huawei/server-1"].t == pytest.approx(60.0, abs=0.1)
    assert revives["ibm/freeze-3"].t - kills["ibm/freeze-3"].t == pytest.approx(20.0, abs=0.1)
    partition = kills["easystack/partition"]
    assert revives["easystack/partition"].t - partition.t == pytest.approx(60.0, abs=0.1)
    assert "vexxhost/pod-2" not in revives  # a restarted pod comes back by itself
    # The say cue carries its words.
    welcome = next(c for c in fired if c.cue == "welcome")
    assert welcome.text.startswith("Fifteen")
    # Every expectation decided, and passed, with a measured figure.
    verdicts = state.verdicts
    wanted = 1 + sum(
        sum(
            v is not None
            for v in (x.unavailable_ranges, x.kv_error_rate_max, x.p99_max_ms, x.healed_within_s)
        )
        for x in (c.expect for c in story.cues)
    )
    assert len(verdicts) == wanted
    assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed]
    assert all(v.measured and v.expected for v in verdicts)
    # Each fault's verdicts come after the fault, and healing after the undo.
    for v in verdicts:
        if v.scope != "run":
            assert v.t >= next(c.t for c in fired if c.cue == v.scope)
    assert state.cue_next is None  # the run-sheet is done


async def test_a_failing_expectation_fails_with_what_was_measured() -> None:
    strict = Expectations(p99_max_ms=0.001, unavailable_ranges=0, healed_within_s=0.5)
    sheet = Scenario(
        cues=(Cue("stop", "stop", "canonical/node-2", at_s=10.0, for_s=30.0, expect=strict),),
        expect=Expectations(all_joined_within_s=5.0),
    )
    room, _ = await play(sheet)
    by = {(v.scope, v.name): v for v in room.state.verdicts}
    assert not by[("run", "all_joined_within")].passed
    assert by[("run", "all_joined_within")].expected == "<= 5.0s"
    assert not by[("stop", "p99_max_ms")].passed
    assert by[("stop", "p99_max_ms")].measured.endswith(" ms")
    assert by[("stop", "unavailable_ranges")].passed
    assert not by[("stop", "healed_within")].passed


async def test_presenter_paced_cues_wait_for_the_presenter() -> None:
    sheet = Scenario(
        cues=(
            Cue("hello", "say", at_s=5.0, text="hello"),
            Cue("restart", "restart", "vexxhost/node-1", at_s=5.0),
        ),
        pace="presenter",
    )
    demo = replace(rehearsal_demo(), scenario=sheet)
    async with open_room(demo, RoomOptions(seed=2)) as room:
        assert not (await room.release_gate()).accepted  # no gate in this show
        await room.start()
        await room.wait_idle()
        joined = room.state.t
        await anyio.sleep(600)  # far past every cue's due time: nothing fires by itself
        assert room.state.cues_fired == ()
        nxt = room.state.cue_next
        assert nxt is not None and nxt.cue == "hello" and nxt.paced
        assert nxt.due_t == pytest.approx(joined + 5.0, abs=1.0)
        assert (await room.fire_next_cue()).accepted
        with anyio.fail_after(10):
            await until(room, lambda s: len(s.cues_fired) == 1)
        assert room.state.cue_next is not None and room.state.cue_next.cue == "restart"
        assert (await room.fire_next_cue()).accepted
        with anyio.fail_after(HOUR):
            await room.wait_scenario()
        assert [c.cue for c in room.state.cues_fired] == ["hello", "restart"]
        assert room.state.kills[-1].target == "vexxhost/pod-1"
        assert not (await room.fire_next_cue()).accepted  # nothing left


async def test_the_gate_is_held_once_even_when_a_cloud_fails_on_the_way() -> None:
    base = rehearsal_demo()
    broken = replace(base.clouds[0].sim, fail_step="boot")
    clouds = (replace(base.clouds[0], sim=broken), *base.clouds[1:4])
    sheet = Scenario(cues=(Cue("go", "release", on="held", at_s=1.0),), hold_before="cockroach")
    demo = replace(base, clouds=clouds, scenario=sheet)
    seen: list[ev.Event] = []
    async with open_room(demo, RoomOptions(seed=4)) as room:
        room.subscribe(seen.append)
        await room.start()
        with anyio.fail_after(HOUR):
            await room.wait_idle()
    assert len(of(ev.GateHeld, seen)) == 1
    assert len(of(ev.GateReleased, seen)) == 1
    assert [c.status for c in room.state.cloud_list()] == ["failed", "joined", "joined", "joined"]


async def test_a_held_cloud_waits_until_the_presenter_releases_it() -> None:
    sheet = Scenario(hold_before="kubernetes")
    demo = replace(rehearsal_demo(), clouds=rehearsal_demo().clouds[:2], scenario=sheet)
    async with open_room(demo, RoomOptions(seed=5)) as room:
        await room.start()
        with anyio.fail_after(HOUR):
            await until(room, lambda s: s.gate == "held")
        await anyio.sleep(3 * HOUR)  # held means held, however long
        assert all(c.status == "running" for c in room.state.cloud_list())
        assert all(c.current and c.current.name == "kubernetes" for c in room.state.cloud_list())
        first = room.state.cloud_order[0]
        assert (await room.cancel(first)).accepted  # a held cloud cancels like any other
        await until(room, lambda s: s.clouds[first].status == "cancelled")
        assert room.state.clouds[first].current.name == "kubernetes"
        assert (await room.retry(first)).accepted  # and holds again from there
        await until(room, lambda s: s.clouds[first].status == "running")
        await anyio.sleep(HOUR)
        assert room.state.clouds[first].current.name == "kubernetes"
        assert (await room.release_gate()).accepted
        assert (await room.release_gate()).accepted  # idempotent
        with anyio.fail_after(HOUR):
            await room.wait_idle()
        assert all(c.status == "joined" for c in room.state.cloud_list())
        assert room.state.gate == "released"


def test_cue_verbs_map_to_the_fault_targets() -> None:
    def target(action: str, text: str) -> str:
        return command_target(Cue("c", action, text))  # type: ignore[arg-type]

    assert target("restart", "x/node-2") == "x/pod-2"
    assert target("stop", "x/node-2") == "x/node-2"
    assert target("kill_server", "x/node-2") == "x/server-2"
    assert target("crash", "x/node-3") == "x/crash-3"
    assert target("freeze", "x/node-1") == "x/freeze-1"
    assert target("kill_cloud", "x") == "x"
    assert target("partition", "x") == "x/partition"
    assert target("heal", "x") == "x/partition"
    assert target("revive", "x/server-1") == "x/server-1"
