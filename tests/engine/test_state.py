"""The pure fold: what the screen, replay and the report all see."""

from __future__ import annotations

from engine import events as ev
from engine.state import LOG_TAIL, RoomState, apply, fold

STEPS = ("resolve", "servers", "join")


def started(*clouds: str) -> ev.RunStarted:
    return ev.RunStarted(
        run_id="xr-1",
        demo="demo",
        simulated=True,
        speed=10.0,
        clouds=tuple(ev.CloudInfo(name=c, label=c.upper(), nodes=2, steps=STEPS) for c in clouds),
    )


def test_run_started_lays_out_every_cloud_with_pending_steps() -> None:
    s = fold([started("ibm", "zte")])
    assert s.cloud_order == ("ibm", "zte")
    assert [st.status for st in s.clouds["ibm"].steps] == ["pending"] * 3
    assert s.simulated and s.speed == 10.0


def test_a_cloud_walks_its_steps_to_joined() -> None:
    s = fold(
        [
            started("ibm"),
            ev.CloudStarted(t=0.0, cloud="ibm"),
            ev.StepStarted(t=0.0, cloud="ibm", step="resolve"),
            ev.StepFinished(t=1.0, cloud="ibm", step="resolve", duration_s=1.0),
            ev.StepStarted(t=1.0, cloud="ibm", step="servers"),
            ev.StepProgress(t=2.0, cloud="ibm", step="servers", message="1/2", done=1, total=2),
        ]
    )
    c = s.clouds["ibm"]
    assert c.status == "running"
    assert c.current is not None and c.current.name == "servers"
    assert (c.current.done, c.current.total) == (1, 2)
    s = fold(
        [
            ev.StepFinished(t=3.0, cloud="ibm", step="servers", duration_s=2.0),
            ev.CloudJoined(t=9.0, cloud="ibm", time_to_join_s=9.0),
        ],
        s,
    )
    assert s.clouds["ibm"].status == "joined"
    assert s.clouds["ibm"].time_to_join_s == 9.0
    assert s.t == 9.0


def test_failure_then_retry_resets_only_from_the_failed_step() -> None:
    s = fold(
        [
            started("ibm"),
            ev.CloudStarted(cloud="ibm"),
            ev.StepFinished(cloud="ibm", step="resolve", duration_s=1.0),
            ev.StepFailed(cloud="ibm", step="servers", error="quota exceeded", duration_s=2.0),
        ]
    )
    assert s.clouds["ibm"].status == "failed"
    assert s.clouds["ibm"].error == "servers: quota exceeded"
    s = apply(s, ev.CloudStarted(cloud="ibm", from_step="servers"))
    steps = {st.name: st.status for st in s.clouds["ibm"].steps}
    assert steps == {"resolve": "done", "servers": "pending", "join": "pending"}
    assert s.clouds["ibm"].error == ""


def test_log_tail_is_bounded_and_counts_everything() -> None:
    s = fold([started("ibm")])
    for i in range(30):
        s = apply(s, ev.LogLines(cloud="ibm", lines=(f"a{i}", f"b{i}")))
    c = s.clouds["ibm"]
    assert c.log_count == 60
    assert len(c.log_tail) == LOG_TAIL
    assert c.log_tail[-1] == "b29"


def test_events_for_unknown_clouds_change_nothing() -> None:
    s = fold([started("ibm")])
    assert apply(s, ev.StepStarted(cloud="nope", step="resolve")) is s


def test_a_kill_is_shown_at_once_then_the_cluster_story_is_timed() -> None:
    node = "ibm/node-1"
    s = fold(
        [
            started("ibm"),
            ev.NodeObserved(t=1.0, node=node, cloud="ibm", liveness="live"),
            ev.ClusterHealthObserved(t=2.0, ranges=10),
            ev.KillIssued(t=10.0, target=node, target_kind="node", nodes=(node,)),
        ]
    )
    assert s.nodes[node].killed_t == 10.0
    assert s.nodes[node].liveness == "live"  # the cluster has not noticed yet
    s = fold(
        [
            ev.ProbeObserved(t=10.4, node=node, cloud="ibm", status="down"),
            ev.NodeObserved(t=15.0, node=node, cloud="ibm", liveness="suspect"),
            ev.ClusterHealthObserved(t=15.0, ranges=10, under_replicated=4),
            ev.NodeObserved(t=90.0, node=node, cloud="ibm", liveness="dead"),
            ev.ClusterHealthObserved(t=91.0, ranges=10, under_replicated=2),
            ev.ClusterHealthObserved(t=99.0, ranges=10, under_replicated=0),
        ],
        s,
    )
    (k,) = s.kills
    assert (k.probe_down_t, k.suspect_t, k.dead_t, k.healed_t) == (10.4, 15.0, 90.0, 99.0)
    assert s.nodes[node].since_t == 90.0
    assert s.count("dead") == 1


def test_health_before_any_damage_does_not_count_as_healed() -> None:
    s = fold(
        [
            started("ibm"),
            ev.KillIssued(t=5.0, target="ibm", target_kind="cloud", nodes=()),
            ev.ClusterHealthObserved(t=6.0, ranges=10, under_replicated=0),
        ]
    )
    assert s.kills[0].healed_t is None


def test_revive_clears_the_killed_mark_and_live_again_does_too() -> None:
    node = "ibm/node-2"
    s = fold(
        [
            started("ibm"),
            ev.NodeObserved(t=1.0, node=node, cloud="ibm", liveness="live"),
            ev.KillIssued(t=2.0, target=node, target_kind="node", nodes=(node,)),
            ev.ReviveIssued(t=3.0, target=node, target_kind="node", nodes=(node,)),
        ]
    )
    assert s.nodes[node].killed_t is None


def test_teardown_counts_resources_down_to_zero() -> None:
    s = fold(
        [
            started("ibm"),
            ev.ResourceRecorded(cloud="ibm", resource_type="server", resource_id="s1"),
            ev.ResourceRecorded(cloud="ibm", resource_type="volume", resource_id="v1"),
            ev.TeardownStarted(cloud="ibm"),
            ev.ResourceDeleted(cloud="ibm", resource_type="volume", resource_id="v1"),
            ev.ResourceDeleted(cloud="ibm", resource_type="server", resource_id="s1"),
            ev.TeardownFinished(cloud="ibm"),
        ]
    )
    assert s.clouds["ibm"].status == "torn_down"
    assert s.clouds["ibm"].resources == 0


def test_workload_history_feeds_a_bounded_sparkline() -> None:
    s = RoomState()
    for i in range(500):
        s = apply(s, ev.WorkloadSample(ops_per_s=float(i), p99_ms=12.0))
    assert len(s.workload.history) == 120
    assert s.workload.history[-1] == 499.0
    assert s.workload.p99_ms == 12.0


def test_progress_from_outside_the_plan_does_not_grow_the_step_strip() -> None:
    s = fold(
        [
            started("ibm"),
            ev.StepProgress(cloud="ibm", step="teardown", message="deleting namespace"),
        ]
    )
    assert [st.name for st in s.clouds["ibm"].steps] == list(STEPS)
