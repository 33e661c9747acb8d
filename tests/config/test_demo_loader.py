"""The demo loader on real files: the shipped example, defaults and overrides, and errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from engine.config import sections
from engine.config.loader import load_demo, summary
from engine.config.model import (
    CloudConfig,
    ClusterConfig,
    DemoConfig,
    KubernetesConfig,
    SimConfig,
    SshConfig,
    WorkloadConfig,
)
from engine.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "clouds.example.yaml"


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_demo(path)
    return caught.value.lines


def fields_of(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_example_loads_with_the_expected_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    config = load_demo(Path("clouds.example.yaml"))
    assert summary(config) == (
        'clouds.example.yaml: ok: "OpenStack Interop Challenge" with 4 clouds '
        "(3 openstack, 1 sim), 11 nodes"
    )
    assert [c.provider for c in config.clouds] == ["openstack", "openstack", "openstack", "sim"]
    assert config.source == Path("clouds.example.yaml")


def test_example_sets_every_key_the_loader_knows() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    base = REPO
    assert set(raw) == set(sections.top_fields(base))
    assert set(raw["cluster"]) == set(sections.cluster_fields())
    assert set(raw["workload"]) == set(sections.workload_fields())
    # the jump host's keys are commented out: a key file must exist to load
    assert set(raw["ssh"]) == set(sections.ssh_fields(base)) - {
        "jump_host",
        "jump_user",
        "jump_key",
    }
    assert set(raw["defaults"]) == set(sections.cloud_defaults_fields(base))
    assert set(raw["defaults"]["kubernetes"]) == set(sections.kubernetes_fields(base))
    assert set(raw["defaults"]["sim"]) == set(sections.sim_fields())
    per_cloud = set().union(*(set(c) for c in raw["clouds"]))
    assert {"name", "label", "region", "locality", "provider"} <= per_cloud


def test_loader_keys_match_the_model_fields() -> None:
    """A field added to the model must be readable from the file, and the other way round."""
    base = REPO
    assert set(sections.cluster_fields()) == fields_of(ClusterConfig)
    assert set(sections.workload_fields()) == fields_of(WorkloadConfig)
    assert set(sections.kubernetes_fields(base)) == fields_of(KubernetesConfig)
    assert set(sections.sim_fields()) == fields_of(SimConfig)
    assert set(sections.ssh_fields(base)) == fields_of(SshConfig)
    assert set(sections.cloud_fields(base)) == fields_of(CloudConfig)
    assert set(sections.top_fields(base)) == fields_of(DemoConfig) - {"source"} | {"defaults"}


def test_defaults_and_overrides_merge_key_by_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name: merge
defaults:
  flavor: m1.large
  servers: 2
  kubernetes: {namespace_prefix: stage, termination_grace_s: 5}
  sim: {transient_rate: 0.5}
clouds:
  - name: plain
  - name: custom
    label: Custom Cloud
    servers: 4
    kubernetes: {expose: nodeport}
    sim: {slowness: 2}
""",
    )
    plain, custom = load_demo(path).clouds
    assert (plain.flavor, plain.servers, plain.label) == ("m1.large", 2, "plain")
    assert (custom.flavor, custom.servers, custom.label) == ("m1.large", 4, "Custom Cloud")
    assert plain.kubernetes == KubernetesConfig(namespace_prefix="stage", termination_grace_s=5)
    assert custom.kubernetes == KubernetesConfig(
        namespace_prefix="stage", termination_grace_s=5, expose="nodeport"
    )
    assert custom.sim == SimConfig(transient_rate=0.5, slowness=2.0)
    assert plain.image == CloudConfig(name="x", label="x").image


def test_settings_merge_over_the_default_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name: s
cluster:
  settings:
    kv.rangefeed.enabled: yes
    server.time_until_store_dead: 2m
    kv.snapshot_rebalance.max_rate: 64
