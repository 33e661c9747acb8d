"""Typed, frozen demo settings. The loader builds these; everything else only reads them.

Secrets never live here: OpenStack credentials stay in openstacksdk's own config objects,
found by the cloud's ``name`` in the user's clouds.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from engine.config.durations import parse_duration
from engine.config.scenario_model import Scenario
from engine.rundir import DEFAULT_RUN_PREFIX

Provider = Literal["openstack", "sim"]
KubernetesMode = Literal["k3s", "existing"]


@dataclass(frozen=True)
class ClusterConfig:
    """The one CockroachDB cluster every cloud joins."""

    image: str = "cockroachdb/cockroach:v25.2.4"
    secure: bool = False
    join: tuple[str, ...] = ()
    """Addresses of an existing cluster to join; empty means the first cloud bootstraps it."""
    sql_urls: tuple[str, ...] = ()
    """libpq URLs (or host:port) the monitor starts from; learned node addresses are added."""
    http_port: int = 8080
    sql_port: int = 26257
    settings: tuple[tuple[str, str], ...] = (("server.time_until_store_dead", "1m15s"),)
    """Cluster settings applied at start, in order, as ``SET CLUSTER SETTING name = value``."""
    replication_factor: int = 3
    ranges: int = 600
    """How many ranges the rehearsal cluster models (the real cluster reports its own)."""
    join_timeout_s: float = 600.0
    """How long a cloud's last step waits for the cluster to report its nodes live."""
    sslmode: str = ""
    """libpq ``sslmode`` for the monitor and workload; a URL's own wins. Empty: verify-full
    when ``secure``, else disable."""
    sslrootcert: Path | None = None
    """The cluster's CA (PEM) to verify SQL and HTTP against; a URL's own wins. Empty in
    secure mode: the run's own CA (``<run dir>/cockroach-certs/ca.crt``)."""

    @property
    def bootstraps(self) -> bool:
        return not self.join

    def setting(self, name: str) -> str | None:
        for key, value in self.settings:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class WorkloadConfig:
    """``cockroach workload run kv`` knobs."""

    enabled: bool = True
    read_percent: int = 50
    max_rate: float = 500.0
    concurrency: int = 8


@dataclass(frozen=True)
class KubernetesConfig:
    mode: KubernetesMode = "k3s"
    kubeconfig: Path | None = None
    context: str | None = None
    k3s_version: str = "v1.31.4+k3s1"
    install_url: str = "https://get.k3s.io"
    """Where cloud-init fetches the k3s installer; point at a mirror for hostile venue networks."""
    k3s_binary_url: str = ""
    """Mirror of https://github.com/k3s-io/k3s/releases (the installer's ``GITHUB_URL``)."""
    namespace_prefix: str = "crossroom"
    expose: Literal["hostport", "nodeport"] = "hostport"
    termination_grace_s: int = 60


@dataclass(frozen=True)
class SimConfig:
    """Rehearsal-only knobs for one simulated cloud."""

    fail_step: str | None = None
    """Make this step fail permanently (a switched-on hard failure)."""
    fail_error: str = "quota exceeded"
    transient_rate: float = 0.04
    """Chance that one simulated API call fails transiently and is retried."""
    slowness: float | None = None
    """Where the cloud sits in the rehearsal's latency ranges: 0 fastest, 1 (or more)
    slowest; ``None`` takes the cloud's built-in profile."""


@dataclass(frozen=True)
class CloudConfig:
    """One cloud of the show; ``name`` is its key in the user's clouds.yaml."""

    name: str
    label: str
    region: str = ""
    """Words shown on stage beside the label (e.g. "Montreal"); never sent to the cloud."""
    region_name: str = ""
    """OpenStack region (openstacksdk's ``region_name``); empty: the clouds.yaml entry's own."""
    locality: str = ""
    """CockroachDB ``--locality`` beyond ``cloud=<name>``, e.g. ``region=us-east``."""
    provider: Provider = "openstack"
    flavor: str = "m1.medium"
    image: str = "ubuntu-22.04"
    network: str = "private"
    floating_ip_pool: str = "public"
    servers: int = 3
    volume_size_gb: int = 1
    """0 means no volumes."""
    public_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    kubernetes: KubernetesConfig = field(default_factory=KubernetesConfig)
    sim: SimConfig = field(default_factory=SimConfig)

    @property
    def nodes(self) -> int:
        """CockroachDB nodes this cloud adds: one per server."""
        return self.servers


@dataclass(frozen=True)
class SshConfig:
    """How the engine reaches a server's shell for the faults inside a node (crash, freeze).

    No secret lives here: the servers take the run's own per-cloud key (made in the run
    directory by the key pair step); the jump host takes ``jump_key`` (a file path) or,
    without one, the user's ssh agent and default keys.
    """

    user: str = "ubuntu"
    """The servers' login user (the cloud image's default user)."""
    port: int = 22
    jump_host: str = ""
    """``host`` or ``host:port`` of a jump host (ProxyJump); empty: connect directly."""
    jump_user: str = ""
    """The jump host's user; empty: the local login name."""
    jump_key: Path | None = None
    """A private key file for the jump host; ``None``: the ssh agent and ~/.ssh keys."""
    connect_timeout_s: float = 15.0
    command_timeout_s: float = 20.0

    def jump(self) -> tuple[str, int] | None:
        """``(host, port)`` of the jump host, or ``None`` when there is none."""
        if not self.jump_host:
            return None
        host, sep, port = self.jump_host.rpartition(":")
        if sep and port.isdigit() and not host.endswith(":"):
            return host.strip("[]"), int(port)
        return self.jump_host.strip("[]"), 22


@dataclass(frozen=True)
class DemoConfig:
    name: str
    run_prefix: str = DEFAULT_RUN_PREFIX
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)
    clouds: tuple[CloudConfig, ...] = ()
    ssh: SshConfig = field(default_factory=SshConfig)
    source: Path | None = None
    """The file this came from; ``None`` for the built-in rehearsal fleet."""
    scenario: Scenario | None = None
    """The run-sheet (``scenario:`` or ``--scenario``); ``None``: the presenter drives."""

    @property
    def simulated(self) -> bool:
        return any(c.provider == "sim" for c in self.clouds)

    def cloud(self, name: str) -> CloudConfig:
        for c in self.clouds:
            if c.name == name:
                return c
        raise KeyError(name)

    def only(self, names: tuple[str, ...]) -> DemoConfig:
        """The same demo with just these clouds, in the file's order."""
        unknown = [n for n in names if n not in {c.name for c in self.clouds}]
        if unknown:
            raise KeyError(", ".join(unknown))
        return replace(self, clouds=tuple(c for c in self.clouds if c.name in names))


def time_until_store_dead_s(cluster: ClusterConfig) -> float:
    """The cluster's ``server.time_until_store_dead`` in seconds (CockroachDB's default 5m)."""
    value = cluster.setting("server.time_until_store_dead")
    return parse_duration(value) if value else 300.0
