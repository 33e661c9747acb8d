"""Where the simulated cluster's range replicas and leases live, and how they move.

A small allocator in CockroachDB's spirit (reference/cockroach.md §1.4, §2.3-2.4):
replicas spread across ``cloud=`` localities; a range counts as under-replicated when fewer
than RF replicas sit on live nodes and unavailable when fewer than a quorum do; replicas on
a node are replaced only once it is DEAD (``server.time_until_store_dead``), by the
replicate queue, which reaches each affected range at a different moment; a node revived
before then keeps its replicas. Every move is bounded per tick, like snapshot rates.

Quorum is counted over a range's current replicas (as ``calcRangeCounter`` does), not over
RF: while the first nodes join, a one-replica range on a live node is available (but
under-replicated), exactly as a young real cluster reports it. Membership changes (moves)
need a live quorum, so a range that lost quorum stays unavailable until nodes return.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

REPLICATE_QUEUE_SCAN_S = 20.0
"""A dead node's ranges are reached by their replicate queues spread over this window, so
its ~40 replicas heal over ~10-30 demo seconds."""
RECOVERY_SNAPSHOTS_PER_NODE_S = 8.0
"""Up-replication/recovery snapshots one node can receive per second (small ranges)."""
REBALANCE_SNAPSHOTS_PER_NODE_S = 1.0
"""Rebalancing is lower priority: one incoming snapshot per node per second."""
REBALANCE_CAP_PER_S = 20.0
"""Whole-cluster cap on rebalancing moves per second."""
LEASE_TRANSFERS_PER_S = 10.0
"""Load-based lease transfers per second, so a revived or new node takes leases back slowly."""


@dataclass(frozen=True)
class Topology:
    """What the allocator knows at one tick.

    ``live`` nodes count toward quorum (their liveness record is unexpired, even if the
    process just died); ``targets`` are live nodes whose process runs (a snapshot to them
    succeeds); ``gone`` nodes are dead or removed and their replicas get replaced.
    """

    clouds: Mapping[str, str]
    live: frozenset[str]
    targets: tuple[str, ...]
    gone: frozenset[str]


@dataclass(frozen=True)
class RangeHealth:
    ranges: int
    under_replicated: int
    unavailable: int
    replicas: int


def _quorum(replica_count: int) -> int:
    return replica_count // 2 + 1


class RangeMap:
    """Replica placement and leaseholders for ``ranges`` ranges at replication factor ``rf``.

    Node keys are ``cloud/node-N`` names; iteration is always over lists, dicts or sorted
    ints, never over sets of strings, so the same calls give the same placement.
    """

    def __init__(self, ranges: int, rf: int, rng: random.Random) -> None:
        self.rf = max(1, rf)
        self.replicas: list[list[str]] = [[] for _ in range(max(0, ranges))]
        self.leaseholder: list[str | None] = [None] * len(self.replicas)
        self.by_node: dict[str, set[int]] = {}
        self.moves = 0
        """Replicas moved off one node onto another (recovery and rebalancing)."""
        self.additions = 0
        """Replicas added by up-replication."""
        self.bootstrapped = False
        self._rng = rng
        self._recovery_due: dict[int, float] = {}
        self._rebalance_credit = 0.0
        self._lease_credit = 0.0
        self._diverse_as_of: tuple[tuple[str, ...], frozenset[str], int, int] | None = None

    def bootstrap(self, node: str) -> None:
        """The first node holds one replica (and the lease) of every range."""
        self.bootstrapped = True
        for r, reps in enumerate(self.replicas):
            if not reps:
                reps.append(node)
                self.by_node.setdefault(node, set()).add(r)
                self.leaseholder[r] = node

    def forget(self, node: str) -> None:
        """Drop every replica a node held (its store is gone for good)."""
        for r in sorted(self.by_node.pop(node, set())):
            self.replicas[r].remove(node)
            if self.leaseholder[r] == node:
                self.leaseholder[r] = None

    def replica_count(self, node: str) -> int:
        return len(self.by_node.get(node, ()))

    def lease_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for holder in self.leaseholder:
            if holder is not None:
                counts[holder] = counts.get(holder, 0) + 1
        return counts

    def health(self, topo: Topology) -> RangeHealth:
        under = unavailable = 0
        for reps in self.replicas:
            live = sum(1 for n in reps if n in topo.live)
            if live < self.rf:
                under += 1
            if live < _quorum(len(reps)):
                unavailable += 1
        replicas = sum(len(self.by_node.get(n, ())) for n in sorted(topo.live))
        return RangeHealth(len(self.replicas), under, unavailable, replicas)

    # --- one tick of the allocator -----------------------------------------------------

    def step(self, now: float, dt: float, topo: Topology) -> None:
        """Move leases and replicas for ``dt`` seconds, in the replicate queue's priority
        order: leases off non-live nodes, dead-replica replacement, up-replication,
        locality diversity, then load."""
        if not self.bootstrapped:
            return
        self._acquire_orphan_leases(topo)
        per_node = max(1, round(RECOVERY_SNAPSHOTS_PER_NODE_S * dt))
        budget = {n: per_node for n in topo.targets}
        self._recover(now, topo, budget)
        self._up_replicate(topo, budget)
        self._rebalance_credit = min(
            REBALANCE_CAP_PER_S, self._rebalance_credit + REBALANCE_CAP_PER_S * dt
        )
        per_node = max(1, round(REBALANCE_SNAPSHOTS_PER_NODE_S * dt))
        for n in topo.targets:
            budget[n] = min(budget[n], per_node)
        self._diversify(topo, budget)
        self._rebalance_load(topo, budget)
        self._lease_credit = min(
            LEASE_TRANSFERS_PER_S, self._lease_credit + LEASE_TRANSFERS_PER_S * dt
        )
        self._rebalance_leases(topo)

    def _live_count(self, r: int, topo: Topology) -> int:
        return sum(1 for n in self.replicas[r] if n in topo.live)

    def _has_quorum(self, r: int, topo: Topology) -> bool:
        return self._live_count(r, topo) >= _quorum(len(self.replicas[r]))

    def _acquire_orphan_leases(self, topo: Topology) -> None:
        """A lease whose holder's liveness expired is taken by a live replica (needs quorum)."""
        counts = self.lease_counts()
        for r, holder in enumerate(self.leaseholder):
            if holder in topo.live or not self._has_quorum(r, topo):
                continue
            candidates = [n for n in self.replicas[r] if n in topo.live]
            new = min(candidates, key=lambda n: counts.get(n, 0))
            if holder is not None:
                counts[holder] -= 1
            counts[new] = counts.get(new, 0) + 1
            self.leaseholder[r] = new

    def _pick_target(
        self, r: int, topo: Topology, budget: dict[str, int], leaving: str | None
    ) -> str | None:
        """The least-loaded running live node without a replica of ``r``, preferring a
        cloud that holds none of ``r``'s other replicas."""
        reps = self.replicas[r]
        held = {topo.clouds.get(n, "") for n in reps if n != leaving and n not in topo.gone}
        best: str | None = None
        best_key: tuple[bool, int] | None = None
        for n in topo.targets:
            if n in reps or budget.get(n, 0) < 1:
                continue
            key = (topo.clouds.get(n, "") in held, self.replica_count(n))
            if best_key is None or key < best_key:
                best, best_key = n, key
        return best

    def _move(self, r: int, source: str, target: str, budget: dict[str, int]) -> None:
        reps = self.replicas[r]
        reps[reps.index(source)] = target
        self.by_node[source].discard(r)
        self.by_node.setdefault(target, set()).add(r)
        budget[target] -= 1
        self.moves += 1
        if self.leaseholder[r] == source:
            self.leaseholder[r] = target

    def _recover(self, now: float, topo: Topology, budget: dict[str, int]) -> None:
        for node in sorted(topo.gone):
            for r in sorted(self.by_node.get(node, ())):
                if r not in self._recovery_due:
                    self._recovery_due[r] = now + self._rng.uniform(0.0, REPLICATE_QUEUE_SCAN_S)
        for r, due in sorted(self._recovery_due.items(), key=lambda item: (item[1], item[0])):
            if due > now:
                break
            if not self._has_quorum(r, topo):
                continue  # no Raft leader to change the range's membership
            for dead in [n for n in self.replicas[r] if n in topo.gone]:
                target = self._pick_target(r, topo, budget, leaving=dead)
                if target is None:
                    break
                self._move(r, dead, target, budget)
            if not any(n in topo.gone for n in self.replicas[r]):
                del self._recovery_due[r]

    def _up_replicate(self, topo: Topology, budget: dict[str, int]) -> None:
        for r, reps in enumerate(self.replicas):
            if not any(v >= 1 for v in budget.values()):
                return
            while len(reps) < self.rf and self._has_quorum(r, topo):
                target = self._pick_target(r, topo, budget, leaving=None)
                if target is None:
                    break
                reps.append(target)
                self.by_node.setdefault(target, set()).add(r)
                budget[target] -= 1
                self.additions += 1

    def _healthy(self, r: int, topo: Topology) -> bool:
        return all(n in topo.live for n in self.replicas[r])

    def _diversify(self, topo: Topology, budget: dict[str, int]) -> None:
        """Move a replica that shares a cloud with another replica of its range to a cloud
        that holds none, while such a cloud has a running live node."""
        key = (topo.targets, topo.live, self.moves, self.additions)
        if key == self._diverse_as_of:
            return  # nothing moved and nobody came or went since a scan found nothing to do
        target_clouds = {topo.clouds.get(n, "") for n in topo.targets}
        moved = False
        for r, reps in enumerate(self.replicas):
            if self._rebalance_credit < 1:
                return
            clouds = [topo.clouds.get(n, "") for n in reps]
            if len(set(clouds)) == len(clouds) or not (target_clouds - set(clouds)):
                continue
            if not self._healthy(r, topo):
                continue
            dupes = [n for n, c in zip(reps, clouds, strict=True) if clouds.count(c) > 1]
            source = max(dupes, key=self.replica_count)
            target = self._pick_target(r, topo, budget, leaving=source)
            held = {topo.clouds.get(n, "") for n in reps if n != source}
            if target is None or topo.clouds.get(target, "") in held:
                continue
            self._move(r, source, target, budget)
            self._rebalance_credit -= 1
            moved = True
        if not moved:
            self._diverse_as_of = key

    def _rebalance_load(self, topo: Topology, budget: dict[str, int]) -> None:
        """Even out replica counts across running live nodes (CockroachDB's range-count
        rebalancing: move while a node is beyond mean +/- threshold), never reducing a
        range's locality diversity."""
        if len(topo.targets) < 2:
            return
        total = sum(self.replica_count(n) for n in topo.targets)
        mean = total / len(topo.targets)
        threshold = max(2.0, 0.05 * mean)
        while self._rebalance_credit >= 1:
            receivers = [n for n in topo.targets if budget.get(n, 0) >= 1]
            if not receivers:
                return
            target = min(receivers, key=self.replica_count)
            fullest = max(self.replica_count(n) for n in topo.targets)
            underfull = self.replica_count(target) < mean - threshold
            overfull = fullest > mean + threshold and self.replica_count(target) < mean
            if not (underfull or overfull):
                return
            if not self._shed_one(target, topo, budget):
                return
            self._rebalance_credit -= 1

    def _shed_one(self, target: str, topo: Topology, budget: dict[str, int]) -> bool:
        target_cloud = topo.clouds.get(target, "")
        sources = sorted(topo.targets, key=self.replica_count, reverse=True)
        for source in sources:
            if self.replica_count(source) <= self.replica_count(target) + 1:
                return False
            for r in sorted(self.by_node.get(source, ())):
                reps = self.replicas[r]
                if target in reps or not self._healthy(r, topo):
                    continue
                before = len({topo.clouds.get(n, "") for n in reps})
                after = {topo.clouds.get(n, "") for n in reps if n != source} | {target_cloud}
                if len(after) < before:
                    continue
                self._move(r, source, target, budget)
                if self.leaseholder[r] == target and source in topo.live:
                    others = [n for n in reps if n != target and n in topo.live]
                    self.leaseholder[r] = others[0] if others else target
                return True
        return False

    def _rebalance_leases(self, topo: Topology) -> None:
        """Move leases off nodes beyond mean + threshold and onto nodes below
        mean - threshold, one transfer at a time, between replicas of the same range."""
        if len(topo.targets) < 2:
            return
        counts = self.lease_counts()
        mean = sum(counts.get(n, 0) for n in topo.targets) / len(topo.targets)
        threshold = max(2.0, 0.1 * mean)
        while self._lease_credit >= 1:
            fullest = max(topo.targets, key=lambda n: counts.get(n, 0))
            emptiest = min(topo.targets, key=lambda n: counts.get(n, 0))
            if counts.get(fullest, 0) > mean + threshold:
                transfer = self._lease_transfer(topo, counts, {fullest}, mean)
            elif counts.get(emptiest, 0) < mean - threshold:
                donors = {n for n in topo.targets if counts.get(n, 0) > mean}
                transfer = self._lease_transfer(topo, counts, donors, mean, to=emptiest)
            else:
                return
            if transfer is None:
                return
            r, old, new = transfer
            self.leaseholder[r] = new
            counts[old] -= 1
            counts[new] = counts.get(new, 0) + 1
            self._lease_credit -= 1

    def _lease_transfer(
        self,
        topo: Topology,
        counts: dict[str, int],
        donors: set[str],
        mean: float,
        to: str | None = None,
    ) -> tuple[int, str, str] | None:
        if to is not None:
            candidates: list[int] = sorted(self.by_node.get(to, ()))
        else:
            candidates = [r for r, h in enumerate(self.leaseholder) if h in donors]
        for r in candidates:
            holder = self.leaseholder[r]
            if holder is None or holder not in donors:
                continue
            others = [
                n
                for n in self.replicas[r]
                if n != holder and n in topo.targets and counts.get(n, 0) < mean
            ]
            if to is not None:
                others = [n for n in others if n == to]
            if others:
                return r, holder, min(others, key=lambda n: counts.get(n, 0))
        return None
