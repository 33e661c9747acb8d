"""Faults the lab cannot produce, at the HTTP boundary: requests-mock under a real Connection.

Bodies are shaped like the real services' (Nova's ``forbidden``/``conflictingRequest``,
Neutron's ``NeutronError``, Cinder's ``overLimit``, a load balancer's HTML 503). Nothing
in openstacksdk or in our code is patched.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import anyio
import pytest
import requests
from openstack import exceptions as sdk
from os_harness import make_ctx
from os_mock import COMPUTE, IDENTITY, NETWORK, PASSWORD

from engine.clock import ScaledClock
from engine.config.model import CloudConfig, DemoConfig
from engine.errors import PermanentStepError, StepError, TransientStepError
from engine.events import Event, StepProgress
from engine.providers.openstack import compute
from engine.providers.openstack.connection import CloudSession, load_region
from engine.providers.openstack.errors import step_error
from engine.providers.openstack.preflight import preflight

pytestmark = pytest.mark.anyio

SERVER_ID = "5b4d9e0a-2d6c-4f7e-9d7e-1d2c3b4a5f60"
SERVER_URL = f"{COMPUTE}/servers/{SERVER_ID}"
HAPROXY_503 = (
    "<html><body><h1>503 Service Unavailable</h1>\n"
    "No server is available to handle this request.\n</body></html>\n"
)


def server_body(status: str, **extra: object) -> dict[str, object]:
    return {
        "server": {
            "id": SERVER_ID,
            "name": "xr-20261127-051200-a1b2-mock-server-1",
            "status": status,
            "metadata": {"crossroom_run": "xr-20261127-051200-a1b2"},
            "addresses": {},
            **extra,
        }
    }


async def get_server(session: CloudSession) -> object:
    return await session.call(session.connection.compute.get_server, SERVER_ID, what="poll server")


async def test_5xx_is_retried_with_backoff_and_then_succeeds(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.get(
        SERVER_URL,
        [
            {"status_code": 503, "text": HAPROXY_503, "headers": {"Content-Type": "text/html"}},
            {"status_code": 502, "text": "Bad Gateway", "headers": {"Content-Type": "text/plain"}},
            {"json": server_body("ACTIVE")},
        ],
    )
    told: list[tuple[str, str]] = []
    session.log = lambda line, level="info": told.append((level, line))
    server = await get_server(session)
    assert server.status == "ACTIVE"  # type: ignore[attr-defined]
    assert [r.url for r in m.request_history].count(SERVER_URL) == 3
    # the pane hears each attempt as the rehearsal tells its calls: what, outcome, time, retry
    assert [level for level, _ in told] == ["warning", "warning", "info"]
    first, second, last = (line for _, line in told)
    assert first.startswith("compute.get_server poll server -> error after ")
    assert ": compute API error 503" in first and first.endswith("; retry 1/3")
    assert second.endswith("; retry 2/3") and "502" in second
    assert re.fullmatch(r"compute\.get_server poll server -> ok \(\d+\.\d\ds\)", last)


async def test_persistent_5xx_becomes_one_transient_line(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.get(SERVER_URL, status_code=503, text=HAPROXY_503, headers={"Content-Type": "text/html"})
    with pytest.raises(TransientStepError) as err:
        await get_server(session)
    assert err.value.message.startswith("poll server: compute API error 503:")
    assert "\n" not in err.value.message
    assert [r.url for r in m.request_history].count(SERVER_URL) == 1 + session.retries


async def test_connection_reset_is_transient_and_retried(mocked_cloud) -> None:
    m, session = mocked_cloud
    reset = requests.exceptions.ConnectionError(
        "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"
    )
    m.get(SERVER_URL, [{"exc": reset}, {"json": server_body("ACTIVE")}])
    server = await get_server(session)
    assert server.status == "ACTIVE"  # type: ignore[attr-defined]

    m.get(SERVER_URL, exc=reset)
    with pytest.raises(TransientStepError) as err:
        await get_server(session)
    assert err.value.message.startswith("poll server: endpoint unreachable:")


async def test_request_timeout_is_transient(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.get(SERVER_URL, exc=requests.exceptions.ReadTimeout("Read timed out. (read timeout=5)"))
    with pytest.raises(TransientStepError) as err:
        await get_server(session)
    assert err.value.message.startswith("poll server: timed out:")


async def test_tls_failure_is_permanent(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.get(
        SERVER_URL,
        exc=requests.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
        ),
    )
    with pytest.raises(PermanentStepError) as err:
        await get_server(session)
    assert err.value.message.startswith("poll server: TLS failure:")
    assert [r.url for r in m.request_history].count(SERVER_URL) == 1


async def test_creates_are_never_retried_in_the_call(mocked_cloud) -> None:
    """A create that failed with 5xx may have happened: the step re-finds it by run tag."""
    m, session = mocked_cloud
    m.post(
        f"{COMPUTE}/servers",
        status_code=500,
        json={"computeFault": {"code": 500, "message": "Unexpected API Error."}},
    )
    with pytest.raises(TransientStepError):
        await session.call(
            session.connection.compute.create_server,
            name="x",
            flavor_id="1",
            image_id="i",
            networks="none",
            what="create server 1/3",
            idempotent=False,
        )
    assert sum(r.method == "POST" and r.url == f"{COMPUTE}/servers" for r in m.request_history) == 1


async def test_nova_quota_names_quota_service_and_numbers(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.post(
        f"{COMPUTE}/servers",
        status_code=403,
        json={
            "forbidden": {
                "code": 403,
                "message": "Quota exceeded for cores: Requested 8, but already used 16 of 20 cores",
            }
        },
    )
    with pytest.raises(PermanentStepError) as err:
        await session.call(
            session.connection.compute.create_server,
            name="x",
            flavor_id="1",
            image_id="i",
            networks="none",
            what="create server 3/3",
            idempotent=False,
        )
    assert err.value.message == (
        "create server 3/3: quota exceeded: compute cores: requested 8, already used 16 of 20"
    )


async def test_neutron_overquota_409_is_a_quota_error_not_a_busy_one(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.post(
        f"{NETWORK}/v2.0/floatingips",
        status_code=409,
        json={
            "NeutronError": {
                "type": "OverQuota",
                "message": "Quota exceeded for resources: ['floatingip'].",
                "detail": "",
            }
        },
    )
    with pytest.raises(PermanentStepError) as err:
        await session.call(
            session.connection.network.create_ip,
            floating_network_id="ext",
            what="allocate floating IP 2/3",
            idempotent=False,
        )
    assert err.value.message == "allocate floating IP 2/3: quota exceeded: network floatingip"


def test_cinder_413_quota_through_the_sdks_own_response_mapping() -> None:
    response = requests.Response()
    response.status_code = 413
    response.url = "https://block-storage.example.com/v3/p/volumes"
    response.request = requests.Request("POST", response.url).prepare()
    response.headers["Content-Type"] = "application/json"
    response.headers["Retry-After"] = "0"
    response._content = (
        b'{"overLimit": {"code": 413, "message": "VolumeLimitExceeded: Maximum number of '
        b'volumes allowed (10) exceeded for quota \'volumes\'.", "retryAfter": "0"}}'
    )
    with pytest.raises(sdk.HttpException) as raised:
        sdk.raise_from_response(response)
    err = step_error(raised.value, "create volume 1/3")
    assert isinstance(err, PermanentStepError)
    assert err.message.startswith("create volume 1/3: quota exceeded: block-storage volumes")
    assert "Maximum number of volumes allowed (10)" in err.message


async def test_409_while_busy_is_transient(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.post(
        f"{SERVER_URL}/action",
        status_code=409,
        json={
            "conflictingRequest": {
                "code": 409,
                "message": f"Cannot 'stop' instance {SERVER_ID} while it is in task_state "
                "powering-off",
            }
        },
    )
    with pytest.raises(TransientStepError) as err:
        await session.call(
            session.connection.compute.stop_server,
            SERVER_ID,
            what="stop server-1",
            idempotent=False,
        )
    assert "resource busy (409)" in err.value.message


async def test_bad_credentials_one_line_and_no_password(mocked_cloud) -> None:
    m, session = mocked_cloud
    m.post(
        f"{IDENTITY}/v3/auth/tokens",
        status_code=401,
        json={
            "error": {
                "code": 401,
                "title": "Unauthorized",
                "message": "The request you have made requires authentication.",
            }
        },
    )
    with pytest.raises(PermanentStepError) as err:
        await session.authenticate()
    assert err.value.message == "authenticate: bad credentials (identity said 401 Unauthorized)"
    assert PASSWORD not in err.value.message


async def test_server_error_state_reports_its_fault(mocked_cloud, tmp_path: Path) -> None:
    m, session = mocked_cloud
    fault = {
        "code": 500,
        "created": "2026-11-27T05:12:00Z",
        "message": "No valid host was found. There are not enough hosts available.",
    }
    m.get(SERVER_URL, [{"json": server_body("BUILD")}, {"json": server_body("ERROR", fault=fault)}])
    events: list[Event] = []
    cloud = CloudConfig(name="mock", label="Mock", servers=1)
    ctx = make_ctx(
        DemoConfig(name="t", clouds=(cloud,)),
        cloud,
        tmp_path,
        "xr-t",
        events,
        clock=ScaledClock(1000.0),
    )
    ctx.step = "boot"
    ctx.facts["servers"] = [SERVER_ID]
    with pytest.raises(PermanentStepError) as err:
        await compute.wait_active(session, ctx)
    assert err.value.message == (
        "server xr-20261127-051200-a1b2-mock-server-1 went to ERROR: "
        "No valid host was found. There are not enough hosts available."
    )
    assert [e.message for e in events if isinstance(e, StepProgress)] == ["server 0/1 ACTIVE"]


async def test_polling_reports_progress_until_active(mocked_cloud, tmp_path: Path) -> None:
    m, session = mocked_cloud
    m.get(SERVER_URL, [{"json": server_body("BUILD")}] * 2 + [{"json": server_body("ACTIVE")}])
    events: list[Event] = []
    cloud = CloudConfig(name="mock", label="Mock", servers=1)
    ctx = make_ctx(
        DemoConfig(name="t", clouds=(cloud,)),
        cloud,
        tmp_path,
        "xr-t",
        events,
        clock=ScaledClock(1000.0),
    )
    ctx.step = "boot"
    ctx.facts["servers"] = [SERVER_ID]
    await compute.wait_active(session, ctx)
    progress = [(e.message, e.done, e.total) for e in events if isinstance(e, StepProgress)]
    assert progress == [
        ("server 0/1 ACTIVE", 0, 1),
        ("server 0/1 ACTIVE", 0, 1),
        ("server 1/1 ACTIVE", 1, 1),
    ]


async def test_cancel_abandons_a_hung_call(mocked_cloud) -> None:
    m, session = mocked_cloud
    release = threading.Event()

    def hang(request: object, context: object) -> dict[str, object]:
        release.wait(10)
        return server_body("ACTIVE")

    m.get(SERVER_URL, json=hang)
    began = time.monotonic()
    with anyio.move_on_after(0.3) as scope:
        await get_server(session)
    elapsed = time.monotonic() - began
    release.set()
    assert scope.cancelled_caught
    assert elapsed < 2.0


async def test_a_call_past_its_deadline_is_a_transient_timeout(mocked_cloud) -> None:
    m, session = mocked_cloud
    release = threading.Event()
    m.get(SERVER_URL, json=lambda request, context: (release.wait(10), server_body("ACTIVE"))[1])
    session.retries = 0
    with pytest.raises(TransientStepError) as err:
        await session.call(
            session.connection.compute.get_server, SERVER_ID, what="poll server", timeout_s=0.3
        )
    release.set()
    assert err.value.message == "poll server: no answer within 0.3s"


async def test_each_cloud_runs_at_most_its_limit_of_threads(mocked_cloud) -> None:
    """Measured on a plain blocking function: requests-mock serialises every send itself."""
    _, session = mocked_cloud
    lock = threading.Lock()
    now = {"in": 0, "max": 0}

    def blocking() -> None:
        with lock:
            now["in"] += 1
            now["max"] = max(now["max"], now["in"])
        time.sleep(0.15)
        with lock:
            now["in"] -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(lambda: session.call(blocking, what="wait"))
    assert now["max"] == session.limiter.total_tokens == 4


def _write_clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(text)
    for key in ("OS_CLOUD", "OS_AUTH_URL", "OS_CLIENT_SECURE_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))


BROKEN_CLOUDS = """
clouds:
  good:
    auth:
      auth_url: https://identity.example.com/v3
      username: demo
      password: not-used-here
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://identity.example.com/v3
      application_credential_id: 0123456789abcdef
