"""Reaching a cloud's cluster: our own k3s (kubeconfig built locally) or an existing one.

For k3s the kubeconfig is built in memory from the cloud's CA set: server
``https://<first floating IP>:6443``, CA = the server CA, user = an admin client
certificate we signed with the client CA. A copy is kept as ``cloud_dir/kubeconfig.yaml``
(0600) so the presenter can point kubectl at it. Either way the result is one
``ApiClient`` for this cloud, never the process-wide default configuration.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import yaml
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError
from engine.events import NoticeLevel
from engine.kube.client import CALLS_PER_CLUSTER, ApiUnreachable, KubeApi, fresh_configuration
from engine.kube.pki import K3sCASet, k3s_ca_set, write_private
from engine.kube.userdata import API_PORT, api_server_url
from engine.plan import StepContext

API_FACT = "kube_api"
API_ANSWERED_FACT = "kube_api_answered"
"""``ctx.facts`` key: an ``anyio.Event`` set once this cloud's API has answered a request."""
LIMITER_FACT = "kube_limiter"
LOCK_FACT = "kube_connect_lock"
API_META = "api"
"""Ledger meta key holding the API server URL, so teardown after a crash can reach k3s."""


def is_existing(cloud: CloudConfig) -> bool:
    """True when the cloud names a kubeconfig instead of booting servers for k3s."""
    kube = cloud.kubernetes
    return kube.mode == "existing" or kube.kubeconfig is not None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build_kubeconfig(server_url: str, cas: K3sCASet, name: str) -> dict[str, Any]:
    """A kubeconfig for our admin certificate against the cloud's k3s API (pure)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": server_url,
                    "certificate-authority-data": _b64(cas.server_ca_pem),
                },
            }
        ],
        "users": [
            {
                "name": f"{name}-admin",
                "user": {
                    "client-certificate-data": _b64(cas.admin_cert_pem),
                    "client-key-data": _b64(cas.admin_key_pem),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin"}}],
        "current-context": name,
    }


def k3s_server_url(ctx: StepContext) -> str | None:
    """From this run's floating IPs, else from the ledger (teardown after a restart)."""
    fips = ctx.facts.get("floating_ips") or []
    if fips:
        return api_server_url(str(fips[0]), int(ctx.facts.get("k3s_api_port", API_PORT)))
    live = ctx.ledger.live(cloud=ctx.cloud.name)
    for rec in live:
        if rec.get(API_META):
            return rec.get(API_META)
    for rec in live:  # the OpenStack provider's record of server 1's floating IP
        if rec.resource_type == "floating_ip" and rec.get("index") == "1" and rec.get("address"):
            return api_server_url(rec.get("address"), int(ctx.facts.get("k3s_api_port", API_PORT)))
    return None


def kubeconfig_path(demo: DemoConfig, cloud: CloudConfig) -> Path:
    path = cloud.kubernetes.kubeconfig
    if path is None:
        raise PermanentStepError(f"{cloud.name}: no kubeconfig named for an existing cluster")
    path = path.expanduser()
    if not path.is_absolute() and demo.source is not None:
        path = demo.source.parent / path
    return path


async def ensure_k3s_ca_set(ctx: StepContext) -> K3sCASet:
    """The cloud's k3s CA set, generated in a worker thread (up to ~0.2 s of key making
    per cloud that should not stall the screen). Call before ``render_user_data``."""
    return await anyio.to_thread.run_sync(
        k3s_ca_set, ctx.cloud_dir, limiter=cloud_limiter(ctx), abandon_on_cancel=False
    )


def api_answered(ctx: StepContext) -> anyio.Event:
    """Set once any request to this cloud's Kubernetes API got an HTTP answer."""
    event = ctx.facts.get(API_ANSWERED_FACT)
    if not isinstance(event, anyio.Event):
        event = anyio.Event()
        ctx.facts[API_ANSWERED_FACT] = event
    return event


def _call_log(ctx: StepContext) -> Callable[[str, NoticeLevel], None]:
    def log(line: str, level: NoticeLevel) -> None:
        ctx.log(line, level=level)

    return log


def cloud_limiter(ctx: StepContext) -> anyio.CapacityLimiter:
    limiter = ctx.facts.get(LIMITER_FACT)
    if not isinstance(limiter, anyio.CapacityLimiter):
        limiter = anyio.CapacityLimiter(CALLS_PER_CLUSTER)
        ctx.facts[LIMITER_FACT] = limiter
    return limiter


async def connect(ctx: StepContext) -> KubeApi:
    """This cloud's API client, made once per cloud and kept in ``ctx.facts``.

    Built in a worker thread: reading the kubeconfig and the client's first use of each API
    class (a lazy import of a huge module, seconds on a slow laptop) must not freeze the loop.
    """
    lock = ctx.facts.setdefault(LOCK_FACT, anyio.Lock())
    async with lock:
        api = ctx.facts.get(API_FACT)
        if isinstance(api, KubeApi):
            return api
        limiter = cloud_limiter(ctx)
        log, answered = _call_log(ctx), api_answered(ctx).set
        if is_existing(ctx.cloud):
            path = kubeconfig_path(ctx.demo, ctx.cloud)
            context = ctx.cloud.kubernetes.context
            label = f"{path.name}:{context or '(current context)'}"

            def build() -> KubeApi:
                api_client = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=str(path),
                    context=context,
                    persist_config=False,
                    client_configuration=fresh_configuration(),
                )
                return KubeApi(api_client, label, limiter, log, answered)

        else:
            url = k3s_server_url(ctx)
            if url is None:
                raise ApiUnreachable("no Kubernetes API address yet: floating IPs are not known")
            cas = await ensure_k3s_ca_set(ctx)
            kubeconfig = build_kubeconfig(url, cas, ctx.resource_name("k3s"))
            cloud_dir = ctx.cloud_dir

            def build() -> KubeApi:
                write_private(
                    cloud_dir / "kubeconfig.yaml",
                    yaml.safe_dump(kubeconfig, sort_keys=False).encode(),
                )
                tmp = cloud_dir / "kube-client"
                tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
                api_client = k8s_config.new_client_from_config_dict(  # type: ignore[no-untyped-call]
                    kubeconfig,
                    persist_config=False,
                    temp_file_path=str(tmp),
                    client_configuration=fresh_configuration(),
                )
                return KubeApi(api_client, url, limiter, log, answered)

        try:
            built = await anyio.to_thread.run_sync(build, limiter=limiter, abandon_on_cancel=True)
        except (ConfigException, OSError, yaml.YAMLError) as err:
            reason = " ".join(str(err).split())[:200]
            where = label if is_existing(ctx.cloud) else "k3s"
            raise PermanentStepError(f"kubeconfig {where}: {reason}") from err
        ctx.facts[API_FACT] = built
        return built


def disconnect(ctx: StepContext) -> None:
    api = ctx.facts.pop(API_FACT, None)
    if isinstance(api, KubeApi):
        api.close()
