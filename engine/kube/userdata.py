"""cloud-init user data that turns fresh servers into a k3s cluster with no SSH at all.

Server 1 runs ``k3s server`` with our CA set pre-placed (so k3s skips making its own and
our join token and admin certificate are valid); the others run ``k3s agent`` with the
secure ``K10`` token, which pins the server CA.

Inside a cloud everything runs on fixed IPs (the ports are made before the servers, so
they are known here): ``node-ip`` is the node's fixed IP, server 1 advertises its fixed IP,
agents join server 1's fixed IP, and flannel uses the internal address (k3s'
``flannel-external-ip`` stays off). A cloud that does not hairpin NAT to its own floating
IPs still comes up. The floating IP is only ``node-external-ip`` and, in
``/etc/crossroom/advertise-host``, the address a CockroachDB pod advertises to the other
clouds (a VM never sees its NATed floating IP itself).

The install is one script that retries the whole k3s install (fetching install.sh *and*
the binary download inside it) a bounded number of times, logging each attempt.
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
INSTALL_SCRIPT = "/usr/local/sbin/crossroom-install-k3s"
INSTALL_LOG = "/var/log/crossroom-k3s-install.log"
INSTALL_ATTEMPTS = 20
INSTALL_DELAY_S = 30
"""20 attempts 30 s apart (plus each attempt's own time): a venue network may drop out for
ten minutes and the node still comes up; after that the step's timeout tells the room."""


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so certificates read as they do on disk."""


def _str_block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str_block)


def api_server_url(address: str, port: int = API_PORT) -> str:
    return f"https://{address}:{port}"


def _install_script(ctx: StepContext, role: str) -> str:
    """A POSIX sh script: fetch install.sh and run it, the whole of it retried, logged.

    ``CROSSROOM_INSTALLER``, ``CROSSROOM_INSTALL_LOG`` and ``CROSSROOM_RETRY_DELAY_S``
    override paths and the pause (the tests run the script for real with them).
    """
    kube = ctx.cloud.kubernetes
    env = {"INSTALL_K3S_VERSION": kube.k3s_version, "INSTALL_K3S_EXEC": role}
    if kube.k3s_binary_url:
        env["GITHUB_URL"] = kube.k3s_binary_url.rstrip("/")
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    url = shlex.quote(kube.install_url)
    return f"""#!/bin/sh
# crossroom: install k3s, retrying the whole install (installer and binary downloads).
installer="${{CROSSROOM_INSTALLER:-{INSTALLER}}}"
log="${{CROSSROOM_INSTALL_LOG:-{INSTALL_LOG}}}"
delay="${{CROSSROOM_RETRY_DELAY_S:-{INSTALL_DELAY_S}}}"
attempts={INSTALL_ATTEMPTS}
{exports}say() {{
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) crossroom-install-k3s: $*"
  echo "$line" >>"$log"
  echo "$line" >&2
}}
n=1
while [ "$n" -le "$attempts" ]; do
  say "attempt $n/$attempts: fetching {kube.install_url}"
  if curl -sfL --retry 3 --connect-timeout 20 -o "$installer" {url}; then
    if sh "$installer"; then
      say "k3s installed on attempt $n/$attempts"
      exit 0
    else
      say "attempt $n/$attempts: install.sh failed (exit $?)"
    fi
  else
    say "attempt $n/$attempts: fetching the installer failed (exit $?)"
  fi
  n=$((n + 1))
  [ "$n" -le "$attempts" ] && sleep "$delay"
done
say "giving up after $attempts attempts"
exit 1
"""


def _node_name(ctx: StepContext, index: int) -> str:
    return names.server_node_name(ctx.resource_name(f"server-{index}"))


def _k3s_config(
    ctx: StepContext, cas: K3sCASet, index: int, fips: list[str], fixed: list[str]
) -> dict[str, Any]:
    own_fixed, own_fip = fixed[index - 1], fips[index - 1]
    cfg: dict[str, Any] = {
        "token": cas.token,
        "node-name": _node_name(ctx, index),
        "node-ip": own_fixed,
        "node-external-ip": own_fip,
        "node-label": [
            f"{names.LABEL_RUN}={names.label_value(ctx.run_id)}",
            f"{names.LABEL_CLOUD}={names.label_value(ctx.cloud.name)}",
        ],
    }
    if index == 1:
        cfg["advertise-address"] = own_fixed
        cfg["tls-san"] = [own_fip, own_fixed]
        cfg["write-kubeconfig-mode"] = "0600"
    else:
        cfg["server"] = api_server_url(fixed[0])
    return cfg


def _file(path: str, content: str, mode: str) -> dict[str, Any]:
    return {"path": path, "owner": "root:root", "permissions": mode, "content": content}


def render_user_data(ctx: StepContext, index: int) -> str:
    """cloud-config for server ``index`` (1-based; 1 is the k3s server).

    Needs ``ctx.facts["floating_ips"]`` and ``ctx.facts["fixed_ips"]`` (both known before
    any server exists); there is no fallback to a floating IP inside the cloud. The text
    holds private keys for server 1 only, so it is
    also written to ``cloud_dir/user-data-<index>.yaml`` with mode 0600 and nowhere else.
    The CA set is made here if needed; ``await ensure_k3s_ca_set(ctx)`` first keeps that
    key generation off the event loop.
    """
    fips = [str(ip) for ip in ctx.facts.get("floating_ips") or []]
    fixed = [str(ip) for ip in ctx.facts.get("fixed_ips") or []]
    if index < 1 or index > len(fips):
        raise ValueError(f"no floating IP for server {index} (have {len(fips)})")
    if index > len(fixed) or not fixed[0]:
        raise ValueError(f"no fixed IP for server {index} or server 1 (have {len(fixed)})")
    cas = k3s_ca_set(ctx.cloud_dir)
    role = "server" if index == 1 else "agent"
    config = _k3s_config(ctx, cas, index, fips, fixed)
    files = [
        _file(K3S_CONFIG, yaml.safe_dump(config, sort_keys=True), "0600"),
        _file(ADVERTISE_FILE, fips[index - 1] + "\n", "0644"),
        _file(INSTALL_SCRIPT, _install_script(ctx, role), "0755"),
    ]
    if index == 1:
        for rel, data in sorted(cas.files.items()):
            secret = rel.endswith(".key")
            files.append(_file(f"{K3S_TLS_DIR}/{rel}", data.decode(), "0600" if secret else "0644"))
    doc = {
        "hostname": _node_name(ctx, index),
        "write_files": files,
        "runcmd": [[INSTALL_SCRIPT]],
    }
    text = "#cloud-config\n" + yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, width=4096)
    write_private(ctx.cloud_dir / f"user-data-{index}.yaml", text.encode())
    return text
