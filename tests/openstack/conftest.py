"""Fixtures for the OpenStack provider: a mocked cloud at the HTTP boundary, and the lab."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import lab_control as lab_mod
import openstack
import pytest
import requests_mock
from openstack.fixture.connection import ConnectionFixture
from os_mock import (
    COMPUTE,
    IDENTITY,
    NETWORK,
    PASSWORD,
    PROJECT,
    compute_root,
    identity_root,
    network_root,
)

from engine.providers.openstack.connection import CloudSession

SDK_REMOVALS = "openstack.warnings._RemovedInSDKWarning"
SDK_OWN_REMOVALS = (
    # openstacksdk 4.x raises these against itself on every request, whatever the caller
    # passes: Resource._translate_response calls its own deprecated _compute_attributes
    # (openstack/resource.py), Proxy._report_stats passes service_type to _extract_name
    # (openstack/proxy.py), and CloudRegion warns about InfluxDB support for every config
    # (openstack/config/cloud_region.py), InfluxDB configured or not.
    "The _compute_attributes method is deprecated for removal",
    "The 'service_type' parameter is unnecesary",
    "Support for InfluxDB requires the influxdb library",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Any other openstacksdk removal warning in these tests is an error: the calls our
    code (and these tests) make must be the current forms. Later filters win."""
    here = Path(__file__).parent
    filters = [f"error::{SDK_REMOVALS}"]
    filters += [f"ignore:{text}:{SDK_REMOVALS}" for text in SDK_OWN_REMOVALS]
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.filterwarnings(*filters))


@pytest.fixture
def anyio_backend() -> str:
    """Real time on asyncio: the SDK's worker threads and the lab do not run on a mock clock."""
    return "asyncio"


@pytest.fixture
def mocked_cloud() -> Iterator[tuple[requests_mock.Mocker, CloudSession]]:
    """A Connection whose every request ends in requests-mock, with a real Keystone v3 token.

    Identity, compute and network discovery documents are registered; each test adds the
    calls (and faults) it is about.
    """
    token = ConnectionFixture(project_id=PROJECT)
    with requests_mock.Mocker() as m:
        m.get(f"{IDENTITY}/", json=identity_root())
        m.get(f"{IDENTITY}/v3/", json=identity_root()["versions"]["values"][0])  # type: ignore[index]
        m.post(
            f"{IDENTITY}/v3/auth/tokens",
            json=token.v3_token,
            headers={"X-Subject-Token": "mock-token-Rw5kq"},
            status_code=201,
        )
        m.get(f"{COMPUTE}/", json=compute_root())
        m.get(f"{NETWORK}/", json=network_root())
        conn = openstack.connect(
            load_yaml_config=False,
            load_envvars=False,
            auth={
                "auth_url": IDENTITY,
                "username": "demo",
                "password": PASSWORD,
                "project_id": PROJECT,
                "user_domain_id": "default",
            },
            region_name="RegionOne",
            api_timeout=5,
        )
        session = CloudSession(
            name="mock", connection=conn, limiter=anyio.CapacityLimiter(4), backoff_s=0.01
        )
        yield m, session
        conn.close()


@pytest.fixture(scope="session")
def lab() -> Iterator[lab_mod.Lab]:
    """The real OpenStack lab, brought up once per session (reused if already running).

    Stopped at the end if this session started it (packages and data are kept, so the next
    start is warm); CROSSROOM_LAB_KEEP=1 leaves it running.
    """
    reason = lab_mod.unavailable()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    directory = lab_mod.lab_dir()
    try:
        running = lab_mod.up(directory)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with (directory / "start-times.txt").open("a") as f:
        state = "started" if running.started_here else "already running"
        f.write(f"up.sh ({state}): {running.start_s:.1f}s\n")
    yield running
    if running.started_here and os.environ.get("CROSSROOM_LAB_KEEP") != "1":
        lab_mod.down(directory)


@pytest.fixture
def lab_env(lab: lab_mod.Lab, monkeypatch: pytest.MonkeyPatch) -> lab_mod.Lab:
    """Point openstacksdk's own config loader at the lab's clouds.yaml and secure.yaml."""
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(lab.clouds_yaml))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(lab.secure_yaml))
    return lab


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    root.mkdir(mode=0o700)
    return root