"""


def test_api_timeout_is_set_on_every_request_when_clouds_yaml_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_clouds(tmp_path, monkeypatch, BROKEN_CLOUDS)
    session = CloudSession.open(CloudConfig(name="good", label="Good"), api_timeout=12)
    assert session.connection.session.timeout == 12.0
    session.close()


def test_broken_auth_config_is_reported_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_clouds(tmp_path, monkeypatch, BROKEN_CLOUDS)
    with pytest.raises(PermanentStepError) as err:
        load_region(CloudConfig(name="appcred", label="AppCred"))
    assert err.value.message.startswith("cloud 'appcred': clouds.yaml entry is broken:")
    with pytest.raises(PermanentStepError) as missing:
        load_region(CloudConfig(name="vexxhost", label="Vexxhost"))
    assert missing.value.message == (
        "cloud 'vexxhost' is not in clouds.yaml (known: appcred, good)"
    )


async def test_preflight_keeps_a_row_for_every_cloud_even_when_config_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_clouds(tmp_path, monkeypatch, BROKEN_CLOUDS)
    demo = DemoConfig(
        name="t",
        clouds=(CloudConfig(name="appcred", label="A"), CloudConfig(name="nowhere", label="N")),
    )
    rows = await preflight(demo)
    assert [(r.cloud, r.ok) for r in rows] == [("appcred", False), ("nowhere", False)]
    assert rows[1].reason == "cloud 'nowhere' is not in clouds.yaml (known: appcred, good)"


def test_step_errors_pass_through_unchanged() -> None:
    original = TransientStepError("keep me")
    assert step_error(original, "x") is original
    assert isinstance(step_error(ValueError("boom"), "x"), StepError)


async def test_conductor_quota_fault_reads_like_the_api_quota_error(
    mocked_cloud, tmp_path: Path
) -> None:
    m, session = mocked_cloud
    fault = {
        "code": 500,
        "created": "2026-11-27T05:25:51Z",
        "message": "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances",
    }
    m.get(SERVER_URL, json=server_body("ERROR", fault=fault))
    cloud = CloudConfig(name="mock", label="Mock", servers=1)
    ctx = make_ctx(
        DemoConfig(name="t", clouds=(cloud,)),
        cloud,
        tmp_path,
        "xr-t",
        [],
        clock=ScaledClock(1000.0),
    )
    ctx.facts["servers"] = [SERVER_ID]
    with pytest.raises(PermanentStepError) as err:
        await compute.wait_active(session, ctx)
    assert err.value.message == (
        "server xr-20261127-051200-a1b2-mock-server-1 went to ERROR: "
        "quota exceeded: compute instances: requested 1, already used 1 of 1"
    )
