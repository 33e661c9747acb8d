"""cloud-init user data that turns fresh servers into a k3s cluster with no SSH at all.

Server 1 runs ``k3s server`` with our CA set pre-placed (so k3s skips making its own and
our join token and admin certificate are valid); the others run ``k3s agent`` with the
secure ``K10`` token, which pins the server CA. Every node also gets its floating IP in
``/etc/crossroom/advertise-host`` so its CockroachDB pod can advertise an address the
other clouds can reach (a VM never sees its NATed floating IP itself).
"""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from engine.kube import names
from engine.kube.pki import K3sCASet, k3s_ca_set, write_private
from engine.plan import StepContext

K3S_TLS_DIR = "/var/lib/rancher/k3s/server/tls"
K3S_CONFIG = "/etc/rancher/k3s/config.yaml"
ADVERTISE_DIR = "/etc/crossroom"
ADVERTISE_FILE = f"{ADVERTISE_DIR}/advertise-host"
API_PORT = 6443
INSTALLER = "/root/k3s-install.sh"


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so certificates read as they do on disk."""


def _str_block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str_block)


def api_server_url(address: str, port: int = API_PORT) -> str:
    return f"https://{address}:{port}"


def _install_command(ctx: StepContext, role: str) -> str:
    kube = ctx.cloud.kubernetes
    env = {"INSTALL_K3S_VERSION": kube.k3s_version, "INSTALL_K3S_EXEC": role}
    if kube.k3s_binary_url:
        env["GITHUB_URL"] = kube.k3s_binary_url.rstrip("/")
    env_text = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    url = shlex.quote(kube.install_url)
    # Venue networks drop connections: keep trying for ~10 minutes before giving up.
    return (
        f"for i in $(seq 1 60); do curl -sfL --retry 5 -o {INSTALLER} {url} && break; "
        f"sleep 10; done; {env_text} sh {INSTALLER}"
    )


def _node_name(ctx: StepContext, index: int) -> str:
    return names.server_node_name(ctx.resource_name(f"server-{index}"))


def _k3s_config(ctx: StepContext, cas: K3sCASet, index: int, fips: list[str]) -> dict[str, Any]:
    own = fips[index - 1]
    cfg: dict[str, Any] = {
        "token": cas.token,
        "node-name": _node_name(ctx, index),
        "node-external-ip": own,
        "node-label": [
            f"{names.LABEL_RUN}={names.label_value(ctx.run_id)}",
            f"{names.LABEL_CLOUD}={names.label_value(ctx.cloud.name)}",
        ],
    }
    if index == 1:
        cfg["tls-san"] = [own]
        cfg["write-kubeconfig-mode"] = "0600"
    else:
        private = ctx.facts.get("private_ips") or []
        server = private[0] if private else fips[0]
        cfg["server"] = api_server_url(str(server))
    return cfg


def _file(path: str, content: str, mode: str) -> dict[str, Any]:
    return {"path": path, "owner": "root:root", "permissions": mode, "content": content}


def render_user_data(ctx: StepContext, index: int) -> str:
    """cloud-config for server ``index`` (1-based; 1 is the k3s server).

    Needs ``ctx.facts["floating_ips"]`` (allocated before boot). Agents may join the server
    on its private address if the provider put ``ctx.facts["private_ips"]`` there first,
    otherwise on its floating IP. The text holds private keys for server 1 only, so it is
    also written to ``cloud_dir/user-data-<index>.yaml`` with mode 0600 and nowhere else.
    The CA set is made here if needed; ``await ensure_k3s_ca_set(ctx)`` first keeps that
    key generation off the event loop.
    """
    fips = [str(ip) for ip in ctx.facts.get("floating_ips") or []]
    if index < 1 or index > len(fips):
        raise ValueError(f"no floating IP for server {index} (have {len(fips)})")
    cas = k3s_ca_set(ctx.cloud_dir)
    config = _k3s_config(ctx, cas, index, fips)
    files = [
        _file(K3S_CONFIG, yaml.safe_dump(config, sort_keys=True), "0600"),
        _file(ADVERTISE_FILE, fips[index - 1] + "\n", "0644"),
    ]
    if index == 1:
        for rel, data in sorted(cas.files.items()):
            secret = rel.endswith(".key")
            files.append(_file(f"{K3S_TLS_DIR}/{rel}", data.decode(), "0600" if secret else "0644"))
    role = "server" if index == 1 else "agent"
    doc = {
        "hostname": _node_name(ctx, index),
        "write_files": files,
        "runcmd": [["sh", "-c", _install_command(ctx, role)]],
    }
    text = "#cloud-config\n" + yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, width=4096)
    write_private(ctx.cloud_dir / f"user-data-{index}.yaml", text.encode())
    return text
