"""cloud-init user data: valid cloud-config, keys only where needed, kept 0600."""

from __future__ import annotations

import base64
import stat
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
    ctx = ctxs("vexx", floating_ips=FIPS)
    doc = parse(render_user_data(ctx, 1))
    cas = k3s_ca_set(ctx.cloud_dir)
    by_path = files(doc)
    for rel, data in cas.files.items():
        entry = by_path[f"/var/lib/rancher/k3s/server/tls/{rel}"]
        assert entry["content"].encode() == data
        assert entry["permissions"] == ("0600" if rel.endswith(".key") else "0644")
    config = k3s_config(doc)
    assert config["token"] == cas.token
    assert config["tls-san"] == [FIPS[0]]
    assert config["node-external-ip"] == FIPS[0]
    assert "server" not in config
    assert doc["hostname"] == config["node-name"] == "xr-20261127-051200-a1b2-vexx-server-1"
    assert by_path["/etc/crossroom/advertise-host"]["content"] == FIPS[0] + "\n"
    command = doc["runcmd"][0][2]
    assert "INSTALL_K3S_EXEC=server" in command and "INSTALL_K3S_VERSION=v1.31.4+k3s1" in command
    assert "https://get.k3s.io" in command and "GITHUB_URL" not in command
    keys = sum(e["content"].count("-----BEGIN PRIVATE KEY-----") for e in doc["write_files"])
    assert keys == 6  # five CA keys and service.key: what a k3s server needs, nothing else
    assert len(base64.b64encode(render_user_data(ctx, 1).encode())) < 65535


def test_agents_get_the_token_and_no_private_key(contexts: Callable[..., Contexts]) -> None:
    ctxs = contexts(k3s_demo(), speed=None)
    ctx = ctxs("vexx", floating_ips=FIPS)
    server_token = k3s_config(parse(render_user_data(ctx, 1)))["token"]
    for index in (2, 3):
        text = render_user_data(ctx, index)
        assert "PRIVATE KEY" not in text
        doc = parse(text)
        config = k3s_config(doc)
        assert config["token"] == server_token
        assert config["server"] == f"https://{FIPS[0]}:6443"
        assert config["node-external-ip"] == FIPS[index - 1]
        assert "INSTALL_K3S_EXEC=agent" in doc["runcmd"][0][2]
        assert not any(p.startswith("/var/lib/rancher") for p in files(doc))
    ctx.facts["private_ips"] = ["10.0.0.5", "10.0.0.6", "10.0.0.7"]
    assert k3s_config(parse(render_user_data(ctx, 2)))["server"] == "https://10.0.0.5:6443"


def test_mirror_urls_reach_the_installer(contexts: Callable[..., Contexts]) -> None:
    mirror = "http://mirror.venue.lan/k3s"
    ctxs = contexts(
        k3s_demo(install_url=f"{mirror}/install.sh", k3s_binary_url=f"{mirror}/releases/"),
        speed=None,
    )
    command = parse(render_user_data(ctxs("vexx", floating_ips=FIPS), 2))["runcmd"][0][2]
    assert f"curl -sfL --retry 5 -o /root/k3s-install.sh {mirror}/install.sh" in command
    assert f"GITHUB_URL={mirror}/releases " in command
    assert "get.k3s.io" not in command


def test_user_data_is_kept_0600_in_the_cloud_dir_and_reuses_the_ca(
    contexts: Callable[..., Contexts],
) -> None:
    ctxs = contexts(k3s_demo(), speed=None)
    ctx = ctxs("vexx", floating_ips=FIPS)
    first = render_user_data(ctx, 1)
    path: Path = ctx.cloud_dir / "user-data-1.yaml"
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A retry renders the same CA set and token (only the file is rewritten).
    assert k3s_config(parse(render_user_data(ctx, 1)))["token"] == k3s_config(parse(first))["token"]


def test_missing_floating_ip_is_a_clear_error(contexts: Callable[..., Contexts]) -> None:
    ctxs = contexts(replace(k3s_demo()), speed=None)
    with pytest.raises(ValueError, match="no floating IP for server 2"):
        render_user_data(ctxs("vexx", floating_ips=FIPS[:1]), 2)
