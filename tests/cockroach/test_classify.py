"""Liveness classification: every state and the edges, as CockroachDB's LivenessStatus."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.cockroach.classify import LIVENESS_STATES, Liveness, classify, parse_expiration

EXP = 1_000.0
DEAD_AFTER = 75.0


def row(**kw: object) -> Liveness:
    base: dict[str, object] = {"node_id": 1, "epoch": 1, "expiration": EXP}
    base.update(kw)
    return Liveness(**base)  # type: ignore[arg-type]


CASES = [
    # (name, row, now, expected)
    ("live well before expiry", row(), EXP - 3, "live"),
    ("live a hair before expiry", row(), EXP - 1e-6, "live"),
    ("exactly at expiry is no longer live", row(), EXP, "suspect"),
    ("suspect just after expiry", row(), EXP + 0.1, "suspect"),
    ("exactly at expiry + threshold still suspect", row(), EXP + DEAD_AFTER, "suspect"),
    ("dead just after expiry + threshold", row(), EXP + DEAD_AFTER + 1e-3, "dead"),
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
    assert classify(row(), EXP + 100, 300.0) == "suspect"
    assert classify(row(), EXP + 100, 75.0) == "dead"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000.123456789,0", 1700000000.123456789),
        ("1700000000.000000000,3", 1700000000.0),
        ("1700000000,0", 1700000000.0),
        (" 12.5,1 ", 12.5),
    ],
)
def test_parse_expiration(text: str, expected: float) -> None:
    assert parse_expiration(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", ["", "1700000000", "abc,0", "1.5,x", "-1.0,0", "nan,0", ","])
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
    expiration=st.floats(0, 2e9),
    threshold=st.floats(0, 3600),
    times=st.lists(st.floats(0, 2e9 + 7200), min_size=2, max_size=8),
    draining=st.booleans(),
    membership=st.sampled_from(["active", "decommissioning", "decommissioned"]),
    epoch=st.integers(0, 5),
)
def test_a_silent_node_only_ever_gets_worse(
    expiration: float,
    threshold: float,
    times: list[float],
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
