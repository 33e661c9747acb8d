"""ETA per cloud from earlier runs of the same demo: step times kept in the state dir,
medians over the runs, and estimates that say how far ahead or behind a cloud is."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from engine import events as ev
from engine.config.model import DemoConfig
from engine.eta import history_of, history_path, read_history
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState

pytestmark = pytest.mark.anyio

CLOUDS = ("vexxhost", "platform9", "huawei")


def small() -> DemoConfig:
    base = rehearsal_demo()
    return replace(base, clouds=tuple(c for c in base.clouds if c.name in CLOUDS))


async def show(state_dir: Path, seed: int) -> tuple[RoomState, list[ev.Event]]:
    seen: list[ev.Event] = []
    async with open_room(small(), RoomOptions(seed=seed, state_dir=state_dir)) as room:
        room.subscribe(seen.append)
        await room.start()
        with anyio.fail_after(3600):
            await room.wait_idle()
        await room.clock.sleep(1.0)  # the last join's step times are written
        return room.state, seen


def step_times(state: RoomState, cloud: str) -> dict[str, float]:
    return {
        s.name: s.duration_s
        for s in state.clouds[cloud].steps
        if s.status == "done" and s.duration_s is not None
    }


async def test_eta_comes_from_the_median_of_two_prior_runs(tmp_path: Path) -> None:
    first, seen_first = await show(tmp_path, seed=1)
    assert not any(isinstance(e, ev.EtaEstimated) for e in seen_first)  # no history yet
    second, _ = await show(tmp_path, seed=2)
    kept = history_of(tmp_path, small().name)
    assert kept["runs"] == 2
    path = history_path(tmp_path, small().name)
    assert path.parent == tmp_path / "eta"
    assert json.loads(path.read_text())["demo"] == small().name

    third, seen = await show(tmp_path, seed=3)
    estimates = [e for e in seen if isinstance(e, ev.EtaEstimated)]
    for cloud in CLOUDS:
        a, b = step_times(first, cloud), step_times(second, cloud)
        expected = sum(statistics.median([a[s], b[s]]) for s in a if s in b)
        mine = [e for e in estimates if e.cloud == cloud]
        assert mine, cloud
        # Published as the cloud starts and as each step finishes.
        assert all(e.expected_total_s == pytest.approx(expected, abs=0.01) for e in mine)
        assert len(mine) >= len(step_times(third, cloud))
        # The last estimate compares every step this run did with the medians.
        medians = kept["medians"][cloud]
        lead = sum(medians[s] - d for s, d in step_times(third, cloud).items() if s in medians)
        assert mine[-1].ahead_s == pytest.approx(lead, abs=0.01)
        assert third.eta[cloud] == mine[-1]
    assert history_of(tmp_path, small().name)["runs"] == 3


async def test_a_damaged_history_is_no_history(tmp_path: Path) -> None:
    path = history_path(tmp_path, small().name)
    path.parent.mkdir(parents=True)
    path.write_text('{"runs": [{"vexxhost": {"boot": "soon", "servers": -1}}, 7], "x":')
    assert read_history(path) == []
    _, seen = await show(tmp_path, seed=1)
    assert not any(isinstance(e, ev.EtaEstimated) for e in seen)
    assert history_of(tmp_path, small().name)["runs"] == 1  # replaced by a good file


def test_foreign_values_in_a_history_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_text(
        json.dumps({"runs": [{"vexxhost": {"boot": "soon", "servers": -1, "join": 4.5}}, 7]})
    )
    assert read_history(path) == [{"vexxhost": {"join": 4.5}}]
