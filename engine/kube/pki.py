"""Certificates made on our side with ``cryptography``, so no node ever needs SSH.

Two sets live here: the per-cloud k3s CA set (pre-placed on the first server so k3s skips
its own CA generation, which lets us compute the secure ``K10`` join token and sign our
own admin certificate), and the per-run CockroachDB CA (secure mode; every cloud's
nodes must trust one CA because they form one cluster).

Keys are ECDSA P-256 except the service-account key (RSA, as k3s makes it) and the
CockroachDB set (RSA, as ``cockroach cert`` makes it). Every key file is written 0600.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)

K3S_CA_NAMES: tuple[str, ...] = (
    "server-ca",
    "client-ca",
    "request-header-ca",
    "etcd/peer-ca",
    "etcd/server-ca",
)
"""The CAs k3s looks for in ``/var/lib/rancher/k3s/server/tls`` (``docs/cli/certificate.md``)."""


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, creating parents 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def load_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("unsupported key type")
    return key


def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    """A certificate, its key, and the chain above it (issuer first, root last)."""

    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def bundle_pem(self) -> bytes:
        """The certificate followed by its chain: the ``.crt`` layout k3s expects."""
        return cert_pem(self.cert, *self.chain)

    @property
    def key_pem(self) -> bytes:
        return key_pem(self.key)


def make_ca(
    cn: str, issuer: Issued | None = None, *, path_length: int | None = None, rsa_bits: int = 0
) -> Issued:
    """A CA certificate: self-signed root when ``issuer`` is None, else an intermediate."""
    key: PrivateKey = _rsa_key(rsa_bits) if rsa_bits else _ec_key()
    subject = _name(cn)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
    )
    if issuer is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
        builder = builder.add_extension(aki, critical=False)
    signer = issuer.key if issuer else key
    cert = builder.sign(signer, hashes.SHA256())
    chain = (issuer.cert, *issuer.chain) if issuer else ()
    return Issued(cert, key, chain)


def issue_leaf(
    issuer: Issued,
    cn: str,
    *,
    org: str | None = None,
    server: bool = False,
    client: bool = False,
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    rsa_bits: int = 0,
) -> Issued:
    """An end-entity certificate for TLS client and/or server use."""
    key: PrivateKey = _rsa_key(rsa_bits) if rsa_bits else _ec_key()
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + LEAF_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return Issued(cert, key, (issuer.cert, *issuer.chain))


def ca_hash(root: x509.Certificate) -> str:
    """k3s's CA hash for a custom CA bundle: SHA-256 of the root's DER (``pkg/clientaccess``)."""
    return hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class K3sCASet:
    """One cloud's k3s CA set, its join token and our admin client certificate.

    ``files`` maps paths relative to ``/var/lib/rancher/k3s/server/tls`` to contents.
    """

    files: dict[str, bytes]
    token: str
    admin_cert_pem: bytes
    admin_key_pem: bytes

    @property
    def server_ca_pem(self) -> bytes:
        return self.files["server-ca.crt"]

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.server_ca_pem)[-1]


_SET_DIR = "k3s"
_DONE = "complete"


def generate_k3s_ca_set() -> K3sCASet:
    """Root -> intermediate -> the five k3s CAs, plus ``service.key`` and a full token.

    The shape follows k3s ``contrib/util/generate-custom-ca-certs.sh``; ``.crt`` files are
    bundles ending with the root, so the token's hash pins the root (k3s ``hashCA``).
    """
    root = make_ca("k3s-root-ca")
    inter = make_ca("k3s-intermediate-ca", root, path_length=1)
    files: dict[str, bytes] = {
        "root-ca.pem": cert_pem(root.cert),
        "intermediate-ca.pem": cert_pem(inter.cert, root.cert),
    }
    cas: dict[str, Issued] = {}
    for name in K3S_CA_NAMES:
        ca = make_ca(name.replace("/", "-"), inter, path_length=0)
        cas[name] = ca
        files[f"{name}.crt"] = ca.bundle_pem
        files[f"{name}.key"] = ca.key_pem
    files["service.key"] = key_pem(_rsa_key(2048))
    token = f"K10{ca_hash(root.cert)}::server:{secrets.token_hex(16)}"
    admin = issue_leaf(cas["client-ca"], "system:admin", org="system:masters", client=True)
    return K3sCASet(files, token, cert_pem(admin.cert, *admin.chain[:1]), admin.key_pem)


def _load_set(base: Path) -> K3sCASet:
    files = {
        str(p.relative_to(base / "tls")): p.read_bytes()
        for p in sorted((base / "tls").rglob("*"))
        if p.is_file()
    }
    return K3sCASet(
        files,
        (base / "token").read_text(encoding="utf-8").strip(),
        (base / "admin.crt").read_bytes(),
        (base / "admin.key").read_bytes(),
    )


def k3s_ca_set(cloud_dir: Path) -> K3sCASet:
    """The cloud's CA set, made once and kept in ``cloud_dir/k3s`` (0600) so retries,
    restarts and teardown after a crash all use the same one.

    Safe to call from the loop and a worker thread at once: a set is written in a private
    directory and renamed into place, so the first one to land wins and both return it.
    """
    base = cloud_dir / _SET_DIR
    if (base / _DONE).exists():
        return _load_set(base)
    if base.exists():  # a crash mid-write under an older layout: nothing in it was used
        shutil.rmtree(base, ignore_errors=True)
    cas = generate_k3s_ca_set()
    tmp = cloud_dir / f".{_SET_DIR}-{secrets.token_hex(4)}"
    for rel, data in cas.files.items():
        write_private(tmp / "tls" / rel, data)
    write_private(tmp / "token", cas.token.encode())
    write_private(tmp / "admin.crt", cas.admin_cert_pem)
    write_private(tmp / "admin.key", cas.admin_key_pem)
    write_private(tmp / _DONE, b"")
    try:
        os.rename(tmp, base)
    except OSError:  # another caller's set landed first: use that one
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_set(base)
