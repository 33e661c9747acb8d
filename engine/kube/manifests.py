"""CockroachDB for one cloud, in the shape of CockroachDB's own Kubernetes manifests.

Pure builders: a ``CockroachSpec`` in, plain dicts out (``cloud/kubernetes`` of
cockroachdb/cockroach: ``cockroachdb-statefulset.yaml``, ``cluster-init.yaml``, the secure
and multiregion variants). Differences, on purpose: one namespace per cloud, ``--locality
cloud=<name>``, ``--join`` the configured seeds, and an advertised address the other
clouds can reach (the node's floating IP, or its host IP) with the ports on the host.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass
from typing import Any, Literal

from engine.kube import names
from engine.kube.userdata import ADVERTISE_DIR, ADVERTISE_FILE

Obj = dict[str, Any]
Advertise = Literal["file", "host-ip", "dns"]

REQUESTS = {"cpu": "500m", "memory": "1Gi"}
"""What each CockroachDB container asks the scheduler for. Upstream's
``cockroachdb-statefulset.yaml`` asks 2 CPUs and 8Gi with equal limits (Guaranteed QoS) for
production hardware; the show's VMs (2 vCPUs, 4 GB, k3s beside) cannot give that, and with
no requests at all the pods were BestEffort, the first the kubelet evicts under memory
pressure. Requests without limits (Burstable): room is reserved, nothing is OOM-killed at
a limit mid-show, and ``--cache=.25`` still sizes itself from the machine."""

DATA_DIR = "/cockroach/cockroach-data"
CERTS_DIR = "/cockroach/cockroach-certs"


@dataclass(frozen=True)
class CockroachSpec:
    """Everything the manifests depend on; built from the demo file by ``steps``."""

    namespace: str
    run_id: str
    cloud: str
    replicas: int
    image: str
    join: tuple[str, ...]
    locality: str
    secure: bool = False
    advertise: Advertise = "dns"
    expose: Literal["hostport", "nodeport"] = "hostport"
    sql_port: int = 26257
    http_port: int = 8080
    termination_grace_s: int = 60
    storage_gb: int = 1

    @property
    def labels(self) -> dict[str, str]:
        return names.labels(self.run_id, self.cloud)

    def meta(self, name: str) -> Obj:
        return {"name": name, "namespace": self.namespace, "labels": dict(self.labels)}


def namespace(spec: CockroachSpec) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": spec.namespace, "labels": dict(spec.labels)},
    }


def secret(spec: CockroachSpec, name: str, data: dict[str, bytes]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": spec.meta(name),
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(data.items())},
    }


def _ports(spec: CockroachSpec) -> list[Obj]:
    return [
        {"name": "grpc", "port": spec.sql_port, "targetPort": spec.sql_port},
        {"name": "http", "port": spec.http_port, "targetPort": spec.http_port},
    ]


def headless_service(spec: CockroachSpec) -> Obj:
    """Stable DNS for each pod (``cockroachdb-N.cockroachdb``), ready or not."""
    meta = spec.meta(names.HEADLESS_SERVICE)
    meta["annotations"] = {
        "prometheus.io/scrape": "true",
        "prometheus.io/path": "_status/vars",
        "prometheus.io/port": str(spec.http_port),
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "ports": _ports(spec),
            "publishNotReadyAddresses": True,
            "clusterIP": "None",
            "selector": dict(spec.labels),
        },
    }


def public_service(spec: CockroachSpec) -> Obj:
    """Where clients connect: ClusterIP, or NodePort when the demo file says so."""
    body: Obj = {"ports": _ports(spec), "selector": dict(spec.labels)}
    if spec.expose == "nodeport":
        body["type"] = "NodePort"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": spec.meta(names.PUBLIC_SERVICE),
        "spec": body,
    }


def budget(spec: CockroachSpec) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": spec.meta(names.BUDGET),
        "spec": {"selector": {"matchLabels": dict(spec.labels)}, "maxUnavailable": 1},
    }


def _advertise_shell(spec: CockroachSpec) -> str:
    if spec.advertise == "file":
        return f'ADVERTISE="$(cat {ADVERTISE_FILE})"'
    if spec.advertise == "host-ip":
        return 'ADVERTISE="${HOST_IP}"'
    return 'ADVERTISE="$(hostname -f)"'


def start_command(spec: CockroachSpec) -> str:
    """The shell line the container runs; the advertised host is found at start-up."""
    mode = f"--certs-dir={CERTS_DIR}" if spec.secure else "--insecure"
    args = [
        "exec /cockroach/cockroach start --logtostderr",
        mode,
        '--advertise-addr="${ADVERTISE}:' + str(spec.sql_port) + '"',
        f"--listen-addr=:{spec.sql_port}",
        f"--http-addr=:{spec.http_port}",
        "--join=" + shlex.quote(",".join(spec.join)),
        "--locality=" + shlex.quote(spec.locality),
    ]
    if spec.advertise != "dns":
        # Peers in the same cloud talk over the pod network, not hairpinned floating IPs.
        tier = spec.locality.split(",")[0]
        args.append(f'--locality-advertise-addr="{tier}@$(hostname -f):{spec.sql_port}"')
    args += [
        "--cache=.25",
        "--max-sql-memory=.25",
    ]
    return f"{_advertise_shell(spec)}; " + " ".join(args)


def _container(spec: CockroachSpec) -> Obj:
    ports: list[Obj] = [
        {"containerPort": spec.sql_port, "name": "grpc"},
        {"containerPort": spec.http_port, "name": "http"},
    ]
    if spec.expose == "hostport":
        for port in ports:
            port["hostPort"] = port["containerPort"]
    mounts: list[Obj] = [{"name": "datadir", "mountPath": DATA_DIR}]
    if spec.secure:
        mounts.append({"name": "certs", "mountPath": CERTS_DIR, "readOnly": True})
    if spec.advertise == "file":
        mounts.append({"name": "advertise", "mountPath": ADVERTISE_DIR, "readOnly": True})
    env: list[Obj] = [{"name": "COCKROACH_CHANNEL", "value": "kubernetes-insecure"}]
    if spec.secure:
        env[0]["value"] = "kubernetes-secure"
    if spec.advertise == "host-ip":
        env.append({"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}})
    return {
        "name": names.CONTAINER,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": ports,
        "resources": {"requests": dict(REQUESTS)},
        "readinessProbe": {
            "httpGet": {
                "path": "/health?ready=1",
                "port": "http",
                "scheme": "HTTPS" if spec.secure else "HTTP",
            },
            "initialDelaySeconds": 10,
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "env": env,
        "volumeMounts": mounts,
        "command": ["/bin/bash", "-ecx", start_command(spec)],
    }


def statefulset(spec: CockroachSpec) -> Obj:
    """One StatefulSet per cloud; replicas = the cloud's node count."""
    volumes: list[Obj] = []
    if spec.secure:
        volumes.append(
            {"name": "certs", "secret": {"secretName": names.NODE_SECRET, "defaultMode": 0o400}}
        )
    if spec.advertise == "file":
        volumes.append(
            {"name": "advertise", "hostPath": {"path": ADVERTISE_DIR, "type": "Directory"}}
        )
    pod_spec: Obj = {
        "terminationGracePeriodSeconds": spec.termination_grace_s,
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": dict(spec.labels)},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
        "containers": [_container(spec)],
        "volumes": volumes,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": spec.meta(names.STATEFULSET),
        "spec": {
            "serviceName": names.HEADLESS_SERVICE,
            "replicas": spec.replicas,
            "selector": {"matchLabels": dict(spec.labels)},
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Delete",
                "whenScaled": "Retain",
            },
            "template": {"metadata": {"labels": dict(spec.labels)}, "spec": pod_spec},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "datadir"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": f"{spec.storage_gb}Gi"}},
                    },
                }
            ],
        },
    }


