"""Replicas spread by ``cloud=`` locality: no set of kills inside one locality can take a
range below quorum, whatever the fleet's shape and whenever the kills land."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.model import ClusterConfig, WorkloadConfig

from .show import cloud_names, fleet, health


@st.composite
def one_locality_kills(draw: st.DrawFn) -> tuple[int, int, int, list[tuple[str, float]]]:
    clouds = draw(st.integers(min_value=3, max_value=7))
    nodes = draw(st.integers(min_value=1, max_value=3))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    victim_cloud = draw(st.sampled_from(cloud_names(clouds)))
    victims = draw(
        st.lists(st.integers(min_value=1, max_value=nodes), min_size=1, max_size=nodes, unique=True)
    )
    kills = [
        (f"{victim_cloud}/node-{i}", draw(st.floats(min_value=0.0, max_value=90.0)))
        for i in victims
    ]
    return clouds, nodes, seed, kills


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_locality_kills())
def test_kills_confined_to_one_locality_never_make_a_range_unavailable(
    case: tuple[int, int, int, list[tuple[str, float]]],
) -> None:
    clouds, nodes, seed, kills = case
    show = fleet(
        clouds,
        nodes,
        seed=seed,
        cluster=ClusterConfig(ranges=40),
        workload=WorkloadConfig(enabled=False),
    )
    show.run_until_settled()
    start = show.t
    pending = sorted(kills, key=lambda k: k[1])
    seen = []
    while show.t < start + 230.0:
        while pending and pending[0][1] <= show.t - start:
            node, _ = pending.pop(0)
            show.cluster.kill_node(node, show.t)
        seen.extend(health(show.run(1.0)))
    assert max(h.unavailable for h in seen) == 0
    if len(kills) < nodes or clouds > 3:
        # Enough room elsewhere: the dead replicas were replaced.
        assert seen[-1].under_replicated == 0
