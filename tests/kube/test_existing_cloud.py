"""A whole show on existing clusters: deploy, watch, kill, revive, tear down, over HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from engine.errors import StepError
from engine.events import PodObserved, ResourceRecorded, StepProgress
from engine.kube import ExistingKubernetesCloud, watch_pods
from engine.kube.steps import pod_status_line
from engine.kube.topology import SEEDS_META
from engine.plan import STEPS, StepContext
from engine.targets import Target

from .conftest import Contexts, existing_demo, until
from .fake_apiserver import FakeApiServer

NS_ALPHA = "crossroom-xr-20261127-051200-a1b2-alpha"
NS_BETA = "crossroom-xr-20261127-051200-a1b2-beta"


async def run_plan(backend: ExistingKubernetesCloud, ctx: StepContext) -> None:
    """What the runner does with a plan, minus retries: run every step not skipped."""
    for step in backend.steps():
        if step.skip:
            continue
        ctx.step = step.name
        with anyio.fail_after(30):
            await step.run(ctx)


def pod_events(ctxs: Contexts, pod: str) -> list[PodObserved]:
    return [e for e in ctxs.of(PodObserved) if e.pod == pod]


@pytest.mark.anyio
async def test_plan_skips_every_server_step(kubeconfig: Path) -> None:
    demo = existing_demo(kubeconfig)
    steps = ExistingKubernetesCloud(demo, demo.clouds[0]).steps()
    assert [s.name for s in steps] == list(STEPS[: STEPS.index("join")])
    assert [s.name for s in steps if not s.skip] == ["kubernetes", "cockroach"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_deploy_watch_kill_and_teardown_on_an_existing_cluster(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    demo = existing_demo(kubeconfig)
    ctxs = contexts(demo, speed=10.0)
    clouds = {c.name: ExistingKubernetesCloud(demo, c) for c in demo.clouds}
    alpha, beta = ctxs("alpha"), ctxs("beta")

    # Both clouds at once; beta waits for alpha's seeds (alpha bootstraps the cluster).
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_plan, clouds["beta"], beta)
        tg.start_soon(run_plan, clouds["alpha"], alpha)

    store = fake_api.cluster
    sts_alpha = store.get("apps/v1", "statefulsets", NS_ALPHA, "cockroachdb")
    sts_beta = store.get("apps/v1", "statefulsets", NS_BETA, "cockroachdb")
    alpha_cmd = sts_alpha["spec"]["template"]["spec"]["containers"][0]["command"][2]
    beta_cmd = sts_beta["spec"]["template"]["spec"]["containers"][0]["command"][2]
    alpha_peer = f"cockroachdb-0.cockroachdb.{NS_ALPHA}.svc.cluster.local:26257"
    assert sts_alpha["spec"]["replicas"] == 3
    assert f"--join={alpha_peer}," in alpha_cmd and f"--join={alpha_peer}," in beta_cmd
    assert "--locality=cloud=alpha,region=test" in alpha_cmd
    assert "--locality=cloud=beta,region=test" in beta_cmd
    assert 'ADVERTISE="${HOST_IP}"' in alpha_cmd  # existing cluster, hostPort exposure
    store.get("batch/v1", "jobs", NS_ALPHA, "cluster-init")
    with pytest.raises(Exception, match="not found"):
        store.get("batch/v1", "jobs", NS_BETA, "cluster-init")

    kinds = sorted(r.resource_type for r in ctxs.ledger.live(cloud="alpha"))
    assert kinds == sorted(
        ["k8s_namespace", "k8s_service", "k8s_service", "k8s_pdb", "k8s_statefulset", "k8s_job"]
    )
    sts_record = next(
        r for r in ctxs.ledger.live(cloud="alpha") if r.resource_type == "k8s_statefulset"
    )
    assert sts_record.get(SEEDS_META).split(",")[0] == alpha_peer
    # The monitor's first addresses: each pod's host (wherever the scheduler put it), node 1
    # (ordinal 0) first, on the hostPort.
    hosts = [store.placement(ordinal) for ordinal in (0, 1, 2)]
    assert hosts != [1, 2, 3]  # the fake scheduler shuffles, as the real one may
    assert alpha.facts["sql_addresses"] == tuple(f"10.0.0.{10 + h}:26257" for h in hosts)
    messages = [(e.cloud, e.step, e.message) for e in ctxs.of(StepProgress)]
    assert ("alpha", "kubernetes", "nodes ready 3 of 3") in messages
    assert ("alpha", "cockroach", "pods ready 3 of 3") in messages

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, alpha)
        tg.start_soon(watch_pods, beta)
        for n in (1, 2, 3):
            await until(lambda n=n: any(e.ready for e in pod_events(ctxs, f"alpha/node-{n}")))
        first = pod_events(ctxs, "alpha/node-2")[-1]
        host2 = store.node_name(hosts[1])  # no servers here: node 2 is ordinal 1, anywhere
        assert first.phase == "Running" and first.host == host2 and first.restarts == 0

        # Restart a pod: a graceful delete; the StatefulSet brings it back, same name and node.
        seen = len(pod_events(ctxs, "alpha/node-2"))
        hit = await clouds["alpha"].kill(Target("alpha", "pod", 2), alpha)
        assert hit == ("alpha/node-2",)
        deletes = [p for m, p in store.requests if m == "DELETE"]
        assert deletes[-1] == f"/api/v1/namespaces/{NS_ALPHA}/pods/cockroachdb-1"  # no grace 0
        await until(lambda: any(e.phase == "Deleted" for e in pod_events(ctxs, "alpha/node-2")))
        await until(lambda: pod_events(ctxs, "alpha/node-2")[-1].ready)
        phases = [e.phase for e in pod_events(ctxs, "alpha/node-2")[seen:]]
        assert phases[0] == "Deleted" and "Pending" in phases and phases[-1] == "Running"
        assert pod_events(ctxs, "alpha/node-2")[-1].host == host2
        assert not store.unschedulable

        # Stop a node: cordon its Kubernetes node, delete the pod with grace 0; the new pod
        # stays Pending (Unschedulable) until revive uncordons, then runs on the same node.
        seen = len(pod_events(ctxs, "alpha/node-2"))
        assert await clouds["alpha"].kill(Target("alpha", "node", 2), alpha) == ("alpha/node-2",)
        assert store.unschedulable == {host2}
        assert ("nodes", host2, {"spec": {"unschedulable": True}}) in store.patches
        assert store.requests[-1] == (
            "DELETE",
            f"/api/v1/namespaces/{NS_ALPHA}/pods/cockroachdb-1?gracePeriodSeconds=0",
        )
        await until(
            lambda: any(e.phase == "Pending" for e in pod_events(ctxs, "alpha/node-2")[seen:])
        )
        await anyio.sleep(0.5)  # many scheduler passes: still Pending
        pod = store.get("v1", "pods", NS_ALPHA, "cockroachdb-1")
        assert pod["status"]["phase"] == "Pending"
        assert pod["status"]["conditions"][0]["reason"] == "Unschedulable"
        assert not pod_events(ctxs, "alpha/node-2")[-1].ready
        assert await clouds["alpha"].revive(Target("alpha", "node", 2), alpha) == ("alpha/node-2",)
        assert not store.unschedulable
        await until(lambda: pod_events(ctxs, "alpha/node-2")[-1].ready)
        assert store.get("v1", "pods", NS_ALPHA, "cockroachdb-1")["spec"]["nodeName"] == host2

        # Kill a whole cloud: every node of beta stopped, and only beta's pods deleted.
        hit = await clouds["beta"].kill(Target("beta", "cloud"), beta)
        assert hit == ("beta/node-1", "beta/node-2", "beta/node-3")
        for n in (1, 2, 3):
            await until(
                lambda n=n: any(e.phase == "Deleted" for e in pod_events(ctxs, f"beta/node-{n}"))
            )
        assert not any(e.phase == "Deleted" for e in pod_events(ctxs, "alpha/node-1"))
        with pytest.raises(StepError, match="no servers"):
            await clouds["beta"].kill(Target("beta", "server", 1), beta)
        # nothing of ours to SSH into or to cut off: refused in one line, nothing touched
        for fault in (Target("beta", "crash", 1), Target("beta", "partition")):
            with pytest.raises(StepError, match="no servers or security groups of ours"):
                await clouds["beta"].kill(fault, beta)
        revived = await clouds["beta"].revive(Target("beta", "cloud"), beta)
        assert revived == ("beta/node-1", "beta/node-2", "beta/node-3")
        assert not store.unschedulable
        for n in (1, 2, 3):
            await until(lambda n=n: pod_events(ctxs, f"beta/node-{n}")[-1].ready)

        # A stop left in force is in the ledger, so teardown (even after a crash) uncordons.
        await clouds["alpha"].kill(Target("alpha", "node", 1), alpha)
        cordon = [r for r in ctxs.ledger.live(cloud="alpha") if r.resource_type == "k8s_cordon"]
        assert [(r.resource_id, r.get("node")) for r in cordon] == [
            (store.node_name(hosts[0]), "alpha/node-1")
        ]

        # Cancelling the watchers is prompt even with a stream open.
        started = time.monotonic()
        tg.cancel_scope.cancel()
    assert time.monotonic() - started < 1.0

    # Teardown, newest first, as the engine does.
    for name, backend in clouds.items():
        ctx = ctxs(name)
        for record in reversed(ctxs.ledger.live(cloud=name)):
            await backend.delete(record, ctx)
            ctx.forget(record)
        await backend.aclose()
    assert ctxs.ledger.live() == []
    assert not store.unschedulable
    assert store.list("v1", "namespaces", None, "")["items"] == []
    assert store.list("v1", "pods", None, "")["items"] == []


@pytest.mark.anyio
async def test_watch_reconnects_after_a_dropped_stream_410_and_a_500(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    demo = existing_demo(kubeconfig, clouds=("alpha",))
    ctxs = contexts(demo, speed=10.0)
    backend = ExistingKubernetesCloud(demo, demo.clouds[0])
    alpha = ctxs("alpha")
    await run_plan(backend, alpha)
    store = fake_api.cluster

    def watches() -> int:
        return sum(1 for m, p in store.requests if "watch=" in p)

    def lists() -> int:
        return sum(
            1 for m, p in store.requests if p.split("?")[0].endswith("/pods") and "watch=" not in p
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, alpha)
        await until(lambda: watches() == 1)
        listed = lists()
        # Other changes move the resource version on, history is compacted and the stream
        # drops: resuming from the old version gets 410 Gone inside the stream, so it lists.
        store.create("v1", "secrets", NS_ALPHA, {"metadata": {"name": "unrelated"}})
        store.compact()
        store.drop_watches()
        await until(lambda: lists() == listed + 1 and watches() == 3)
        # The next watch request fails with a 500: logged once, then list and watch again.
        fake_api.fault("GET", r"/pods$", status=500, times=1)
        store.drop_watches()
        await until(lambda: lists() == listed + 2 and watches() == 5)
        await backend.kill(Target("alpha", "pod", 3), alpha)
        await until(lambda: any(e.phase == "Deleted" for e in pod_events(ctxs, "alpha/node-3")))
        await until(lambda: pod_events(ctxs, "alpha/node-3")[-1].ready)
        tg.cancel_scope.cancel()
    logs = [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]
    assert any("pod watch: HTTP 500" in line and "reconnecting" in line for line in logs)


@pytest.mark.anyio
async def test_a_watch_answered_410_as_an_http_status_lists_again_quietly(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    """The watch cache says 410 inside the stream; anything in front of it may say it as
    the status of the watch request itself. Either way: list again, nothing to warn of."""
    demo = existing_demo(kubeconfig, clouds=("alpha",))
    ctxs = contexts(demo, speed=10.0)
    backend = ExistingKubernetesCloud(demo, demo.clouds[0])
    alpha = ctxs("alpha")
    await run_plan(backend, alpha)
    store = fake_api.cluster

    def count(watch: bool) -> int:
        return sum(
            1
            for _, p in store.requests
            if p.split("?")[0].endswith("/pods") and ("watch=" in p) == watch
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, alpha)
        await until(lambda: count(watch=True) == 1)
        listed = count(watch=False)
        fake_api.fault("GET", r"/pods$", status=410, times=1)
        store.drop_watches()
        await until(lambda: count(watch=False) == listed + 1 and count(watch=True) == 3)
        tg.cancel_scope.cancel()
    logs = [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]
    assert not [line for line in logs if "reconnecting" in line]
    assert any(line.startswith("WATCH ") and "410 Gone" in line for line in logs)


@pytest.mark.anyio
async def test_a_quiet_watch_keeps_up_by_bookmarks_and_resumes_without_listing_again(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    """While this cloud's pods are quiet the API moves on elsewhere and the watch cache
    forgets old versions; bookmarks keep the watch's version current, so a dropped stream
    resumes where it was instead of getting 410 Gone and listing everything again."""
    demo = existing_demo(kubeconfig, clouds=("alpha",))
    ctxs = contexts(demo, speed=10.0)
    backend = ExistingKubernetesCloud(demo, demo.clouds[0])
    alpha = ctxs("alpha")
    await run_plan(backend, alpha)
    store = fake_api.cluster
    store.bookmark_every_s = 0.2

    def watch_paths() -> list[str]:
        return [p for _, p in store.requests if "watch=" in p]

    def lists() -> int:
        return sum(
            1 for m, p in store.requests if p.split("?")[0].endswith("/pods") and "watch=" not in p
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_pods, alpha)
        await until(lambda: len(watch_paths()) == 1)
        assert "allowWatchBookmarks=true" in watch_paths()[0]
        listed = lists()
        for i in range(5):  # changes this watch does not select
            store.create("v1", "secrets", NS_ALPHA, {"metadata": {"name": f"other-{i}"}})
        moved_to = store.rv
        sent = store.bookmarks_sent
        await until(lambda: store.bookmarks_sent >= sent + 2)
        store.compact()
        store.drop_watches()
        await until(lambda: len(watch_paths()) == 2)
        await anyio.sleep(0.5)
        tg.cancel_scope.cancel()
    assert f"resourceVersion={moved_to}" in watch_paths()[1]
    assert lists() == listed  # no 410, no second list


@pytest.mark.anyio
async def test_the_pane_tells_every_call_and_every_wait_as_the_rehearsal_does(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    """Method and path, the answer, the duration and the failed tries before it, once per
    call (in the client wrapper); polls told when their answer changes; waits with k/n."""
    demo = existing_demo(kubeconfig, clouds=("alpha",))
    ctxs = contexts(demo, speed=10.0)
    backend = ExistingKubernetesCloud(demo, demo.clouds[0])
    fake_api.fault("GET", r"^/version", status=500, times=2)
    fake_api.cluster.set_node_ready(2)
    alpha = ctxs("alpha")

    def logs() -> list[str]:
        return [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_plan, backend, alpha)
        await until(lambda: "nodes Ready 2/3" in logs())
        fake_api.cluster.set_node_ready(3)
    lines = logs()
    version = [line for line in lines if line.startswith("GET /version/ -> ")]
    # Two failures (the second, the same answer, is not told again), then the answer.
    assert re.fullmatch(r"GET /version/ -> 500 InternalError \(\d+\.\d\ds\)", version[0])
    assert re.fullmatch(r"GET /version/ -> 200 OK \(\d+\.\d\ds\) after 2 failed tries", version[1])
    assert len(version) == 2
    assert sum(line.startswith("GET /api/v1/nodes -> 200 OK") for line in lines) == 1
    assert any(
        re.fullmatch(r"POST /api/v1/namespaces -> 201 Created \(\d+\.\d\ds\)", x) for x in lines
    )
    sts = f"POST /apis/apps/v1/namespaces/{NS_ALPHA}/statefulsets -> 201 Created"
    assert any(line.startswith(sts) for line in lines)
    assert lines.index("nodes Ready 2/3") < lines.index("nodes Ready 3/3")
    assert "pods Ready 3/3" in lines
    assert lines.index("pods Ready 0/3") < lines.index("pods Ready 3/3")


@pytest.mark.anyio
async def test_a_retried_step_records_nothing_twice_and_stuck_pods_say_why(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    demo = existing_demo(kubeconfig, clouds=("alpha",))
    ctxs = contexts(demo, speed=10.0)
    backend = ExistingKubernetesCloud(demo, demo.clouds[0])
    alpha = ctxs("alpha")
    await run_plan(backend, alpha)
    recorded = len(ctxs.of(ResourceRecorded))
    assert recorded == 6
    fake_api.cluster.pod_waiting_reason = "ImagePullBackOff"
    await backend.kill(Target("alpha", "pod", 1), alpha)
    cockroach = next(s for s in backend.steps() if s.name == "cockroach")
    alpha.step = "cockroach"
    with anyio.move_on_after(1.5):
        await cockroach.run(alpha)  # a retry: every object exists, node-1 cannot start
    assert len(ctxs.of(ResourceRecorded)) == recorded
    logs = [line for e in ctxs.events if hasattr(e, "lines") for line in e.lines]
    assert "pod cockroachdb-0: Pending (ImagePullBackOff)" in logs
    assert "statefulset crossroom-xr-20261127-051200-a1b2-alpha/cockroachdb updated" in logs
    assert ctxs.of(StepProgress)[-1].message == "pods ready 2 of 3"


def test_pod_status_line_names_the_reason() -> None:
    assert pod_status_line({"phase": "Running"}) == "Running"
    unschedulable = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 node(s) didn't have free ports "
                "for the requested pod ports.",
            }
        ],
    }
    assert pod_status_line(unschedulable) == (
        "Pending (Unschedulable: 0/3 nodes are available: 3 node(s) didn't have free ports "
        "for the requested pod ports.)"
    )
    crash = {
        "phase": "Running",
        "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
    }
    assert pod_status_line(crash) == "Running (CrashLoopBackOff)"
