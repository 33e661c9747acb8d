"""CockroachDB secure-mode certificates, in ``cockroach cert``'s layout, made locally.

One CA per run (every cloud's nodes join one cluster, so they must trust one CA), kept in
``<run dir>/cockroach-certs`` together with the ``root`` client certificate the monitor
uses. Node certificates are per cloud and name every address a peer or client may dial:
IP addresses as IP SANs, names (a kubelet always reports its ``Hostname`` beside its IPs)
as DNS SANs.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from engine.kube.pki import Issued, cert_pem, issue_leaf, load_key, make_ca, write_private

_RSA = 2048
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
"""One label of a DNS name as a certificate can carry it (ASCII; RFC 1123 plus ``_``)."""


@dataclass(frozen=True)
class CockroachCerts:
    """The files of a ``--certs-dir``: ``ca.crt`` plus one cert/key pair."""

    ca_crt: bytes
    crt: bytes
    key: bytes
    crt_name: str

    def secret_data(self) -> dict[str, bytes]:
        prefix = self.crt_name
        return {"ca.crt": self.ca_crt, f"{prefix}.crt": self.crt, f"{prefix}.key": self.key}


def run_certs_dir(cloud_dir: Path) -> Path:
    """``<run dir>/cockroach-certs``; a cloud dir is ``<run dir>/clouds/<cloud>``."""
    return cloud_dir.parent.parent / "cockroach-certs"


def _load(crt: Path, key: Path) -> Issued:
    certs = x509.load_pem_x509_certificates(crt.read_bytes())
    return Issued(certs[0], load_key(key.read_bytes()), tuple(certs[1:]))


def cockroach_ca(certs_dir: Path) -> Issued:
    """The run's CA (with the ``root`` client certificate), created on first use.

    Every cloud's step may ask at once, from worker threads: the set is written in a
    private directory and renamed into place, so the first to land wins for all.
    """
    crt, key = certs_dir / "ca.crt", certs_dir / "ca.key"
    if not (crt.exists() and key.exists()):
        ca = make_ca("Cockroach CA", rsa_bits=_RSA)
        root = issue_leaf(ca, "root", client=True, dns=("root",), rsa_bits=_RSA)
        tmp = certs_dir.with_name(f".{certs_dir.name}-{secrets.token_hex(4)}")
        write_private(tmp / "client.root.key", root.key_pem)
        write_private(tmp / "client.root.crt", cert_pem(root.cert))
        write_private(tmp / "ca.key", ca.key_pem)
        write_private(tmp / "ca.crt", cert_pem(ca.cert))
        try:
            os.rename(tmp, certs_dir)
        except OSError:  # another cloud's CA landed first
            shutil.rmtree(tmp, ignore_errors=True)
    return _load(crt, key)


def root_client_certs(certs_dir: Path) -> CockroachCerts:
    """``client.root.crt``/``.key`` beside the CA: for the init Job and the monitor."""
    ca = cockroach_ca(certs_dir)
    crt, key = certs_dir / "client.root.crt", certs_dir / "client.root.key"
    return CockroachCerts(cert_pem(ca.cert), crt.read_bytes(), key.read_bytes(), "client.root")


def node_dns_names(namespace: str, public: str, headless: str) -> tuple[str, ...]:
    """Every in-cluster name a node is dialled by, as CockroachDB's multiregion docs list."""
    names = ["localhost", "node"]
    for svc in (public, headless):
        names += [svc, f"{svc}.{namespace}", f"{svc}.{namespace}.svc.cluster.local"]
    names += [
        f"*.{headless}",
        f"*.{headless}.{namespace}",
        f"*.{headless}.{namespace}.svc.cluster.local",
    ]
    return tuple(names)


def split_addresses(addresses: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(ips, names)``: what parses as an IP address (normalised), and what is a DNS name.

    A Node's ``status.addresses`` mixes ``InternalIP``/``ExternalIP`` with ``Hostname``
    (kubelet ``nodestatus.NodeAddress``; k3s's cloud provider ``NodeAddresses``), so an
    address is not always an IP. Anything that is neither is dropped.
    """
    ips: dict[str, None] = {}
    dns: dict[str, None] = {}
    for raw in addresses:
        text = str(raw).strip()
        try:
            ips[str(ipaddress.ip_address(text.strip("[]")))] = None
        except ValueError:
            name = text.rstrip(".").lower()
            if len(name) <= 253 and all(_LABEL.fullmatch(part) for part in name.split(".")):
                dns[name] = None
    return tuple(ips), tuple(dns)


def node_certs(cloud_dir: Path, dns: Sequence[str], addresses: Sequence[str]) -> CockroachCerts:
    """This cloud's node certificate (CN ``node``), re-issued only when its names change.

    ``addresses`` are what peers dial (floating IPs, node addresses): IPs become IP SANs,
    names DNS SANs beside ``dns``.
    """
    ca = cockroach_ca(run_certs_dir(cloud_dir))
    base = cloud_dir / "cockroach"
    crt, key = base / "node.crt", base / "node.key"
    ip_list, names = split_addresses(addresses)
    dns = sorted({*dns, *names})
    ips = sorted({"127.0.0.1", *ip_list})
    wanted = dns + ips
    if crt.exists() and key.exists():
        old = _load(crt, key)
        if _san_list(old.cert) == wanted:
            return CockroachCerts(cert_pem(ca.cert), crt.read_bytes(), key.read_bytes(), "node")
    leaf = issue_leaf(
        ca,
        "node",
        server=True,
        client=True,
        dns=dns,
        ips=ips,
        rsa_bits=_RSA,
    )
    write_private(key, leaf.key_pem)
    write_private(crt, cert_pem(leaf.cert))
    return CockroachCerts(cert_pem(ca.cert), crt.read_bytes(), key.read_bytes(), "node")


def _san_list(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    dns = sorted(san.get_values_for_type(x509.DNSName))
    ips = sorted(str(i) for i in san.get_values_for_type(x509.IPAddress))
    return dns + ips
