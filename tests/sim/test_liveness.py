"""One node's liveness record against CockroachDB v23.1+ timing (3 s heartbeat, 6 s TTL)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from engine.sim.liveness import SimNode

times = st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False)


@given(start=times, after=st.floats(min_value=3.0, max_value=600.0), seed=st.integers(0, 99))
def test_a_killed_node_is_suspect_3_to_6_s_later_and_dead_after_the_threshold(
    start: float, after: float, seed: int
) -> None:
    node = SimNode.started("a/node-1", "a", "203.0.113.1:26257", random.Random(seed), start)
    assert node.classify(start, 75.0) is None  # not joined yet
    killed = start + after
    assert node.classify(killed, 75.0) == "live"
    node.kill(killed)
    expiration = node.expiration(killed)
    assert expiration is not None and killed + 3.0 < expiration <= killed + 6.0 + 1e-9
    assert node.classify(expiration - 1e-6, 75.0) == "live"
    assert node.probe(killed, "live") == "down"
    assert node.classify(expiration, 75.0) == "suspect"
    assert node.classify(expiration + 74.9, 75.0) == "suspect"
    assert node.classify(expiration + 75.0, 75.0) == "dead"


def test_a_restart_is_live_after_its_first_heartbeat_and_not_ready_before() -> None:
    node = SimNode.started("a/node-1", "a", "x:26257", random.Random(1), 0.0)
    node.kill(10.0)
    node.restart(200.0)
    assert node.classify(200.0, 75.0) == "dead"
    assert node.probe(200.0, "dead") == "not_ready"
    first = node.first_heartbeat_at
    assert 201.0 <= first <= 203.0
    assert node.classify(first, 75.0) == "live"
    assert node.probe(first, "live") == "ready"
