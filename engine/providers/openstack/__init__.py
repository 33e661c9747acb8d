"""Real OpenStack clouds through openstacksdk: the interop steps, teardown, sweep, preflight.

Importing the package costs nothing: openstacksdk is loaded only when one of these names
is first used (``__getattr__`` below), so pure modules such as ``rules`` serve the
rehearsal without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.providers.openstack.cloud import OpenStackCloud
    from engine.providers.openstack.preflight import CloudCheck, QuotaRow, preflight
    from engine.providers.openstack.sweep import (
        CloudLeftovers,
        SweepResult,
        find_leftovers,
        sweep,
    )

_HOMES = {
    "OpenStackCloud": "engine.providers.openstack.cloud",
    "CloudCheck": "engine.providers.openstack.preflight",
    "QuotaRow": "engine.providers.openstack.preflight",
    "preflight": "engine.providers.openstack.preflight",
    "CloudLeftovers": "engine.providers.openstack.sweep",
    "SweepResult": "engine.providers.openstack.sweep",
    "find_leftovers": "engine.providers.openstack.sweep",
    "sweep": "engine.providers.openstack.sweep",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
