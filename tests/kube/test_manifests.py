"""The CockroachDB objects match reviewed golden files (``UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.kube import manifests
from engine.kube.manifests import CockroachSpec

GOLDEN = Path(__file__).parent / "golden"

K3S_INSECURE = CockroachSpec(
    namespace="crossroom-xr-20261127-051200-a1b2-vexxhost",
    run_id="xr-20261127-051200-a1b2",
    cloud="vexxhost",
    replicas=3,
    image="cockroachdb/cockroach:v25.2.4",
    join=(
        "cockroachdb-0.cockroachdb.crossroom-xr-20261127-051200-a1b2-vexxhost.svc.cluster.local:26257",
        "cockroachdb-1.cockroachdb.crossroom-xr-20261127-051200-a1b2-vexxhost.svc.cluster.local:26257",
    ),
    locality="cloud=vexxhost,region=ca-ymq-1",
    advertise="file",
    expose="hostport",
    termination_grace_s=60,
    storage_gb=2,
)

EXISTING_SECURE = CockroachSpec(
    namespace="crossroom-xr-20261127-051200-a1b2-citycloud",
    run_id="xr-20261127-051200-a1b2",
    cloud="citycloud",
    replicas=2,
    image="cockroachdb/cockroach:v25.2.4",
    join=("198.51.100.11:26257", "198.51.100.12:26257"),
    locality="cloud=citycloud",
    secure=True,
    advertise="dns",
    expose="nodeport",
    http_port=8090,
    termination_grace_s=300,
)


def objects(spec: CockroachSpec) -> list[dict[str, Any]]:
    return [
        manifests.namespace(spec),
        manifests.headless_service(spec),
        manifests.public_service(spec),
        manifests.budget(spec),
        manifests.statefulset(spec),
        manifests.init_job(spec),
    ]


@pytest.mark.parametrize(
    ("golden", "spec"),
    [("k3s_insecure.yaml", K3S_INSECURE), ("existing_secure_nodeport.yaml", EXISTING_SECURE)],
)
def test_manifests_match_golden(golden: str, spec: CockroachSpec) -> None:
    built = objects(spec)
    path = GOLDEN / golden
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(yaml.safe_dump_all(built, sort_keys=False, width=100), encoding="utf-8")
    assert list(yaml.safe_load_all(path.read_text(encoding="utf-8"))) == built


def test_statefulset_says_what_the_demo_file_says() -> None:
    sts = manifests.statefulset(K3S_INSECURE)
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    command = container["command"][2]
    assert sts["spec"]["replicas"] == 3
    assert "--locality=cloud=vexxhost,region=ca-ymq-1" in command
    assert "--join=" + ",".join(K3S_INSECURE.join) in command
    assert 'ADVERTISE="$(cat /etc/crossroom/advertise-host)"' in command
    assert '--advertise-addr="${ADVERTISE}:26257"' in command
    assert "--insecure" in command
    assert {p["containerPort"]: p.get("hostPort") for p in container["ports"]} == {
        26257: 26257,
        8080: 8080,
    }
    assert container["readinessProbe"]["httpGet"]["path"] == "/health?ready=1"
    assert pod["terminationGracePeriodSeconds"] == 60
    assert sts["metadata"]["labels"] == sts["spec"]["selector"]["matchLabels"]


def test_secure_nodeport_variant() -> None:
    sts = manifests.statefulset(EXISTING_SECURE)
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert "--certs-dir=/cockroach/cockroach-certs" in container["command"][2]
    assert "--insecure" not in container["command"][2]
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert all("hostPort" not in p for p in container["ports"])
    assert manifests.public_service(EXISTING_SECURE)["spec"]["type"] == "NodePort"
    volumes = sts["spec"]["template"]["spec"]["volumes"]
    assert volumes == [
        {"name": "certs", "secret": {"secretName": "cockroachdb-node", "defaultMode": 0o400}}
    ]
    job = manifests.init_job(EXISTING_SECURE)
    assert (
        "--certs-dir=/cockroach-certs"
        in job["spec"]["template"]["spec"]["containers"][0]["command"][2]
    )


def test_secret_data_is_base64() -> None:
    body = manifests.secret(EXISTING_SECURE, "cockroachdb-node", {"ca.crt": b"abc"})
    assert body["data"] == {"ca.crt": "YWJj"} and body["type"] == "Opaque"


def test_cockroach_pods_ask_for_modest_resources_and_set_no_limit() -> None:
    """Not BestEffort (first evicted under memory pressure), and small enough for the
    show's 2-vCPU, 4 GB VMs: upstream's production 2 CPU / 8Gi would leave pods Pending."""
    for spec in (K3S_INSECURE, EXISTING_SECURE):
        container = manifests.statefulset(spec)["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}}
