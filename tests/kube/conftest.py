"""Fixtures for the Kubernetes tests: a fake API server per test and StepContexts.

Every test talks HTTP to ``fake_apiserver`` (real paths, codes and bodies); nothing in the
kubernetes client or in engine.kube is patched.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.clock import Clock, ScaledClock
from engine.config.model import CloudConfig, ClusterConfig, DemoConfig, KubernetesConfig
from engine.events import Event
from engine.ledger import Ledger
from engine.plan import StepContext
from engine.rundir import RunDir

from .fake_apiserver import FakeApiServer
from .fake_store import FakeCluster

RUN_ID = "xr-20261127-051200-a1b2"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    server = FakeApiServer(cluster=FakeCluster(nodes=3, pod_ready_after=0.2)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(fake_api: FakeApiServer, tmp_path: Path) -> Path:
    return fake_api.write_kubeconfig(tmp_path / "fake.kubeconfig", context="fake")


def existing_demo(
    kubeconfig: Path, clouds: tuple[str, ...] = ("alpha", "beta"), **cluster: Any
) -> DemoConfig:
    kube = KubernetesConfig(mode="existing", kubeconfig=kubeconfig, context="fake")
    return DemoConfig(
        name="existing-k8s",
        cluster=ClusterConfig(**cluster),
        clouds=tuple(
            CloudConfig(name=n, label=n.title(), servers=3, locality="region=test", kubernetes=kube)
            for n in clouds
        ),
    )


class StillClock:
    """For tests that never sleep (rendering, certificates): no event loop needed."""

    speed = 1.0

    def now(self) -> float:
        return 0.0

    def wall(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("this test must not sleep")


class Contexts:
    """StepContexts sharing one run dir and ledger, with every emitted event kept."""

    def __init__(self, root: Path, demo: DemoConfig, speed: float | None = 1.0) -> None:
        self.run = RunDir.create(root, RUN_ID)
        self.ledger = Ledger(self.run.ledger)
        self.demo = demo
        self.events: list[Event] = []
        self.clock: Clock = StillClock() if speed is None else ScaledClock(speed)
        self._made: dict[str, StepContext] = {}

    def __call__(self, cloud: str, **facts: Any) -> StepContext:
        if cloud not in self._made:
            self._made[cloud] = StepContext(
                demo=self.demo,
                cloud=self.demo.cloud(cloud),
                run_id=RUN_ID,
                cloud_dir=self.run.cloud_dir(cloud),
                clock=self.clock,
                ledger=self.ledger,
                emit=self.events.append,
                room=_no_room,
                rng=random.Random(0),
            )
        ctx = self._made[cloud]
        ctx.facts.update(facts)
        return ctx

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``check()`` holds (events appended by other tasks); fail after ``seconds``."""
    with anyio.fail_after(seconds):
        while not check():  # noqa: ASYNC110 - polls state other tasks and threads change
            await anyio.sleep(0.02)


def _no_room() -> Any:
    raise AssertionError("kube steps must not need the room state")


@pytest.fixture
def contexts(tmp_path: Path) -> Callable[..., Contexts]:
    def make(demo: DemoConfig, speed: float | None = 1.0) -> Contexts:
        return Contexts(tmp_path / "state", demo, speed)

    return make


def with_cloud(demo: DemoConfig, name: str, **changes: Any) -> DemoConfig:
    clouds = tuple(replace(c, **changes) if c.name == name else c for c in demo.clouds)
    return replace(demo, clouds=clouds)
