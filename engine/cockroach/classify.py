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

Times are integer nanoseconds, never floats: an expiration is printed as ``"%d.%09d,%d"``
(pkg/util/hlc/timestamp.go, ``Timestamp.String``), and a float of today's Unix time in
seconds keeps only about a quarter of a microsecond, so a node 1 ns before its expiry
would read suspect.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from engine.events import LivenessState

NANOS = 10**9

LIVE: Final = "live"
SUSPECT: Final = "suspect"
DEAD: Final = "dead"
DRAINING: Final = "draining"
DECOMMISSIONING: Final = "decommissioning"
DECOMMISSIONED: Final = "decommissioned"
LIVENESS_STATES = (LIVE, SUSPECT, DEAD, DRAINING, DECOMMISSIONING, DECOMMISSIONED)

SERVING = frozenset({LIVE, DRAINING, DECOMMISSIONING})
"""States whose node still holds a fresh liveness record (its store metrics are current)."""


@dataclass(frozen=True)
class Liveness:
    """The columns of one ``crdb_internal.gossip_liveness`` row that decide its state."""

    node_id: int
    epoch: int
    expiration_ns: int
    """Wall time of the liveness expiration in Unix nanoseconds (``"<s>.<9 digits>,<logical>"``)."""
    draining: bool = False
    membership: str = "active"


def nanos(seconds: Decimal | int | float | str) -> int:
    """Seconds (the cluster clock's DECIMAL, or a setting) -> integer nanoseconds, exactly.

    Floats go through their shortest decimal form, so ``75.0`` is exactly 75 s. Raises
    ``ValueError`` for anything that is not a finite number.
    """
    try:
        value = Decimal(str(seconds)) if not isinstance(seconds, Decimal) else seconds
    except InvalidOperation as exc:
        raise ValueError(f"not a number of seconds: {seconds!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a number of seconds: {seconds!r}")
    return int((value * NANOS).to_integral_value())


def parse_expiration(text: str) -> int:
    """``"1700000000.123456789,0"`` -> Unix nanoseconds; the logical part only orders equal walls.

    Raises ``ValueError`` for anything that is not an HLC timestamp string, including a wall
    time finer than a nanosecond (CockroachDB never prints one).
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
    scaled = value * NANOS
    if scaled != scaled.to_integral_value():
        raise ValueError(f"not an HLC timestamp (finer than 1 ns): {text!r}")
    return int(scaled)


def classify(row: Liveness, now_ns: int, time_until_store_dead_ns: int) -> LivenessState:
    """One of ``LIVENESS_STATES`` for ``row`` at the cluster's clock ``now_ns`` (Unix ns)."""
    alive = now_ns < row.expiration_ns
    dead = row.epoch > 0 and now_ns > row.expiration_ns + time_until_store_dead_ns
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