clouds: [{name: a}]
""",
    )
    assert load_demo(path).cluster.settings == (
        ("server.time_until_store_dead", "2m"),
        ("kv.rangefeed.enabled", "true"),
        ("kv.snapshot_rebalance.max_rate", "64"),
    )


def test_absent_or_empty_keys_take_the_model_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "name: d\nrun_prefix:\ncluster:\nclouds:\n  - name: a\n    flavor:\n")
    config = load_demo(path)
    assert config.run_prefix == "xr"
    assert config.cluster == ClusterConfig()
    assert config.workload == WorkloadConfig()
    assert config.clouds == (CloudConfig(name="a", label="a"),)


def test_numbers_keep_their_text_where_strings_are_expected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: 2017\nclouds:\n  - name: a\n    flavor: 2\n    kubernetes: {k3s_version: 1.30}\n",
    )
    config = load_demo(path)
    assert config.name == "2017"
    assert config.clouds[0].flavor == "2"
    assert config.clouds[0].kubernetes.k3s_version == "1.30"


def test_ints_are_accepted_where_floats_are_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "name: n\nworkload: {max_rate: 250}\nclouds: [{name: a}]\n")
    rate = load_demo(path).workload.max_rate
    assert rate == 250.0
    assert isinstance(rate, float)


def test_existing_kubeconfig_resolves_against_the_demo_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "lab.yaml").write_text("apiVersion: v1\n")
    write(
        tmp_path,
        "name: k\nclouds:\n  - name: lab\n    kubernetes:\n"
        "      mode: existing\n      kubeconfig: kube/lab.yaml\n      context: admin\n",
    )
    monkeypatch.chdir(REPO)
    kube = load_demo(tmp_path / "demo.yaml").clouds[0].kubernetes
    assert kube.kubeconfig == tmp_path / "kube" / "lab.yaml"
    assert kube.kubeconfig.is_absolute()
    assert (kube.mode, kube.context) == ("existing", "admin")


def test_every_error_is_collected_not_just_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name: [not, a, string]
run_prefix: UPPER
cluster: {replication_factor: 2, ranges: 0, join: [nope], secure: maybe}
workload: {read_percent: 101, max_rate: -1, concurrency: 1.5, enabled: 1}
defaults: {servers: 0, public_cidrs: [], kubernetes: {expose: ingress}}
clouds:
  - {name: a, provider: gce, sim: {fail_step: boot2}}
  - {name: a}
""",
    )
    lines = errors_of(path)
    fields = [line.split(": ")[1] for line in lines]
    assert fields == [
        "name",
        "run_prefix",
        "cluster.replication_factor",
        "cluster.ranges",
        "cluster.join[0]",
        "cluster.secure",
        "workload.read_percent",
        "workload.max_rate",
        "workload.concurrency",
        "workload.enabled",
        "defaults.servers",
        "defaults.public_cidrs",
        "defaults.kubernetes.expose",
        "clouds[0].provider",
        "clouds[0].sim.fail_step",
        "clouds[1].name",
    ]
    assert all(line.startswith(f"{path}:") for line in lines)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: a\nclouds: {name: a}\n", "clouds: expected a list of clouds, got a mapping"),
        ("name: a\n", "clouds: required (at least one cloud)"),
        ("name: a\nclouds: [{name: a, servers: 1.5}]\n", "got a number (1.5)"),
        ("name: a\nclouds: [{name: 'a b'}]\n", "is not a valid cloud name"),
        ("name: a\nclouds: [{name: a, locality: region}]\n", "is not key=value"),
        ("name: a\nclouds: [{name: a, region: no}]\n", "got a boolean (no); quote it"),
        ("name: a\nclouds: [{name: a, image: !custom x}]\n", "a value tagged !custom"),
        ("name: a\ncluster: {sql_urls: [mysql://h:1/db]}\nclouds: [{name: a}]\n", "postgresql://"),
        ("name: a\ncluster: {join: ['[::1]:26257', 'h:0']}\nclouds: [{name: a}]\n", "1 to 65535"),
        ("name: a\nworkload: {max_rate: .inf}\nclouds: [{name: a}]\n", "out of range"),
        (f"name: a\nworkload: {{max_rate: 1{'0' * 400}}}\nclouds: [{{name: a}}]\n", "out of range"),
        (f"name: a\nclouds: [{{name: a, servers: {'9' * 5000}}}]\n", "not a valid number"),
        ("name: a\nworkload: {read_percent: 0x10g}\nclouds: [{name: a}]\n", "got a string"),
    ],
)
def test_single_problems(tmp_path: Path, text: str, problem: str) -> None:
    lines = errors_of(write(tmp_path, text))
    assert len(lines) == 1
    assert problem in lines[0]


