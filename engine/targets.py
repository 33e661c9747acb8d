"""Chaos targets as the presenter names them: ``CLOUD``, ``CLOUD/node-N``, ``CLOUD/server-N``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TargetKind = Literal["node", "server", "cloud"]

_TARGET = re.compile(r"^(?P<cloud>[A-Za-z0-9_.-]+)(?:/(?P<kind>node|server)-(?P<n>[1-9][0-9]*))?$")


@dataclass(frozen=True)
class Target:
    """What a kill or revive aims at; ``index`` is 1-based, ``None`` for a whole cloud."""

    cloud: str
    kind: TargetKind
    index: int | None = None

    def __str__(self) -> str:
        return self.cloud if self.index is None else f"{self.cloud}/{self.kind}-{self.index}"


def parse_target(text: str) -> Target:
    """Parse ``vexxhost/node-1``; raise ``ValueError`` with a one-line reason."""
    match = _TARGET.match(text.strip())
    if match is None:
        raise ValueError(f"bad target {text!r}: expected CLOUD, CLOUD/node-N or CLOUD/server-N")
    kind = match.group("kind")
    if kind is None:
        return Target(match.group("cloud"), "cloud")
    return Target(
        match.group("cloud"), "node" if kind == "node" else "server", int(match.group("n"))
    )


def node_name(cloud: str, index: int) -> str:
    """The key every event and view uses for a CockroachDB node: ``cloud/node-N``."""
    return f"{cloud}/node-{index}"


def server_name(cloud: str, index: int) -> str:
    return f"{cloud}/server-{index}"
