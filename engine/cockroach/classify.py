"""Node liveness as ``cockroach node status`` and the DB Console name it: a pure function.

Follows ``NodeVitality.LivenessStatus`` (pkg/kv/kvserver/liveness/livenesspb, newest code)
restricted to what the liveness record carries:

* alive  = now <  expiration                       (exactly at expiry: no longer alive)
* dead   = epoch > 0 and now > expiration + threshold   (strictly after; epoch 0 never dead)
* membership decommissioned: alive -> decommissioning, else -> decommissioned
* neither alive nor dead -> suspect ("UNAVAILABLE"; trumps decommissioning and draining)
* membership decommissioning: dead -> decommissioned, else -> decommissioning
* dead -> dead; draining -> draining; else live

``threshold`` is ``server.time_until_store_dead``. Older versions (<= v22.2) call a node dead
already *at* ``expiration + threshold``; the one-instant difference is not visible on stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

LIVE = "live"
SUSPECT = "suspect"
DEAD = "dead"
DRAINING = "draining"
DECOMMISSIONING = "decommissioning"
DECOMMISSIONED = "decommissioned"
LIVENESS_STATES = (LIVE, SUSPECT, DEAD, DRAINING, DECOMMISSIONING, DECOMMISSIONED)

SERVING = frozenset({LIVE, DRAINING, DECOMMISSIONING})
"""States whose node still holds a fresh liveness record (its store metrics are current)."""


@dataclass(frozen=True)
class Liveness:
    """The columns of one ``crdb_internal.gossip_liveness`` row that decide its state."""

    node_id: int
    epoch: int
    expiration: float
    """Wall seconds of the liveness expiration (parsed from ``"<s.nanos>,<logical>"``)."""
    draining: bool = False
    membership: str = "active"


def parse_expiration(text: str) -> float:
    """``"1700000000.123456789,0"`` -> seconds; the logical part only orders equal walls.

    Raises ``ValueError`` for anything that is not an HLC timestamp string.
    """
    wall, sep, logical = text.strip().partition(",")
    if not sep or not logical.isdigit():
        raise ValueError(f"not an HLC timestamp: {text!r}")
    try:
        value = Decimal(wall)
    except InvalidOperation as exc:
        raise ValueError(f"not an HLC timestamp: {text!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an HLC timestamp: {text!r}")
    return float(value)


def classify(row: Liveness, now: float, time_until_store_dead: float) -> str:
    """One of ``LIVENESS_STATES`` for ``row`` at the cluster's clock ``now`` (Unix seconds)."""
    alive = now < row.expiration
    dead = row.epoch > 0 and now > row.expiration + time_until_store_dead
    if row.membership == "decommissioned":
        return DECOMMISSIONING if alive else DECOMMISSIONED
    if not alive and not dead:
        return SUSPECT
    if row.membership == "decommissioning":
        return DECOMMISSIONED if dead else DECOMMISSIONING
    if dead:
        return DEAD
    if row.draining:
        return DRAINING
    return LIVE
