"""Choose what a show runs on: the rehearsal fleet, real clouds, or a mix.

Simulated clouds share one ``SimCluster``; a demo file that names SQL addresses
(``cluster.sql_urls``) gets the real CockroachDB monitor instead of the simulated one.
"""

from __future__ import annotations

import random
import zlib

from engine.backend import Backend, CloudBackend, ClusterBackend
from engine.config.model import CloudConfig, DemoConfig
from engine.sim.books import SimBooks
from engine.sim.cloud import SimCloud
from engine.sim.cluster import SimCluster


def cloud_rng(seed: int, cloud: str) -> random.Random:
    """Each cloud's own random stream: the same alone as in the fleet."""
    return random.Random(seed * 1_000_003 + zlib.crc32(cloud.encode()))


def build_backend(demo: DemoConfig, seed: int, books: SimBooks | None = None) -> Backend:
    sim_cluster = SimCluster(demo.cluster, demo.workload, seed)
    cluster: ClusterBackend = sim_cluster
    if demo.cluster.sql_urls:
        from engine.cockroach.cluster import CockroachCluster

        cluster = CockroachCluster(demo.cluster, demo.workload)
    books = books if books is not None else SimBooks()
    clouds: dict[str, CloudBackend] = {
        c.name: _cloud_backend(demo, c, books, sim_cluster) for c in demo.clouds
    }
    return Backend(clouds=clouds, cluster=cluster, simulated=demo.simulated)


def _cloud_backend(
    demo: DemoConfig, cloud: CloudConfig, books: SimBooks, sim_cluster: SimCluster
) -> CloudBackend:
    if cloud.provider == "sim":
        return SimCloud(demo, cloud, books, sim_cluster)
    raise NotImplementedError(f"{cloud.name}: provider {cloud.provider} is not wired yet")