def init_job(spec: CockroachSpec) -> Obj:
    """``cockroach init`` once, for the cloud that bootstraps the cluster.

    Succeeds too when the cluster is already initialised, so a retried run never fails here.
    """
    host = f"{names.pod_name(1)}.{names.HEADLESS_SERVICE}:{spec.sql_port}"
    mode = "--certs-dir=/cockroach-certs" if spec.secure else "--insecure"
    script = (
        f'out=$(/cockroach/cockroach init {mode} --host={host} 2>&1) && echo "$out" && exit 0; '
        'echo "$out"; echo "$out" | grep -q "already been initialized"'
    )
    pod: Obj = {
        "restartPolicy": "OnFailure",
        "containers": [
            {
                "name": "cluster-init",
                "image": spec.image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["/bin/bash", "-c", script],
            }
        ],
    }
    if spec.secure:
        pod["containers"][0]["volumeMounts"] = [
            {"name": "client-certs", "mountPath": "/cockroach-certs", "readOnly": True}
        ]
        pod["volumes"] = [
            {
                "name": "client-certs",
                "secret": {"secretName": names.CLIENT_SECRET, "defaultMode": 0o400},
            }
        ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": spec.meta(names.INIT_JOB),
        "spec": {
            "backoffLimit": 30,
            "template": {"metadata": {"labels": {"app": "cluster-init"}}, "spec": pod},
        },
    }
