"""Each fault on the rehearsal fleet, through the room, on virtual time: a pod restart, a
node stop, a server stop and a whole cloud, each behaving as the real system does
(``engine.sim.faults`` names the sources of each delay)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import anyio
import pytest

from engine import events as ev
from engine.config.model import DemoConfig
from engine.report import build_report
from engine.room import Room, open_room
from engine.room_api import RoomOptions
from engine.sim import faults
from engine.sim.fleet import rehearsal_demo
from engine.sim.liveness import HEARTBEAT_S, LIVENESS_TTL_S, START_DELAY_S
from engine.state import KillRecord
from engine.wiring import build_backend

pytestmark = pytest.mark.anyio


def small_fleet() -> DemoConfig:
    base = rehearsal_demo()
    return replace(base, clouds=base.clouds[:4])


@asynccontextmanager
async def settled(events: list[ev.Event]) -> AsyncIterator[Room]:
    """Four clouds joined and a minute of quiet; every event kept."""
    demo = small_fleet()
    async with open_room(demo, RoomOptions(seed=5), build_backend(demo, 5)) as room:
        room.subscribe(events.append, replay=False)
        await room.start()
        await room.wait_idle()
        assert all(c.status == "joined" for c in room.state.cloud_list())
        await room.clock.sleep(60.0)
        yield room


def record(room: Room, target: str) -> KillRecord:
    return next(k for k in room.state.kills if k.target == target)


def pods(events: list[ev.Event], node: str) -> list[ev.PodObserved]:
    return [e for e in events if isinstance(e, ev.PodObserved) and e.pod == node]


async def test_a_restarted_pod_is_back_in_seconds_with_the_same_node_id() -> None:
    events: list[ev.Event] = []
    async with settled(events) as room:
        cloud = room.state.cloud_order[0]
        node = f"{cloud}/node-1"
        node_id = room.state.nodes[node].node_id
        await room.kill(f"{cloud}/pod-1")
        await room.clock.sleep(60.0)
        k = record(room, f"{cloud}/pod-1")
        assert k.target_kind == "pod" and k.nodes == (node,)
        # SIGTERM, drain, exit: the probe is refused within the drain time (+ a poll tick).
        assert k.probe_down_t is not None
        assert faults.DRAIN_S[0] <= k.probe_down_t - k.at_t <= faults.DRAIN_S[1] + 1.0
        # Back: drain + recreate + CockroachDB's start to its first heartbeat, + ticks.
        most = faults.DRAIN_S[1] + faults.RECREATE_S[1] + START_DELAY_S[1] + 2.0
        assert k.back_t is not None and k.back_t - k.at_t <= most
        assert k.dead_t is None
        assert room.state.nodes[node].node_id == node_id
        assert room.state.nodes[node].liveness == "live"
        assert room.state.nodes[node].killed_t is None
        phases = [e.phase for e in pods(events, node)]
        assert phases == ["Terminating", "Deleted", "Pending", "Running"]
        # The whole story in the report: restarted, not dead.
        row = build_report(room.state, 0.0)["kills"][0]
        assert row["kind"] == "pod" and row["dead_after_s"] is None
        assert row["back_after_s"] == round(k.back_t - k.at_t, 3)
        assert [n.node_id for n in room.state.nodes_of(cloud)].count(node_id) == 1


async def test_a_stopped_node_goes_suspect_then_dead_and_comes_back_only_when_revived() -> None:
    events: list[ev.Event] = []
    async with settled(events) as room:
        cloud = room.state.cloud_order[1]
        node = f"{cloud}/node-2"
        node_id = room.state.nodes[node].node_id
        await room.kill(f"{cloud}/node-2")
        dead_after = room.backend.cluster.time_until_store_dead_s  # type: ignore[attr-defined]
        await room.clock.sleep(dead_after + 30.0)
        k = record(room, f"{cloud}/node-2")
        assert k.target_kind == "node"
        assert k.probe_down_t is not None and k.probe_down_t - k.at_t <= 1.0
        assert k.suspect_t is not None
        assert HEARTBEAT_S - 1.0 <= k.suspect_t - k.at_t <= LIVENESS_TTL_S + 1.0
        assert k.dead_t is not None
        assert dead_after <= k.dead_t - k.at_t <= dead_after + LIVENESS_TTL_S + 1.0
        assert k.back_t is None  # cordoned: the new pod stays Pending
        assert pods(events, node)[-1].phase == "Pending"
        revived_at = room.clock.now()
        await room.revive(f"{cloud}/node-2")
        await room.clock.sleep(30.0)
        k = record(room, f"{cloud}/node-2")
        assert k.back_t is not None
        most = faults.RESCHEDULE_S[1] + START_DELAY_S[1] + 2.0
        assert faults.RESCHEDULE_S[0] <= k.back_t - revived_at <= most
        assert room.state.nodes[node].node_id == node_id
        assert pods(events, node)[-1].phase == "Running"


async def test_a_stopped_server_stays_running_in_kubernetes_until_the_grace_period() -> None:
    events: list[ev.Event] = []
    async with settled(events) as room:
        cloud = room.state.cloud_order[2]
        node = f"{cloud}/node-2"
        await room.kill(f"{cloud}/server-2")
        assert room.state.kills[-1].nodes == (node,)  # server 2 is where node 2 runs
        await room.clock.sleep(faults.NODE_MONITOR_GRACE_S - 1.0)
        k = record(room, f"{cloud}/server-2")
        assert k.target_kind == "server"
        assert k.probe_down_t is not None
        assert faults.SHUTDOWN_S[0] <= k.probe_down_t - k.at_t <= faults.SHUTDOWN_S[1] + 1.0
        assert k.suspect_t is not None
        assert pods(events, node) == []  # Kubernetes still says Running and ready
        await room.clock.sleep(2.0)
        assert [(e.phase, e.ready) for e in pods(events, node)] == [("Running", False)]
        assert room.state.clouds[cloud].api_stale_since_t is None  # server 1 still answers
        await room.revive(f"{cloud}/server-2")
        await room.clock.sleep(faults.BOOT_S[1] + 10.0)
        k = record(room, f"{cloud}/server-2")
        assert k.back_t is not None
        assert room.state.nodes[node].liveness == "live"
        assert pods(events, node)[-1].ready


async def test_server_1_or_the_whole_cloud_takes_the_api_away_and_the_screen_says_stale() -> None:
    events: list[ev.Event] = []
    async with settled(events) as room:
        first, whole = room.state.cloud_order[2], room.state.cloud_order[3]
        await room.kill(f"{first}/server-1")
        await room.kill(whole)
        await anyio.lowlevel.checkpoint()
        await room.clock.sleep(0.5)
        for cloud in (first, whole):
            assert room.state.clouds[cloud].api_stale_since_t is not None
        await room.clock.sleep(faults.NODE_MONITOR_GRACE_S + 20.0)
        # No API: nobody marks the pods NotReady; what is shown is the last word, stale.
        assert pods(events, f"{first}/node-1") == []
        assert all(pods(events, f"{whole}/node-{n}") == [] for n in (1, 2, 3))
        k = record(room, whole)
        assert k.target_kind == "cloud" and len(k.nodes) == 3
        assert k.suspect_t is not None and k.back_t is None
        await room.revive(whole)
        await room.clock.sleep(faults.BOOT_S[1] + 10.0)
        assert room.state.clouds[whole].api_stale_since_t is None
        assert room.state.clouds[first].api_stale_since_t is not None  # not revived
        k = record(room, whole)
        assert k.back_t is not None
        assert all(room.state.nodes[f"{whole}/node-{n}"].liveness == "live" for n in (1, 2, 3))
        report = build_report(room.state, 0.0)["kills"]
        assert [r["kind"] for r in report] == ["server", "cloud"]
        for row in report:
            assert set(row) >= {
                "target",
                "kind",
                "probe_down_after_s",
                "suspect_after_s",
                "dead_after_s",
                "back_after_s",
                "healed_after_s",
            }


async def test_a_crashed_process_is_restarted_by_the_kubelet_same_node_id_nothing_to_revive() -> (
    None
):
    events: list[ev.Event] = []
    async with settled(events) as room:
        cloud = room.state.cloud_order[0]
        node = f"{cloud}/node-2"
        node_id = room.state.nodes[node].node_id
        await room.kill(f"{cloud}/crash-2")
        await room.clock.sleep(30.0)
        k = record(room, f"{cloud}/crash-2")
        assert k.target_kind == "crash" and k.nodes == (node,)
        # SIGKILL: no drain, the probe is refused at the next poll
        assert k.probe_down_t is not None and k.probe_down_t - k.at_t <= 1.0
        most = faults.CONTAINER_RESTART_S[1] + START_DELAY_S[1] + 2.0
        assert k.back_t is not None and k.back_t - k.at_t <= most
        assert k.dead_t is None
        assert room.state.nodes[node].node_id == node_id
        assert [(e.phase, e.ready, e.restarts) for e in pods(events, node)] == [
            ("Running", False, 1),
            ("Running", True, 1),
        ]
        assert room.state.killed_targets(cloud) == ()  # it came back by itself


async def test_a_frozen_process_is_suspect_until_revived_by_sigcont() -> None:
    events: list[ev.Event] = []
    async with settled(events) as room:
        cloud = room.state.cloud_order[1]
        node = f"{cloud}/node-1"
        node_id = room.state.nodes[node].node_id
        await room.kill(f"{cloud}/freeze-1")
        await room.clock.sleep(30.0)
        k = record(room, f"{cloud}/freeze-1")
        assert k.suspect_t is not None and k.suspect_t - k.at_t <= LIVENESS_TTL_S + 1.0
        assert k.back_t is None
        assert room.state.killed_targets(cloud) == (f"{cloud}/freeze-1",)
        # alive to Kubernetes, not ready once its readiness probes failed
        assert [(e.phase, e.ready) for e in pods(events, node)] == [("Running", False)]
        await room.revive(f"{cloud}/freeze-1")
        await room.clock.sleep(10.0)
        k = record(room, f"{cloud}/freeze-1")
        assert k.back_t is not None
        assert room.state.nodes[node].node_id == node_id
        assert room.state.nodes[node].liveness == "live"
        assert pods(events, node)[-1].ready


async def test_a_partition_is_in_the_ledger_heals_on_revive_and_teardown_removes_it() -> None:
    events: list[ev.Event] = []
    async with settled(events) as room:
        cloud = room.state.cloud_order[2]
        cluster = room.backend.cluster
        await room.kill(f"{cloud}/partition")
        await room.clock.sleep(20.0)
        k = record(room, f"{cloud}/partition")
        assert k.target_kind == "partition" and len(k.nodes) == 3
        assert k.suspect_t is not None and k.back_t is None
        assert room.state.health.unavailable == 0
        assert [r.resource_id for r in room.ledger.live(cloud) if r.resource_type == "partition"]
        assert room.state.killed_targets(cloud) == (f"{cloud}/partition",)
        await room.revive(f"{cloud}/partition")
        await room.clock.sleep(10.0)
        assert record(room, f"{cloud}/partition").back_t is not None
        assert not [r for r in room.ledger.live(cloud) if r.resource_type == "partition"]
        assert cluster.partitioned == frozenset()  # type: ignore[attr-defined]
        # cut again and tear down: the partition goes with the cloud's resources
        await room.kill(f"{cloud}/partition")
        await room.clock.sleep(1.0)
        assert cluster.partitioned == {cloud}  # type: ignore[attr-defined]
        await room.teardown([cloud])
        assert room.ledger.live(cloud) == []
        assert cluster.partitioned == frozenset()  # type: ignore[attr-defined]
