"""Create-or-patch, delete-and-wait and timeouts against the fake API server over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from kubernetes.client.exceptions import ApiException

from engine.errors import StepError, TransientStepError
from engine.events import StepFailed, StepRetrying
from engine.kube.apply import KINDS, apply_object, delete_and_wait
from engine.kube.client import ApiUnreachable, CallLog, step_error
from engine.kube.kubeconfig import connect
from engine.kube.steps import kube_steps
from engine.runner import Outcome, run_cloud

from .conftest import Contexts, existing_demo
from .fake_apiserver import FakeApiServer

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "crossroom-t"}}


def service(port: int) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "cockroachdb-public",
            "namespace": "crossroom-t",
            "labels": {"port": str(port)},
        },
        "spec": {"ports": [{"name": "grpc", "port": port}], "selector": {"app": f"v{port}"}},
    }


@pytest.mark.anyio
async def test_create_then_409_patches_and_job_is_left_alone(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    assert await apply_object(api, NS) == "created"
    assert await apply_object(api, NS) == "exists"
    assert await apply_object(api, service(26257)) == "created"
    assert await apply_object(api, service(26258)) == "updated"
    stored = fake_api.cluster.get("v1", "services", "crossroom-t", "cockroachdb-public")
    # Ports stay as created (a merge patch of the list would drop allocated NodePorts);
    # the selector and labels follow the new object.
    assert stored["spec"]["ports"][0]["port"] == 26257
    assert stored["spec"]["selector"] == {"app": "v26258"}
    assert stored["metadata"]["labels"] == {"port": "26258"}
    methods = [m for m, p in fake_api.cluster.requests if "services" in p]
    assert methods == ["POST", "POST", "PATCH"]  # the 409 really came back from the server
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "cluster-init", "namespace": "crossroom-t"},
        "spec": {"template": {"spec": {"containers": []}}},
    }
    assert await apply_object(api, job) == "created"
    assert await apply_object(api, job) == "exists"


@pytest.mark.anyio
async def test_409_body_is_a_real_status(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    await api.call(api.core.create_namespace, NS)
    with pytest.raises(ApiException) as info:
        await api.call(api.core.create_namespace, NS)
    error = step_error("apply namespace", info.value)
    assert error.message == (
        'apply namespace: HTTP 409 AlreadyExists: namespaces "crossroom-t" already exists'
    )
    assert isinstance(error, TransientStepError)


@pytest.mark.anyio
async def test_creating_in_a_terminating_namespace_is_one_line_and_not_retried(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    """403 Forbidden with a NamespaceTerminating cause (the NamespaceLifecycle admission
    plugin) lasts as long as the namespace does: the step stops at once and says why."""
    fake_api.cluster.stuck_namespaces.add("crossroom-t")
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    await apply_object(api, NS)
    await api.call(api.core.delete_namespace, "crossroom-t")
    with pytest.raises(ApiException) as info:
        await apply_object(api, service(1))
    assert info.value.status == 403
    error = step_error("apply service cockroachdb-public", info.value)
    assert not error.transient
    assert error.message.startswith(
        "apply service cockroachdb-public: namespace crossroom-t is being deleted (HTTP 403)"
    )


@pytest.mark.anyio
async def test_a_deploy_into_a_stuck_namespace_fails_once_without_retrying(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    ns = "crossroom-xr-20261127-051200-a1b2-alpha"
    fake_api.cluster.stuck_namespaces.add(ns)
    demo = existing_demo(kubeconfig, clouds=("alpha",))
    ctxs = contexts(demo, speed=1000.0)
    ctx = ctxs("alpha")
    api = await connect(ctx)
    await apply_object(api, {**NS, "metadata": {"name": ns}})
    await api.call(api.core.delete_namespace, ns)
    steps = kube_steps(demo, demo.clouds[0])
    with anyio.fail_after(30):
        outcome = await run_cloud(ctx, steps)
    assert outcome is Outcome.FAILED
    events = ctxs.events
    assert not [e for e in events if isinstance(e, StepRetrying)]
    failed = [e for e in events if isinstance(e, StepFailed)]
    assert len(failed) == 1 and failed[0].step == "cockroach"
    assert f"namespace {ns} is being deleted" in failed[0].error
    creates = [p for m, p in fake_api.cluster.requests if m == "POST" and ns in p]
    assert len(creates) == 1  # one refused create, then the step stopped


@pytest.mark.anyio
async def test_delete_of_a_missing_object_is_done(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    await delete_and_wait(ctx, api, KINDS["StatefulSet"], "crossroom-t", "nope", timeout_s=5)
    assert ("DELETE", "/apis/apps/v1/namespaces/crossroom-t/statefulsets/nope") in [
        (m, p.split("?")[0]) for m, p in fake_api.cluster.requests
    ]


@pytest.mark.anyio
async def test_namespace_delete_waits_until_gone(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    fake_api.cluster.namespace_delete_after = 0.5
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    await apply_object(api, NS)
    await apply_object(api, service(26257))
    started = time.monotonic()
    await delete_and_wait(ctx, api, KINDS["Namespace"], "", "crossroom-t", timeout_s=10, poll_s=0.1)
    assert time.monotonic() - started >= 0.4  # it really waited for Terminating to end
    assert fake_api.cluster.list("v1", "services", None, "")["items"] == []


@pytest.mark.anyio
async def test_stuck_namespace_gives_a_clear_error_after_the_timeout(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    fake_api.cluster.stuck_namespaces.add("crossroom-t")
    ctx = contexts(existing_demo(kubeconfig), speed=20.0)("alpha")
    api = await connect(ctx)
    await apply_object(api, NS)
    with pytest.raises(StepError) as info:
        await delete_and_wait(ctx, api, KINDS["Namespace"], "", "crossroom-t", timeout_s=30)
    assert info.value.message == (
        "namespace crossroom-t still exists 30 s after delete "
        "(stuck in Terminating: check its finalizers)"
    )


@pytest.mark.anyio
async def test_a_slow_response_hits_our_timeout(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    fake_api.fault("GET", r"^/api/v1/nodes$", status=0, delay_s=3.0)
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        await api.call(api.core.list_node, read_s=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    error = step_error("list nodes", info.value)
    assert isinstance(error, ApiUnreachable)
    assert error.message.startswith("list nodes: ")
    # The next call is not delayed and answers normally.
    nodes = await api.call(api.core.list_node, read_s=2.0)
    assert len(nodes["items"]) == 3


@pytest.mark.anyio
async def test_wrong_credentials_are_a_permanent_error(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    fake_api.httpd.token = "another-token"
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    with pytest.raises(ApiException) as info:
        await api.call(api.core.list_node)
    error = step_error("list nodes", info.value)
    assert not error.transient and "HTTP 401 Unauthorized" in error.message


@pytest.mark.anyio
async def test_unknown_context_is_a_clear_permanent_error(
    kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    from dataclasses import replace

    from engine.config.model import KubernetesConfig

    demo = existing_demo(kubeconfig)
    cloud = replace(
        demo.clouds[0],
        kubernetes=KubernetesConfig(mode="existing", kubeconfig=kubeconfig, context="nope"),
    )
    ctx = contexts(replace(demo, clouds=(cloud,)))("alpha")
    with pytest.raises(StepError) as info:
        await connect(ctx)
    assert info.value.message.startswith("kubeconfig fake.kubeconfig:nope: ")
    assert "nope" in info.value.message and not info.value.transient


@pytest.mark.anyio
async def test_reapplying_a_statefulset_patches_only_what_may_change(
    fake_api: FakeApiServer, kubeconfig: Path, contexts: Callable[..., Contexts]
) -> None:
    from dataclasses import replace

    from engine.kube import manifests
    from engine.kube.manifests import CockroachSpec

    spec = CockroachSpec("crossroom-t", "xr-1", "alpha", 3, "img:1", ("a:26257",), "cloud=alpha")
    ctx = contexts(existing_demo(kubeconfig))("alpha")
    api = await connect(ctx)
    await apply_object(api, NS)
    assert await apply_object(api, manifests.statefulset(spec)) == "created"
    # More nodes, a new image and a bigger disk: the disk (a volume claim template) cannot
    # change in place, and the real API server would refuse the whole patch if we sent it.
    bigger = replace(spec, replicas=5, image="img:2", storage_gb=9)
    assert await apply_object(api, manifests.statefulset(bigger)) == "updated"
    stored = fake_api.cluster.get("apps/v1", "statefulsets", "crossroom-t", "cockroachdb")
    assert stored["spec"]["replicas"] == 5
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "img:2"
    claims = stored["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]
    assert claims == {"storage": "1Gi"}
    _, _, sent = fake_api.cluster.patches[-1]
    assert set(sent["spec"]) == {
        "replicas",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
    }
    # Sending the whole spec is what the server refuses (so the fake is honest about it).
    with pytest.raises(ApiException) as info:
        await api.call(
            api.apps.patch_namespaced_stateful_set,
            "cockroachdb",
            "crossroom-t",
            {"spec": manifests.statefulset(bigger)["spec"]},
            _content_type="application/merge-patch+json",
        )
    assert info.value.status == 422 and "Forbidden" in step_error("x", info.value).message


def test_call_log_counts_failed_tries_and_tells_a_poll_only_when_its_answer_changes() -> None:
    told: list[tuple[str, str]] = []
    log = CallLog(lambda line, level: told.append((line, level)))
    for _ in range(3):
        log.request("GET", "/api/v1/nodes", "200 OK", 0.01, ok=True)
    log.request("GET", "/api/v1/nodes", "503 ServiceUnavailable", 0.02, ok=False)
    log.request("GET", "/api/v1/nodes", "200 OK", 0.01, ok=True)
    log.request("DELETE", "/api/v1/namespaces/x/pods/p", "200 OK", 0.01, ok=True)
    log.request("DELETE", "/api/v1/namespaces/x/pods/p", "200 OK", 0.01, ok=True)
    assert told == [
        ("GET /api/v1/nodes -> 200 OK (0.01s)", "info"),
        (
            "GET /api/v1/nodes -> 503 ServiceUnavailable (0.02s); 200 OK 2 more times before",
            "warning",
        ),
        ("GET /api/v1/nodes -> 200 OK (0.01s) after 1 failed try", "info"),
        ("DELETE /api/v1/namespaces/x/pods/p -> 200 OK (0.01s)", "info"),
        ("DELETE /api/v1/namespaces/x/pods/p -> 200 OK (0.01s)", "info"),  # writes: always
    ]
