"""How crossroom marks what it makes, so a run's resources can be found without a ledger.

Every name starts with the run id (``StepContext.resource_name``). Servers and volumes
also carry metadata ``crossroom_run=<run id>``; security groups, ports and floating IPs carry
Neutron tags and a description with the same words. Key pairs cannot be tagged: their
name is the mark. A sweep touches only what carries one of these marks.
"""

from __future__ import annotations

import re
from typing import Any

RUN_KEY = "crossroom_run"
CLOUD_KEY = "crossroom_cloud"
INDEX_KEY = "crossroom_index"

RUN_ID_PATTERN = r"[a-z][a-z0-9-]*-\d{8}-\d{6}-[0-9a-f]{4}"
"""``engine.rundir.new_run_id``: ``<prefix>-YYYYmmdd-HHMMSS-xxxx``."""


def base_name(run_id: str, cloud: str) -> str:
    return f"{run_id}-{cloud}"


def keypair_name(run_id: str, cloud: str) -> str:
    return f"{base_name(run_id, cloud)}-key"


def group_name(run_id: str, cloud: str) -> str:
    return f"{base_name(run_id, cloud)}-sg"


def server_name(run_id: str, cloud: str, index: int) -> str:
    return f"{base_name(run_id, cloud)}-server-{index}"


def port_name(run_id: str, cloud: str, index: int) -> str:
    return f"{base_name(run_id, cloud)}-port-{index}"


def volume_name(run_id: str, cloud: str, index: int) -> str:
    return f"{base_name(run_id, cloud)}-volume-{index}"


def marks(run_id: str, cloud: str, index: int | None = None) -> dict[str, str]:
    """Metadata for servers and volumes."""
    out = {RUN_KEY: run_id, CLOUD_KEY: cloud}
    if index is not None:
        out[INDEX_KEY] = str(index)
    return out


def tags(run_id: str, cloud: str, index: int | None = None) -> list[str]:
    """Neutron tags (no commas allowed, so ``key=value`` words)."""
    return [f"{k}={v}" for k, v in marks(run_id, cloud, index).items()]


def description(run_id: str, cloud: str, index: int | None = None) -> str:
    """Set at create time, so even a resource whose tagging never happened is ours."""
    return " ".join(tags(run_id, cloud, index))


def parse_marks(words: Any) -> dict[str, str]:
    """Marks from metadata (a dict), tags (a list) or a description (a string)."""
    if isinstance(words, dict):
        return {str(k): str(v) for k, v in words.items() if str(k).startswith("crossroom_")}
    if isinstance(words, str):
        words = words.split()
    out: dict[str, str] = {}
    for word in words or ():
        key, sep, value = str(word).partition("=")
        if sep and key.startswith("crossroom_"):
            out[key] = value
    return out


def index_of(found: dict[str, str]) -> int | None:
    try:
        return int(found[INDEX_KEY])
    except (KeyError, ValueError):
        return None


def keypair_run(name: str, cloud: str, run_id: str | None) -> str | None:
    """The run a key pair belongs to, judged by its name only; ``None`` when not ours."""
    suffix = f"-{cloud}-key"
    if not name.endswith(suffix):
        return None
    run = name[: -len(suffix)]
    if run_id is not None:
        return run if run == run_id else None
    return run if re.fullmatch(RUN_ID_PATTERN, run) else None
