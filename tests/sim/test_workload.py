"""The simulated ``workload run kv``: steady at max_rate when healthy, visibly hurt by a kill."""

from __future__ import annotations

import copy
from statistics import median

import pytest

from engine.config.model import ClusterConfig, WorkloadConfig
from engine.sim.cluster import SimCluster

from .show import Show, fleet, health, workload


@pytest.fixture(scope="module")
def settled() -> Show:
    show = fleet(15, 3, cluster=ClusterConfig(ranges=300))
    show.run_until_settled()
    return show


def test_healthy_cluster_runs_at_max_rate_with_millisecond_latency(settled: Show) -> None:
    show = copy.deepcopy(settled)
    samples = workload(show.run(60.0))
    assert len(samples) == 60
    for s in samples:
        assert 450.0 <= s.ops_per_s <= 550.0
        assert 1.0 <= s.p50_ms <= 10.0
        assert 5.0 <= s.p99_ms <= 100.0
        assert s.p50_ms <= s.p95_ms <= s.p99_ms <= s.max_ms
    assert samples[-1].errors_total == samples[0].errors_total
    qps = [h.queries_per_s for h in health(show.events[-60:])]
    assert all(q is not None and 450.0 <= q <= 560.0 for q in qps)


def test_a_kill_brings_errors_and_a_latency_spike_then_recovers(settled: Show) -> None:
    show = copy.deepcopy(settled)
    before = workload(show.events)[-1].errors_total
    killed_at = show.t
    show.cluster.kill_node("cloud05/node-1", killed_at)
    samples = workload(show.run(30.0))
    during = [s for s in samples if s.t <= killed_at + 8]
    after = [s for s in samples if s.t > killed_at + 10]
    assert samples[-1].errors_total > before
    assert max(s.max_ms for s in during) >= 1000.0  # ops waited for the lease to move
    assert min(s.ops_per_s for s in during) < 250.0
    assert median(s.ops_per_s for s in after) == pytest.approx(500.0, rel=0.1)
    assert max(s.p99_ms for s in after) < 100.0
    assert {s.errors_total for s in after} == {samples[-1].errors_total}


def test_unavailable_ranges_fail_ops_until_quorum_returns() -> None:
    show = fleet(3, 1, cluster=ClusterConfig(ranges=60))
    show.run_until_settled()
    for n in ("cloud01/node-1", "cloud02/node-1"):
        show.cluster.kill_node(n, show.t)
    samples = workload(show.run(40.0))
    assert samples[-1].errors_total - samples[0].errors_total >= 20
    assert max(s.ops_per_s for s in samples[-10:]) == 0.0


def test_no_samples_before_a_node_is_live_or_when_disabled() -> None:
    show = Show(SimCluster(ClusterConfig(ranges=30), WorkloadConfig(), seed=2))
    assert workload(show.run(3.0)) == []  # nothing added yet
    show.add_cloud("a", 1)
    samples = workload(show.run(10.0))
    assert samples and samples[0].t >= 2.0
    off = Show(SimCluster(ClusterConfig(ranges=30), WorkloadConfig(enabled=False), seed=2))
    off.add_cloud("a", 3)
    assert workload(off.run(20.0)) == []


def test_a_single_node_is_capacity_bound_below_max_rate() -> None:
    show = Show(SimCluster(ClusterConfig(ranges=30), WorkloadConfig(max_rate=2000), seed=4))
    show.add_cloud("a", 1)
    samples = workload(show.run(20.0))[-10:]
    assert all(s.ops_per_s < 500.0 for s in samples)
    assert median(s.p50_ms for s in samples) > 5.0  # queueing on the one node