def test_good_sql_urls_and_join_addresses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name: u
cluster:
  join: ['203.0.113.7:26257', 'seed.example.org:26257', '[2001:db8::7]:26257']
  sql_urls:
    - postgresql://root@203.0.113.7:26257/defaultdb?sslmode=disable
    - postgres://root@h1:26257,h2,[2001:db8::9]:26257/defaultdb
    - seed.example.org:26257
clouds: [{name: a}]
""",
    )
    cluster = load_demo(path).cluster
    assert len(cluster.join) == 3
    assert len(cluster.sql_urls) == 3
    assert not cluster.bootstraps


def test_secrets_in_sql_urls_are_refused_without_being_echoed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: p\ncluster:\n  sql_urls:\n    - postgresql://h:26257/db?password=s3cret\n"
        "    - postgresql://root:s3cret@h:26257/db\nclouds: [{name: a}]\n",
    )
    lines = errors_of(path)
    assert len(lines) == 2
    assert all("contains a password" in line for line in lines)
    assert "s3cret" not in "".join(lines)


def test_file_level_problems_are_one_line(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: file not found"]
    assert errors_of(tmp_path) == [f"{tmp_path}: is a folder, not a file"]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    assert errors_of(latin) == [f"{latin}:1: not UTF-8 text"]
    control = write(tmp_path, "name: a\nclouds: \x01\n", "control.yaml")
    assert errors_of(control) == [
        f"{control}:2: YAML syntax error: special characters are not allowed"
    ]
    two = write(tmp_path, "name: a\n---\nname: b\n", "two.yaml")
    (line,) = errors_of(two)
    assert line == (
        f"{two}:2: YAML syntax error: expected a single document in the stream, "
        "but found another document"
    )


def test_summary_counts_in_the_singular() -> None:
    config = DemoConfig(name="Solo", clouds=(CloudConfig(name="a", label="a", servers=1),))
    assert summary(config) == 'built-in demo: ok: "Solo" with 1 cloud (1 openstack), 1 node'


def test_ssh_settings_load_with_a_jump_host_and_a_key_file_relative_to_the_demo(
    tmp_path: Path,
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "bastion").write_text("not read at load time\n")
    (tmp_path / "demo.yaml").write_text(
        "name: d\nclouds:\n  - name: a\n"
        "ssh:\n  user: debian\n  port: 2200\n  jump_host: bastion.example.org:2222\n"
        "  jump_user: alice\n  jump_key: keys/bastion\n"
    )
    ssh = load_demo(tmp_path / "demo.yaml").ssh
    assert (ssh.user, ssh.port, ssh.jump_user) == ("debian", 2200, "alice")
    assert ssh.jump() == ("bastion.example.org", 2222)
    assert ssh.jump_key == tmp_path / "keys" / "bastion"
    (tmp_path / "plain.yaml").write_text("name: d\nclouds:\n  - name: a\n")
    plain = load_demo(tmp_path / "plain.yaml").ssh
    assert plain.jump() is None and plain.jump_key is None and plain.user == "ubuntu"
