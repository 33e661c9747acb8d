"""Liveness classification: every state and the edges, as CockroachDB's LivenessStatus.

Times are integer nanoseconds (hlc/timestamp.go prints ``"%d.%09d,%d"``): the edges are
tested 1 ns apart, which a float of today's Unix time cannot tell apart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.cockroach.classify import (
    LIVENESS_STATES,
    NANOS,
    Liveness,
    classify,
    nanos,
    parse_expiration,
)

EXP = 1_795_756_284_355_475_903  # "1795756284.355475903,0", a 2026 expiration
DEAD_AFTER = 75 * NANOS


def row(**kw: object) -> Liveness:
    base: dict[str, object] = {"node_id": 1, "epoch": 1, "expiration_ns": EXP}
    base.update(kw)
    return Liveness(**base)  # type: ignore[arg-type]


CASES = [
    # (name, row, now, expected)
    ("live well before expiry", row(), EXP - 3 * NANOS, "live"),
    ("live 1 ns before expiry", row(), EXP - 1, "live"),
    ("exactly at expiry is no longer live", row(), EXP, "suspect"),
    ("suspect 1 ns after expiry", row(), EXP + 1, "suspect"),
    ("exactly at expiry + threshold still suspect", row(), EXP + DEAD_AFTER, "suspect"),
    ("dead 1 ns after expiry + threshold", row(), EXP + DEAD_AFTER + 1, "dead"),
    ("epoch 0 is never dead", row(epoch=0), EXP + 10 * DEAD_AFTER, "suspect"),
    ("draining and live", row(draining=True), EXP - 1, "draining"),
    ("draining but expired is suspect", row(draining=True), EXP + 1, "suspect"),
    ("draining and dead is dead", row(draining=True), EXP + DEAD_AFTER + 1, "dead"),
    ("decommissioning and live", row(membership="decommissioning"), EXP - 1, "decommissioning"),
    (
        "draining and decommissioning together: decommissioning",
        row(membership="decommissioning", draining=True),
        EXP - 1,
        "decommissioning",
    ),
    ("decommissioning expired is suspect", row(membership="decommissioning"), EXP + 1, "suspect"),
    (
        "decommissioning dead is decommissioned",
        row(membership="decommissioning"),
        EXP + DEAD_AFTER + 1,
        "decommissioned",
    ),
    (
        "decommissioned but live reads decommissioning",
        row(membership="decommissioned"),
        EXP - 1,
        "decommissioning",
    ),
    ("decommissioned and expired", row(membership="decommissioned"), EXP + 1, "decommissioned"),
    (
        "decommissioned and dead",
        row(membership="decommissioned"),
        EXP + DEAD_AFTER + 1,
        "decommissioned",
    ),
]


@pytest.mark.parametrize(("name", "liveness", "now", "expected"), CASES, ids=[c[0] for c in CASES])
def test_classify(name: str, liveness: Liveness, now: float, expected: str) -> None:
    assert classify(liveness, now, DEAD_AFTER) == expected


def test_threshold_moves_the_dead_line() -> None:
    assert classify(row(), EXP + 100 * NANOS, 300 * NANOS) == "suspect"
    assert classify(row(), EXP + 100 * NANOS, 75 * NANOS) == "dead"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000.123456789,0", 1_700_000_000_123_456_789),
        ("1795756284.355475903,0", EXP),
        ("1700000000.000000000,3", 1_700_000_000 * NANOS),
        ("1700000000,0", 1_700_000_000 * NANOS),
        (" 12.5,1 ", 12_500_000_000),
    ],
)
def test_parse_expiration_is_exact_to_the_nanosecond(text: str, expected: int) -> None:
    assert parse_expiration(text) == expected


def test_a_node_one_nanosecond_before_its_expiry_is_live_on_the_clusters_clock() -> None:
    """The clock arrives as a DECIMAL of seconds; a float would make both sides equal."""
    expiration = parse_expiration("1795756284.355475903,0")
    now = nanos(Decimal("1795756284.355475902"))
    assert float(Decimal("1795756284.355475902")) == float(Decimal("1795756284.355475903"))
    assert classify(Liveness(1, 1, expiration), now, DEAD_AFTER) == "live"
    assert classify(Liveness(1, 1, expiration), now + 1, DEAD_AFTER) == "suspect"


def test_nanos_of_settings_and_clocks() -> None:
    assert nanos(75.0) == 75 * NANOS
    assert nanos(Decimal("1795756284.355475")) == 1_795_756_284_355_475_000
    assert nanos("0.000000001") == 1
    with pytest.raises(ValueError):
        nanos(float("nan"))


@pytest.mark.parametrize(
    "text",
    ["", "1700000000", "abc,0", "1.5,x", "-1.0,0", "nan,0", ",", "1.0000000001,0"],
)
def test_parse_expiration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="HLC"):
        parse_expiration(text)


ORDER = {
    "live": 0,
    "draining": 0,
    "decommissioning": 0,
    "suspect": 1,
    "dead": 2,
    "decommissioned": 2,
}


@given(
    expiration=st.integers(0, 2 * 10**18),
    threshold=st.integers(0, 3600 * NANOS),
    times=st.lists(st.integers(0, 2 * 10**18 + 7200 * NANOS), min_size=2, max_size=8),
    draining=st.booleans(),
    membership=st.sampled_from(["active", "decommissioning", "decommissioned"]),
    epoch=st.integers(0, 5),
)
def test_a_silent_node_only_ever_gets_worse(
    expiration: int,
    threshold: int,
    times: list[int],
    draining: bool,
    membership: str,
    epoch: int,
) -> None:
    """With no new heartbeat, time only moves a node towards dead, never back."""
    r = Liveness(1, epoch, expiration, draining, membership)
    states = [classify(r, t, threshold) for t in sorted(times)]
    ranks = [ORDER[s] for s in states]
    assert ranks == sorted(ranks)
    assert all(s in LIVENESS_STATES for s in states)
