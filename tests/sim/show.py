"""A tiny driver for ``SimCluster``: tick it once a demo second and keep what it said.

Events come back unstamped from ``advance``; the driver stamps them with the tick time so
assertions can speak of "seconds after the kill".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import (
    ClusterHealthObserved,
    Event,
    NodeObserved,
    ProbeObserved,
    WorkloadSample,
    stamped,
)
from engine.sim.cluster import SimCluster
from engine.targets import node_name

E = TypeVar("E", bound=Event)

DEMO_CLUSTER = ClusterConfig(settings=(("server.time_until_store_dead", "1m15s"),))


def cloud_names(count: int) -> list[str]:
    return [f"cloud{i:02d}" for i in range(count)]


@dataclass
class Show:
    cluster: SimCluster
    t: float = 0.0
    events: list[Event] = field(default_factory=list)

    def add_cloud(self, cloud: str, nodes: int) -> list[str]:
        names = [node_name(cloud, i) for i in range(1, nodes + 1)]
        for n in names:
            self.cluster.add_node(n, cloud, self.t)
        return names

    def run(self, seconds: float) -> list[Event]:
        """Advance one demo second at a time; return the events of this stretch."""
        start = len(self.events)
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.t += 1.0
            self.events.extend(stamped(e, self.t, 0.0) for e in self.cluster.advance(self.t))
        return self.events[start:]

    def run_until_settled(self, limit: float = 400.0) -> None:
        """Run until every range is fully replicated and spread over distinct clouds
        (when enough clouds exist) and no replica moved for 5 s: the steady state."""
        moves = -1
        while limit > 0:
            self.run(5.0)
            limit -= 5.0
            h = last(self.events, ClusterHealthObserved)
            quiet = self.cluster.replica_moves == moves
            if h is not None and h.under_replicated == 0 and self.spread() and quiet:
                return
            moves = self.cluster.replica_moves
        raise AssertionError("cluster never settled")

    def spread(self) -> bool:
        clouds = {n.split("/")[0] for reps in self.cluster.placement() for n in reps}
        rf = max(len(reps) for reps in self.cluster.placement())
        if len(clouds) < rf:
            return True
        return all(
            len({n.split("/")[0] for n in reps}) == len(reps) for reps in self.cluster.placement()
        )


def fleet(
    clouds: int,
    nodes: int,
    *,
    seed: int = 1,
    cluster: ClusterConfig = DEMO_CLUSTER,
    workload: WorkloadConfig | None = None,
) -> Show:
    """``clouds`` clouds of ``nodes`` nodes: the first bootstraps, the rest join 10 s later."""
    show = Show(SimCluster(cluster, workload or WorkloadConfig(), seed))
    names = cloud_names(clouds)
    show.add_cloud(names[0], nodes)
    show.run(10.0)
    for c in names[1:]:
        show.add_cloud(c, nodes)
    return show


def of_type(events: Iterable[Event], kind: type[E]) -> Iterator[E]:
    return (e for e in events if isinstance(e, kind))


def last(events: Iterable[Event], kind: type[E]) -> E | None:
    found = None
    for e in of_type(events, kind):
        found = e
    return found


def liveness_changes(events: Iterable[Event], node: str) -> list[tuple[float, str]]:
    return [(e.t, e.liveness) for e in of_type(events, NodeObserved) if e.node == node]


def probe_changes(events: Iterable[Event], node: str) -> list[tuple[float, str]]:
    return [(e.t, e.status) for e in of_type(events, ProbeObserved) if e.node == node]


def health(events: Iterable[Event]) -> list[ClusterHealthObserved]:
    return list(of_type(events, ClusterHealthObserved))


def workload(events: Iterable[Event]) -> list[WorkloadSample]:
    return list(of_type(events, WorkloadSample))
