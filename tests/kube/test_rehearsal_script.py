"""The lead's rehearsal path: the runnable fake server, the demo file, a whole plan."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from engine.config.loader import load_demo
from engine.events import PodObserved
from engine.kube import ExistingKubernetesCloud, watch_pods
from engine.targets import Target

from .conftest import Contexts, until

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tests" / "data" / "demo_existing_k8s.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[Path]:
    """The fake server started as the lead starts it; yields a demo file pointing at it."""
    port = free_port()
    kubeconfig = tmp_path / "fake_apiserver.kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.kube.fake_apiserver",
            "--port",
            str(port),
            "--pod-ready-after",
            "0.2",
            "--write-kubeconfig",
            str(kubeconfig),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not kubeconfig.exists():
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "fake API server did not start"
            time.sleep(0.05)
        shutil.copy(DEMO, tmp_path / "demo.yaml")
        yield tmp_path / "demo.yaml"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.anyio
async def test_demo_file_runs_against_the_runnable_fake_server(
    rehearsal: Path, contexts: Callable[..., Contexts]
) -> None:
    demo = load_demo(rehearsal)
    assert [c.name for c in demo.clouds] == ["alpha", "beta", "gamma"]
    ctxs = contexts(demo, speed=10.0)
    clouds = {c.name: ExistingKubernetesCloud(demo, c) for c in demo.clouds}

    async def run(name: str) -> None:
        for step in clouds[name].steps():
            if not step.skip:
                ctxs(name).step = step.name
                with anyio.fail_after(30):
                    await step.run(ctxs(name))

    async with anyio.create_task_group() as tg:
        for name in clouds:
            tg.start_soon(run, name)

    def ready(pod: str) -> bool:
        seen = [e for e in ctxs.of(PodObserved) if e.pod == pod]
        return bool(seen) and seen[-1].ready

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, ctxs("gamma"))
        await until(lambda: ready("gamma/node-1") and ready("gamma/node-2"))
        assert not any(e.pod == "gamma/node-3" for e in ctxs.of(PodObserved))  # servers: 2
        await clouds["gamma"].kill(Target("gamma", "pod", 1), ctxs("gamma"))
        await until(
            lambda: any(
                e.pod == "gamma/node-1" and e.phase == "Deleted" for e in ctxs.of(PodObserved)
            )
        )
        await until(lambda: ready("gamma/node-1"))
        tg.cancel_scope.cancel()

    for name, backend in clouds.items():
        for record in reversed(ctxs.ledger.live(cloud=name)):
            await backend.delete(record, ctxs(name))
            ctxs(name).forget(record)
        await backend.aclose()
    assert ctxs.ledger.live() == []
