"""One contract, two backends: the rehearsal cloud and the real one (over the fake API server).

Whatever a cloud runs on, the room relies on the same promises (``engine.backend``): its
plan is the table's steps in the table's order with the table's timeouts; every resource a
step makes is in the ledger before anything else happens to it; ``delete`` removes each one
and is idempotent; ``watch`` either returns or watches until cancelled, never raising; and
``aclose`` releases it. The join step is left out: it waits on the cluster, not the cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from engine.backend import CloudBackend
from engine.config.model import CloudConfig, DemoConfig, SimConfig
from engine.events import ResourceRecorded
from engine.plan import STEP_SPECS, STEPS
from engine.wiring import build_backend

from .conftest import Contexts, existing_demo
from .fake_apiserver import FakeApiServer

pytestmark = pytest.mark.anyio


def rehearsal(kubeconfig: Path) -> tuple[DemoConfig, float]:
    del kubeconfig
    quiet = SimConfig(transient_rate=0.0)  # the runner's retries are not under test here
    cloud = CloudConfig(name="alpha", label="Alpha", provider="sim", sim=quiet)
    return DemoConfig(name="rehearsal", clouds=(cloud,)), 1000.0


def real_over_fake_api(kubeconfig: Path) -> tuple[DemoConfig, float]:
    return existing_demo(kubeconfig, clouds=("alpha",)), 10.0


@pytest.mark.parametrize("make", [rehearsal, real_over_fake_api], ids=["rehearsal", "real"])
async def test_every_backend_keeps_the_cloud_contract(
    fake_api: FakeApiServer,
    kubeconfig: Path,
    contexts: Callable[..., Contexts],
    make: Callable[[Path], tuple[DemoConfig, float]],
) -> None:
    demo, speed = make(kubeconfig)
    cloud: CloudBackend = build_backend(demo, seed=1).clouds["alpha"]
    ctxs = contexts(demo, speed=speed)
    ctx = ctxs("alpha")

    steps = list(cloud.steps())
    assert [s.name for s in steps] == list(STEPS)
    for step in steps:
        table = STEP_SPECS[step.name].timeout_s
        assert table is None or step.timeout_s == table, step.name

    for step in steps:
        if step.skip or step.name == "join":
            continue
        ctx.step = step.name
        with anyio.fail_after(60):
            await step.run(ctx)
    live = list(ctxs.ledger.live("alpha"))
    assert live, "the plan made nothing the ledger knows of"
    recorded = {(e.resource_type, e.resource_id) for e in ctxs.of(ResourceRecorded)}
    assert {(r.resource_type, r.resource_id) for r in live} <= recorded

    with anyio.move_on_after(0.5):
        await cloud.watch(ctx)  # returns at once, or watches until cancelled: never raises

    ctx.step = "teardown"
    for record in reversed(live):
        with anyio.fail_after(60):
            await cloud.delete(record, ctx)
        ctx.forget(record)
    assert list(ctxs.ledger.live("alpha")) == []
    with anyio.fail_after(60):
        await cloud.delete(live[-1], ctx)  # already gone: success, not an error
    await cloud.aclose()
