"""cloud-init user data: valid cloud-config, keys only where needed, kept 0600; k3s on fixed
IPs inside the cloud (no floating-IP hairpin); the install script retries the whole install."""

from __future__ import annotations

import base64
import ipaddress
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.config.model import CloudConfig, DemoConfig, KubernetesConfig
from engine.kube.pki import k3s_ca_set
from engine.kube.userdata import render_user_data

from .conftest import Contexts

FIPS = ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
FIXED = ["10.0.0.5", "10.0.0.6", "10.0.0.7"]
ADDRS = {"floating_ips": FIPS, "fixed_ips": FIXED}


def k3s_demo(**kube: Any) -> DemoConfig:
    cloud = CloudConfig(name="vexx", label="Vexx", servers=3, kubernetes=KubernetesConfig(**kube))
    return DemoConfig(name="k3s", clouds=(cloud,))


def parse(text: str) -> dict[str, Any]:
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict) and set(doc) == {"hostname", "write_files", "runcmd"}
    return doc


def files(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in doc["write_files"]}


def k3s_config(doc: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(files(doc)["/etc/rancher/k3s/config.yaml"]["content"])


def test_server_gets_the_ca_set_token_and_its_floating_ip_as_san(
    contexts: Callable[..., Contexts],
) -> None:
    ctxs = contexts(k3s_demo(k3s_version="v1.31.4+k3s1"), speed=None)
    ctx = ctxs("vexx", **ADDRS)
    doc = parse(render_user_data(ctx, 1))
    cas = k3s_ca_set(ctx.cloud_dir)
    by_path = files(doc)
    for rel, data in cas.files.items():
        entry = by_path[f"/var/lib/rancher/k3s/server/tls/{rel}"]
        assert entry["content"].encode() == data
        assert entry["permissions"] == ("0600" if rel.endswith(".key") else "0644")
    config = k3s_config(doc)
    assert config["token"] == cas.token
    assert config["tls-san"] == [FIPS[0], FIXED[0]]
    assert config["node-external-ip"] == FIPS[0]
    assert config["node-ip"] == config["advertise-address"] == FIXED[0]
    assert "server" not in config
    assert doc["hostname"] == config["node-name"] == "xr-20261127-051200-a1b2-vexx-server-1"
    assert by_path["/etc/crossroom/advertise-host"]["content"] == FIPS[0] + "\n"
    command = install_script(doc)
    assert "INSTALL_K3S_EXEC=server" in command and "INSTALL_K3S_VERSION=v1.31.4+k3s1" in command
    assert "https://get.k3s.io" in command and "GITHUB_URL" not in command
    keys = sum(e["content"].count("-----BEGIN PRIVATE KEY-----") for e in doc["write_files"])
    assert keys == 6  # five CA keys and service.key: what a k3s server needs, nothing else
    assert len(base64.b64encode(render_user_data(ctx, 1).encode())) < 65535


def test_agents_get_the_token_and_no_private_key(contexts: Callable[..., Contexts]) -> None:
    ctxs = contexts(k3s_demo(), speed=None)
    ctx = ctxs("vexx", **ADDRS)
    server_token = k3s_config(parse(render_user_data(ctx, 1)))["token"]
    for index in (2, 3):
        text = render_user_data(ctx, index)
        assert "PRIVATE KEY" not in text
        doc = parse(text)
        config = k3s_config(doc)
        assert config["token"] == server_token
        assert config["server"] == f"https://{FIXED[0]}:6443"
        assert config["node-ip"] == FIXED[index - 1]
        assert config["node-external-ip"] == FIPS[index - 1]
        assert "INSTALL_K3S_EXEC=agent" in install_script(doc)
        assert not any(p.startswith("/var/lib/rancher") for p in files(doc))


# k3s options that choose an address some in-cloud traffic goes to or comes from
# (k3s pkg/cli/cmds/server.go and agent.go; flannel-external-ip makes VXLAN use the
# external address, so it must stay off).
IN_CLOUD_KEYS = ("server", "node-ip", "advertise-address", "bind-address", "flannel-iface")


def test_no_in_cloud_path_uses_a_floating_ip(contexts: Callable[..., Contexts]) -> None:
    """Agent join, node addresses, the API server's advertised address: fixed IPs only.
    Floating IPs appear only where the outside needs them (external IP, SAN, advertise file)."""
    ctxs = contexts(k3s_demo(), speed=None)
    ctx = ctxs("vexx", **ADDRS)
    for index in (1, 2, 3):
        doc = parse(render_user_data(ctx, index))
        config = k3s_config(doc)
        assert not config.get("flannel-external-ip")
        for key in IN_CLOUD_KEYS:
            value = str(config.get(key, ""))
            assert not any(fip in value for fip in FIPS), (index, key, value)
        host = str(config.get("server", "https://10.0.0.5:6443")).split("//")[1].split(":")[0]
        assert ipaddress.ip_address(host).is_private
        where = {path for path, f in files(doc).items() if any(fip in f["content"] for fip in FIPS)}
        assert where <= {"/etc/rancher/k3s/config.yaml", "/etc/crossroom/advertise-host"}
        in_config = [k for k, v in config.items() if any(fip in str(v) for fip in FIPS)]
        assert sorted(in_config) == (
            ["node-external-ip", "tls-san"] if index == 1 else ["node-external-ip"]
        )


def test_without_fixed_ips_nothing_is_rendered(contexts: Callable[..., Contexts]) -> None:
    """No silent fallback to server 1's floating IP (that needs hairpin NAT)."""
    ctxs = contexts(k3s_demo(), speed=None)
    with pytest.raises(ValueError, match="no fixed IP"):
        render_user_data(ctxs("vexx", floating_ips=FIPS), 2)


def install_script(doc: dict[str, Any]) -> str:
    [command] = doc["runcmd"]
    assert command == ["/usr/local/sbin/crossroom-install-k3s"]
    entry = files(doc)[command[0]]
    assert entry["permissions"] == "0755"
    return str(entry["content"])


def _run_install(
    script: str, tmp_path: Path, installer_body: str
) -> subprocess.CompletedProcess[str]:
    """Run the rendered script for real with ``curl`` replaced by a stub on PATH that
    "downloads" ``installer_body`` (curl itself would need the network)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "-o" ]; do shift; done\n'
        f"cat > \"$2\" <<'EOF'\n{installer_body}\nEOF\n"
    )
    (bin_dir / "curl").chmod(0o755)
    path = tmp_path / "install-k3s"
    path.write_text(script)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CROSSROOM_INSTALLER": str(tmp_path / "install.sh"),
        "CROSSROOM_INSTALL_LOG": str(tmp_path / "install.log"),
        "CROSSROOM_RETRY_DELAY_S": "0",
        "COUNT": str(tmp_path / "count"),
    }
    sh = shutil.which("sh") or "/bin/sh"
    return subprocess.run([sh, str(path)], env=env, capture_output=True, text=True, timeout=60)


def test_the_whole_install_is_retried_and_logged(
    contexts: Callable[..., Contexts], tmp_path: Path
) -> None:
    """install.sh (which downloads the binary) fails twice, then works: three attempts."""
    ctxs = contexts(k3s_demo(), speed=None)
    script = install_script(parse(render_user_data(ctxs("vexx", **ADDRS), 2)))
    flaky = (
        'n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$COUNT"\n'
        '[ "$INSTALL_K3S_EXEC" = agent ] || exit 9\n'
        '[ "$n" -ge 3 ] || { echo "curl: (56) Recv failure: Connection reset" >&2; exit 1; }'
    )
    done = _run_install(script, tmp_path, flaky)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "install.log").read_text().splitlines()
    assert (tmp_path / "count").read_text().strip() == "3"
    assert sum("install.sh failed" in line for line in log) == 2
    assert log[-1].endswith("k3s installed on attempt 3/20")


def test_the_install_gives_up_after_a_bounded_number_of_attempts(
    contexts: Callable[..., Contexts], tmp_path: Path
) -> None:
    ctxs = contexts(k3s_demo(), speed=None)
    script = install_script(parse(render_user_data(ctxs("vexx", **ADDRS), 1)))
    failed = _run_install(script, tmp_path, 'echo x >> "$COUNT"; exit 1')
    assert failed.returncode == 1
    assert len((tmp_path / "count").read_text().splitlines()) == 20
    assert (
        (tmp_path / "install.log")
        .read_text()
        .splitlines()[-1]
        .endswith("giving up after 20 attempts")
    )


def test_mirror_urls_reach_the_installer(contexts: Callable[..., Contexts]) -> None:
    mirror = "http://mirror.venue.lan/k3s"
    ctxs = contexts(
        k3s_demo(install_url=f"{mirror}/install.sh", k3s_binary_url=f"{mirror}/releases/"),
        speed=None,
    )
    command = install_script(parse(render_user_data(ctxs("vexx", **ADDRS), 2)))
    assert f'-o "$installer" {mirror}/install.sh' in command
    assert f"export GITHUB_URL={mirror}/releases\n" in command
    assert "get.k3s.io" not in command


def test_user_data_is_kept_0600_in_the_cloud_dir_and_reuses_the_ca(
    contexts: Callable[..., Contexts],
) -> None:
    ctxs = contexts(k3s_demo(), speed=None)
    ctx = ctxs("vexx", **ADDRS)
    first = render_user_data(ctx, 1)
    path: Path = ctx.cloud_dir / "user-data-1.yaml"
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A retry renders the same CA set and token (only the file is rewritten).
    assert k3s_config(parse(render_user_data(ctx, 1)))["token"] == k3s_config(parse(first))["token"]


def test_missing_floating_ip_is_a_clear_error(contexts: Callable[..., Contexts]) -> None:
    ctxs = contexts(replace(k3s_demo()), speed=None)
    with pytest.raises(ValueError, match="no floating IP for server 2"):
        render_user_data(ctxs("vexx", floating_ips=FIPS[:1], fixed_ips=FIXED), 2)
