"""A partition and a frozen process on the rehearsal cluster (5 clouds x 3 nodes, replicas
spread one per cloud, ``server.time_until_store_dead = 1m15s``), with the kv workload on.

What CockroachDB does (reference notes, liveness and ranges): nodes whose heartbeats cannot
reach the liveness range's quorum expire (suspect after the 6 s TTL, dead after the store
dead time); ranges keep quorum because no cloud holds more than one replica of a range;
clients connected to the cut-off or stopped side see their statements time out.
"""

from __future__ import annotations

import copy

import pytest

from engine.config.model import WorkloadConfig
from engine.events import NodeObserved, ProbeObserved
from engine.sim.liveness import HEARTBEAT_S, LIVENESS_TTL_S, RESUME_S

from .show import Show, fleet, health, liveness_changes, of_type, workload

CUT = "cloud02"
FROZEN = "cloud03/node-2"
SOON = LIVENESS_TTL_S + HEARTBEAT_S + 1.0
"""A silent node's record expires within one TTL after its last heartbeat (+ a tick)."""


@pytest.fixture(scope="module")
def settled_15() -> Show:
    show = fleet(5, 3, seed=3, workload=WorkloadConfig(concurrency=16))
    show.run_until_settled()
    show.run(20.0)
    return show


@pytest.fixture
def show(settled_15: Show) -> Show:
    return copy.deepcopy(settled_15)


def cut_nodes() -> list[str]:
    return [f"{CUT}/node-{i}" for i in (1, 2, 3)]


def test_the_majority_sees_the_cut_cloud_suspect_while_every_range_keeps_quorum(
    show: Show,
) -> None:
    ids = {e.node: e.node_id for e in of_type(show.events, NodeObserved)}
    errors_before = workload(show.events)[-1].errors_total
    at = show.t
    show.cluster.partition_cloud(CUT, at)
    during = show.run(30.0)
    for node in cut_nodes():
        changes = liveness_changes(during, node)
        assert changes and changes[0][1] == "suspect" and changes[0][0] - at <= SOON
        assert show.cluster.liveness(node) == "suspect"
    others = [n for n in ids if not n.startswith(CUT)]
    assert all(show.cluster.liveness(n) == "live" for n in others)
    # the venue still reaches both sides: the cut nodes answer their probes, 503
    probes = [e for e in of_type(during, ProbeObserved) if e.node.startswith(CUT)]
    assert {e.status for e in probes} == {"not_ready"}
    # one replica per cloud: losing one cloud leaves two of three everywhere
    assert all(h.unavailable == 0 for h in health(during))
    assert health(during)[-1].under_replicated > 0
    # the leases the cut nodes held stall until they expire, then move: the majority serves
    samples = workload(during)
    assert samples[-1].errors_total >= errors_before
    assert min(s.ops_per_s for s in samples[-10:]) > 400

    healed_at = show.t
    show.cluster.heal_cloud(CUT, healed_at)
    after = show.run(15.0)
    for node in cut_nodes():
        back = [t for t, state in liveness_changes(after, node) if state == "live"]
        assert back and back[0] - healed_at <= RESUME_S[1] + 1.0
    assert all(
        e.node_id == ids[e.node] for e in of_type(after, NodeObserved)
    )  # same stores, same node IDs
    # once the last timed-out statement has failed, no more errors
    late = [s for s in workload(after) if s.t >= healed_at + 5.0]
    assert len({s.errors_total for s in late}) == 1


def test_workers_connected_to_the_cut_off_side_time_out_for_as_long_as_it_lasts(
    show: Show,
) -> None:
    """The workload opened its connections while only the first cloud existed (cloud00):
    cut that cloud off and every worker's statements time out, again and again."""
    at = show.t
    show.cluster.partition_cloud("cloud00", at)
    samples = workload(show.run(40.0))
    errors = [s.errors_total for s in samples]
    # each of the 16 workers fails one statement per 3 s timeout, start to end
    assert errors[-1] - errors[-11] >= 16 * 2
    assert errors[19] - errors[9] >= 16 * 2
    assert all(h.unavailable == 0 for h in health(show.events[-40:]))
    show.cluster.heal_cloud("cloud00", show.t)
    after = workload(show.run(20.0))
    assert len({s.errors_total for s in after[8:]}) == 1
    assert after[-1].ops_per_s > 400


def test_a_long_partition_goes_dead_and_is_replaced_then_heals_live(show: Show) -> None:
    at = show.t
    show.cluster.partition_cloud(CUT, at)
    during = show.run(75.0 + 30.0)
    dead_store = show.cluster.time_until_store_dead_s
    for node in cut_nodes():
        states = liveness_changes(during, node)
        assert [s for _, s in states] == ["suspect", "dead"]
        assert dead_store <= states[1][0] - at <= dead_store + SOON
    assert all(h.unavailable == 0 for h in health(during))
    show.cluster.heal_cloud(CUT, show.t)
    show.run(10.0)
    assert all(show.cluster.liveness(n) == "live" for n in cut_nodes())


def test_a_cut_off_side_that_is_larger_keeps_the_quorum() -> None:
    """With two clouds, cutting the bigger one off leaves the smaller one as the minority."""
    show = fleet(2, 3, seed=4)
    show.cluster.add_node("cloud01/node-4", "cloud01", show.t)
    show.run(30.0)
    at = show.t
    show.cluster.partition_cloud("cloud01", at)
    show.run(SOON + 1.0)
    assert show.cluster.liveness("cloud01/node-1") == "live"
    assert show.cluster.liveness("cloud00/node-1") == "suspect"


def test_a_frozen_process_is_silent_then_back_on_sigcont_with_the_same_node_id(
    show: Show,
) -> None:
    node_id = next(e.node_id for e in of_type(show.events, NodeObserved) if e.node == FROZEN)
    errors_before = workload(show.events)[-1].errors_total
    at = show.t
    show.cluster.freeze_node(FROZEN, at)
    during = show.run(20.0)
    changes = liveness_changes(during, FROZEN)
    assert changes and changes[0][1] == "suspect" and changes[0][0] - at <= SOON
    # a stopped process accepts nothing: the probe gets no answer
    probes = [e for e in of_type(during, ProbeObserved) if e.node == FROZEN]
    assert [(e.status, e.detail) for e in probes] == [("down", "timed out (no answer)")]
    assert workload(during)[-1].errors_total > errors_before
    assert all(h.unavailable == 0 for h in health(during))

    thawed = show.t
    show.cluster.thaw_node(FROZEN, thawed)
    after = show.run(10.0)
    back = [e for e in of_type(after, NodeObserved) if e.node == FROZEN]
    assert back and back[0].liveness == "live" and back[0].node_id == node_id
    assert back[0].t - thawed <= RESUME_S[1] + 1.0
    assert [e.status for e in of_type(after, ProbeObserved) if e.node == FROZEN] == ["ready"]
