"""One simulated CockroachDB node's process and its node-liveness record.

Timing follows CockroachDB v23.1+ (reference/cockroach.md §2.3): a running node heartbeats
every 3 s and each heartbeat extends its liveness expiration to heartbeat time + 6 s.
Classification is the server's ``LivenessStatus`` as the DB Console names it (§2.2):
LIVE while ``now < expiration``, DEAD once ``expiration + server.time_until_store_dead``
has passed, and UNAVAILABLE (console: "suspect") in between.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from engine.events import LivenessState

HEARTBEAT_S = 3.0
"""Liveness heartbeat interval since v23.1 (PR #91947)."""
LIVENESS_TTL_S = 6.0
"""Each heartbeat extends the record to heartbeat time + 6 s (v23.1+)."""
MIN_TIME_UNTIL_STORE_DEAD_S = 75.0
"""CockroachDB refuses ``server.time_until_store_dead`` below 1m15s (StoresInterval + 15 s)."""
DEFAULT_TIME_UNTIL_STORE_DEAD_S = 300.0
START_DELAY_S = (1.0, 3.0)
"""A started process sends its first heartbeat this many demo seconds later (join, restart)."""
RESUME_S = (0.2, 1.5)
"""A thawed process (SIGCONT) or a healed partition: the heartbeat loop's next write lands
this much later (the process and its store were there all along; gRPC reconnects)."""


@dataclass
class SimNode:
    """A ``cockroach start`` process and the liveness record the cluster keeps for it.

    ``frozen_expiration`` is the expiration the previous process left behind; it is what
    the cluster keeps seeing while the process is down, stopped (``frozen``: SIGSTOP) or
    cut off from the liveness range's majority (``cut_off``: a partition). A stopped or cut
    off process still runs: Kubernetes and the TCP stack see it, the cluster does not.
    """

    name: str
    cloud: str
    address: str
    rng: random.Random
    started_at: float
    first_heartbeat_at: float
    running: bool = True
    killed_at: float | None = None
    frozen_expiration: float | None = None
    node_id: int | None = None
    removed: bool = False
    frozen: bool = False
    cut_off: bool = False

    @classmethod
    def started(
        cls, name: str, cloud: str, address: str, rng: random.Random, now: float
    ) -> SimNode:
        return cls(
            name=name,
            cloud=cloud,
            address=address,
            rng=rng,
            started_at=now,
            first_heartbeat_at=now + rng.uniform(*START_DELAY_S),
        )

    @property
    def heartbeating(self) -> bool:
        """Its heartbeats reach the liveness range: running, not stopped, not cut off."""
        return self.running and not self.frozen and not self.cut_off

    def expiration(self, now: float) -> float | None:
        """The liveness expiration the cluster holds at ``now``; ``None`` if never heartbeated."""
        if self.heartbeating and now >= self.first_heartbeat_at:
            beats = math.floor((now - self.first_heartbeat_at) / HEARTBEAT_S)
            return self.first_heartbeat_at + beats * HEARTBEAT_S + LIVENESS_TTL_S
        return self.frozen_expiration

    def kill(self, now: float) -> None:
        """The process dies at once (SIGKILL, pod deleted): heartbeats stop."""
        if not self.running:
            return
        self.frozen_expiration = self.expiration(now)
        self.running = False
        self.frozen = False  # SIGKILL ends a stopped process too; the next one runs
        self.killed_at = now

    def _silence(self, now: float) -> None:
        if self.heartbeating:
            self.frozen_expiration = self.expiration(now)

    def _resume(self, now: float) -> None:
        if self.heartbeating:
            self.first_heartbeat_at = now + self.rng.uniform(*RESUME_S)

    def freeze(self, now: float) -> None:
        """SIGSTOP: the process stays (same pid, connections open) but does nothing."""
        if self.running and not self.frozen:
            self._silence(now)
            self.frozen = True

    def thaw(self, now: float) -> None:
        """SIGCONT: it carries on where it stopped; its next heartbeat renews the record."""
        if self.frozen:
            self.frozen = False
            self._resume(now)

    def set_cut_off(self, cut: bool, now: float) -> None:
        """A partition starts (``True``) or heals: heartbeats stop reaching the majority."""
        if cut == self.cut_off:
            return
        if cut:
            self._silence(now)
            self.cut_off = True
        else:
            self.cut_off = False
            self._resume(now)

    def restart(self, now: float) -> None:
        """A new process on the same store: same node id, live after its first heartbeat."""
        if self.running:
            return
        self.running = True
        self.killed_at = None
        self.started_at = now
        self.first_heartbeat_at = now + self.rng.uniform(*START_DELAY_S)

    def classify(self, now: float, dead_after_s: float) -> LivenessState | None:
        """``live`` / ``suspect`` / ``dead``; ``None`` before the node ever joined."""
        expiration = self.expiration(now)
        if expiration is None:
            return None
        if now < expiration:
            return "live"
        if now >= expiration + dead_after_s:
            return "dead"
        return "suspect"

    def probe(self, now: float, liveness: str | None) -> str:
        """What ``GET /health?ready=1`` on this node answers: refused (or no answer from a
        stopped process), 503, or 200."""
        if not self.running or self.frozen:
            return "down"
        if liveness == "live" and now >= self.first_heartbeat_at:
            return "ready"
        return "not_ready"
