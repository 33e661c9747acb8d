"""Same seed and calls, same events; ``run`` ticks once a demo second and stops on cancel."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import anyio
import pytest

from engine.clock import ScaledClock
from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import (
    ClusterHealthObserved,
    Event,
    MonitorStatus,
    NodeObserved,
    WorkloadSample,
    encode,
)
from engine.hub import EventHub
from engine.sim.cluster import SimCluster

from .show import Show, fleet, of_type


def scripted(seed: int) -> list[bytes]:
    show = fleet(5, 3, seed=seed, cluster=ClusterConfig(ranges=120))
    show.run(60.0)
    show.cluster.kill_node("cloud02/node-1", show.t)
    show.run(30.0)
    show.cluster.revive_node("cloud02/node-1", show.t)
    show.cluster.kill_node("cloud04/node-3", show.t)
    show.run(120.0)
    show.cluster.remove_node("cloud01/node-2", show.t)
    show.run(30.0)
    return [encode(e) for e in show.events]


def test_same_seed_same_events_and_another_seed_differs() -> None:
    first = scripted(11)
    assert len(first) > 500
    assert scripted(11) == first
    assert scripted(12) != first


def test_a_long_gap_is_walked_second_by_second() -> None:
    def build() -> Show:
        show = Show(SimCluster(ClusterConfig(ranges=60), WorkloadConfig(), seed=9))
        for c in ("a", "b", "c", "d"):
            show.add_cloud(c, 1)
        show.run(60.0)
        show.cluster.kill_node("b/node-1", show.t)
        return show

    stepped, jumped = build(), build()
    stepped.run(120.0)
    events = jumped.cluster.advance(jumped.t + 120.0)
    lives = [e.liveness for e in of_type(events, NodeObserved)]
    assert lives == ["suspect", "dead"]  # both transitions, even within one call
    assert jumped.cluster.liveness("b/node-1") == stepped.cluster.liveness("b/node-1") == "dead"
    assert len(list(of_type(events, ClusterHealthObserved))) == 1
    assert jumped.cluster.placement() == stepped.cluster.placement()
    assert jumped.cluster.advance(jumped.t + 120.0) == []  # time does not go backwards


def test_monitor_fails_over_when_its_node_dies() -> None:
    show = Show(SimCluster(ClusterConfig(ranges=30), WorkloadConfig(), seed=1))
    for c in ("a", "b", "c"):
        show.add_cloud(c, 1)
    first = [e for e in of_type(show.run(10.0), MonitorStatus)]
    assert [e.state for e in first] == ["connected"]
    node = next(e.node for e in of_type(show.events, NodeObserved) if e.address == first[0].address)
    show.cluster.kill_node(node, show.t)
    after = [(e.state, e.address) for e in of_type(show.run(5.0), MonitorStatus)]
    assert after[0] == ("reconnecting", first[0].address)
    assert after[1][0] == "connected" and after[1][1] != first[0].address


@pytest.mark.anyio
async def test_run_emits_stamped_events_every_demo_second_until_cancelled() -> None:
    cluster = SimCluster(ClusterConfig(ranges=60), WorkloadConfig(), seed=3)
    clock = ScaledClock(speed=10.0)
    got: list[Event] = []
    for c in ("a", "b", "c"):
        for i in (1, 2):
            cluster.add_node(f"{c}/node-{i}", c, clock.now())
    async with anyio.create_task_group() as tg:
        hub = EventHub(clock)  # the room's hub stamps what the cluster publishes
        hub.subscribe(got.append, replay=False)
        tg.start_soon(cluster.run, hub.publish, clock)
        await clock.sleep(30.0)
        cancelled_at = anyio.current_time()
        tg.cancel_scope.cancel()
    assert anyio.current_time() - cancelled_at < 0.001
    samples = list(of_type(got, WorkloadSample))
    times = [e.t for e in of_type(got, ClusterHealthObserved)]
    assert len(times) >= 27
    assert all(b - a == pytest.approx(1.0) for a, b in itertools.pairwise(times))
    assert all(e.wall > 1_000_000_000 for e in got)
    assert samples and samples[-1].ops_per_s > 400.0
    assert {e.node for e in of_type(got, NodeObserved)} == {
        f"{c}/node-{i}" for c in ("a", "b", "c") for i in (1, 2)
    }


@pytest.mark.anyio
async def test_run_survives_a_sink_that_raises() -> None:
    cluster = SimCluster(ClusterConfig(ranges=30), WorkloadConfig(), seed=3)
    clock = ScaledClock()
    cluster.add_node("a/node-1", "a", clock.now())
    got: list[Event] = []

    def flaky(e: Event) -> None:
        got.append(e)
        if len(got) == 1:
            raise RuntimeError("sink broke")

    with anyio.move_on_after(10.0):
        await cluster.run(flaky, clock)
    assert len(list(of_type(got, ClusterHealthObserved))) >= 7


_CROSS_PROCESS = """
import hashlib
from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import encode
from engine.sim.cluster import SimCluster
c = SimCluster(ClusterConfig(ranges=60), WorkloadConfig(), 5)
for cloud in ("a", "b", "c", "d"):
    for i in (1, 2):
        c.add_node(f"{cloud}/node-{i}", cloud, 0.0)
out = []
for t in range(1, 200):
    if t == 60:
        c.kill_node("b/node-1", t)
    out.extend(encode(e) for e in c.advance(float(t)))
print(hashlib.sha256(b"\\n".join(out)).hexdigest())
"""


def test_events_do_not_depend_on_string_hash_randomisation() -> None:
    """Set iteration order of strings changes with PYTHONHASHSEED; the model must not care."""
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", _CROSS_PROCESS],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1
