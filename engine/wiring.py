"""Choose what a show runs on: the rehearsal fleet, real clouds, or a mix.

Simulated clouds share one ``SimCluster``; a demo file that names SQL addresses
(``cluster.sql_urls``) gets the real CockroachDB monitor instead of the simulated one.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from engine.backend import Backend, CloudBackend, ClusterBackend
from engine.clock import Clock
from engine.config.model import DemoConfig
from engine.events import CloudInfo, Event, EventSink, NodeObserved, ProbeObserved, RunStarted
from engine.ledger import Ledger
from engine.plan import StepContext
from engine.rundir import RunDir
from engine.sim.books import SimBooks
from engine.sim.cloud import SimCloud
from engine.sim.cluster import SimCluster
from engine.state import RoomState

if TYPE_CHECKING:
    from engine.cockroach.cluster import CockroachCluster


def cloud_rng(seed: int, cloud: str) -> random.Random:
    """Each cloud's own random stream: the same alone as in the fleet."""
    return random.Random(seed * 1_000_003 + zlib.crc32(cloud.encode()))


def build_backend(
    demo: DemoConfig,
    seed: int,
    books: SimBooks | None = None,
    *,
    certs_dir: Path | None = None,
) -> Backend:
    """Simulated clouds share one ``SimCluster``; the real CockroachDB monitor runs when the
    demo names SQL addresses or has any real cloud (it learns their addresses as pods come
    up; ``certs_dir`` is the run's secure-mode CA, written by the clouds' CockroachDB step).
    With both kinds, the simulated nodes still show, but health and load are the real
    cluster's alone."""
    sim_cluster = SimCluster(demo.cluster, demo.workload, seed)
    real = [c for c in demo.clouds if c.provider != "sim"]
    cluster: ClusterBackend = sim_cluster
    monitor: CockroachCluster | None = None
    if demo.cluster.sql_urls or real:
        from engine.cockroach.cluster import CockroachCluster

        monitor = CockroachCluster(demo.cluster, demo.workload, certs_dir=certs_dir)
        cluster = monitor
        if real and len(real) < len(demo.clouds) and not demo.cluster.sql_urls:
            cluster = NodesOnly(sim_cluster, monitor)
    books = books if books is not None else SimBooks()
    clouds: dict[str, CloudBackend] = {}
    for c in demo.clouds:
        if c.provider == "sim":
            clouds[c.name] = SimCloud(demo, c, books, sim_cluster)
        else:
            from engine.providers.kubernetes_cloud import KubernetesCloud

            clouds[c.name] = KubernetesCloud(demo, c, monitor)
    return Backend(clouds=clouds, cluster=cluster, simulated=bool(demo.simulated))


class NodesOnly:
    """Both clusters at once: the simulated one contributes its nodes, nothing else."""

    def __init__(self, sim: SimCluster, real: ClusterBackend) -> None:
        self.sim = sim
        self.real = real

    async def run(self, emit: EventSink, clock: Clock) -> None:
        def nodes_only(event: Event) -> None:
            if isinstance(event, NodeObserved | ProbeObserved):
                emit(event)

        async with anyio.create_task_group() as tg:
            tg.start_soon(self.sim.run, nodes_only, clock)
            tg.start_soon(self.real.run, emit, clock)


def run_started(
    demo: DemoConfig, backend: Backend, run_dir: RunDir, speed: float, seed: int
) -> RunStarted:
    """The first event of every run: what the screen needs to lay the show out."""
    return RunStarted(
        run_id=run_dir.run_id,
        demo=demo.name,
        simulated=backend.simulated,
        speed=speed,
        seed=seed,
        run_dir=str(run_dir.root),
        clouds=tuple(
            CloudInfo(
                name=c.name,
                label=c.label,
                region=c.region,
                provider=c.provider,
                nodes=c.nodes,
                steps=tuple(s.name for s in backend.clouds[c.name].steps()),
            )
            for c in demo.clouds
        ),
    )


def step_contexts(
    demo: DemoConfig,
    run_dir: RunDir,
    clock: Clock,
    ledger: Ledger,
    seed: int,
    emit: EventSink,
    state: Callable[[], RoomState],
) -> dict[str, StepContext]:
    """One ``StepContext`` per cloud, kept across retries; each cloud draws from its own
    random stream (``cloud_rng``), so a cloud does the same alone as in the fleet."""
    return {
        cloud.name: StepContext(
            demo=demo,
            cloud=cloud,
            run_id=run_dir.run_id,
            cloud_dir=run_dir.cloud_dir(cloud.name),
            clock=clock,
            ledger=ledger,
            emit=emit,
            room=state,
            rng=cloud_rng(seed, cloud.name),
        )
        for cloud in demo.clouds
    }
