"""Real OpenStack clouds through openstacksdk: the interop steps, teardown, sweep, preflight."""

from __future__ import annotations

from engine.providers.openstack.cloud import OpenStackCloud
from engine.providers.openstack.preflight import CloudCheck, QuotaRow, preflight
from engine.providers.openstack.sweep import CloudLeftovers, SweepResult, find_leftovers, sweep

__all__ = [
    "CloudCheck",
    "CloudLeftovers",
    "OpenStackCloud",
    "QuotaRow",
    "SweepResult",
    "find_leftovers",
    "preflight",
    "sweep",
]
