"""The k3s CA set, the join token and CockroachDB certificates verify with cryptography."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store

from engine.kube.crdb_certs import node_certs, root_client_certs, run_certs_dir, split_addresses
from engine.kube.pki import K3S_CA_NAMES, k3s_ca_set


def certs(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def ext(cert: x509.Certificate, cls: type) -> object:
    return cert.extensions.get_extension_for_class(cls).value


def client_verifier(trusted: x509.Certificate) -> x509.verification.ClientVerifier:
    return (
        PolicyBuilder()
        .store(Store([trusted]))
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run") / "clouds" / "alpha"


def test_each_ca_bundle_is_leaf_ca_intermediate_root_and_chains(ca_dir: Path) -> None:
    cas = k3s_ca_set(ca_dir)
    root = cas.root
    root.verify_directly_issued_by(root)
    for name in K3S_CA_NAMES:
        leaf, inter, last = certs(cas.files[f"{name}.crt"])
        assert last == root
        leaf.verify_directly_issued_by(inter)
        inter.verify_directly_issued_by(root)
        constraints = ext(leaf, x509.BasicConstraints)
        assert constraints.ca and constraints.path_length == 0
        usage = ext(leaf, x509.KeyUsage)
        assert usage.key_cert_sign and usage.crl_sign
        # k3s finds the root of a bundle by AKI == SKI (or no AKI): intermediates must differ.
        assert (
            ext(leaf, x509.AuthorityKeyIdentifier).key_identifier
            != ext(leaf, x509.SubjectKeyIdentifier).digest
        )
        key = serialization.load_pem_private_key(cas.files[f"{name}.key"], None)
        assert key.public_key() == leaf.public_key()
    assert b"PRIVATE KEY" in cas.files["service.key"]


def test_join_token_pins_the_root_der(ca_dir: Path) -> None:
    cas = k3s_ca_set(ca_dir)
    match = re.fullmatch(r"K10([0-9a-f]{64})::server:([0-9a-f]{32})", cas.token)
    assert match is not None
    root_der = certs(cas.server_ca_pem)[-1].public_bytes(serialization.Encoding.DER)
    assert match.group(1) == hashlib.sha256(root_der).hexdigest()


def test_admin_certificate_is_a_system_masters_client_of_the_client_ca(ca_dir: Path) -> None:
    cas = k3s_ca_set(ca_dir)
    admin = certs(cas.admin_cert_pem)[0]
    client_ca = certs(cas.files["client-ca.crt"])[0]
    admin.verify_directly_issued_by(client_ca)
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:admin"
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "system:masters"
    )
    assert list(ext(admin, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not ext(admin, x509.BasicConstraints).ca
    # Kubernetes client certificates carry no SAN, so the end-entity policy is relaxed;
    # the chain, validity and CA rules stay the web PKI defaults.
    chain = client_verifier(client_ca).verify(admin, [])
    assert chain.chain[-1] == client_ca
    # The apiserver trusts the whole client-ca bundle; from the root the chain is longer.
    client_bundle = certs(cas.files["client-ca.crt"])
    full = client_verifier(client_bundle[-1]).verify(admin, client_bundle[:2])
    assert [c.subject for c in full.chain][1:] == [c.subject for c in client_bundle]
    # Not valid against the server CA: the two roles are kept apart.
    with pytest.raises(x509.verification.VerificationError):
        client_verifier(certs(cas.server_ca_pem)[0]).verify(admin, [])


def test_ca_set_is_kept_0600_and_reused(ca_dir: Path) -> None:
    first = k3s_ca_set(ca_dir)
    again = k3s_ca_set(ca_dir)
    assert again.token == first.token and again.files == first.files
    files = [p for p in (ca_dir / "k3s").rglob("*") if p.is_file()]
    assert len(files) >= len(K3S_CA_NAMES) * 2 + 4
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_new_cloud_gets_a_new_root(tmp_path: Path) -> None:
    one = k3s_ca_set(tmp_path / "clouds" / "one")
    two = k3s_ca_set(tmp_path / "clouds" / "two")
    assert one.root != two.root and one.token != two.token


def test_cockroach_node_and_client_certs_verify_against_the_run_ca(tmp_path: Path) -> None:
    cloud_dir = tmp_path / "runs" / "r1" / "clouds" / "alpha"
    dns = ("localhost", "cockroachdb-public", "*.cockroachdb.ns.svc.cluster.local")
    node = node_certs(cloud_dir, dns, ("203.0.113.7",))
    ca = certs(node.ca_crt)[0]
    leaf = certs(node.crt)[0]
    verifier = (
        PolicyBuilder()
        .store(Store([ca]))
        .build_server_verifier(x509.IPAddress(ipaddress.ip_address("203.0.113.7")))
    )
    verifier.verify(leaf, [])
    san = ext(leaf, x509.SubjectAlternativeName)
    assert set(san.get_values_for_type(x509.DNSName)) == set(dns)
    assert {str(i) for i in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "203.0.113.7"}
    assert set(ext(leaf, x509.ExtendedKeyUsage)) == {
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "node"
    client = root_client_certs(run_certs_dir(cloud_dir))
    root_leaf = certs(client.crt)[0]
    client_verifier(ca).verify(root_leaf, [])
    assert root_leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "root"
    assert set(client.secret_data()) == {"ca.crt", "client.root.crt", "client.root.key"}
    # One CA per run: a second cloud's node certificate chains to the same CA.
    other = node_certs(cloud_dir.parent / "beta", dns, ())
    assert certs(other.ca_crt)[0] == ca
    # Same names: the certificate is reused; new names: re-issued.
    assert node_certs(cloud_dir, dns, ("203.0.113.7",)).crt == node.crt
    assert node_certs(cloud_dir, dns, ("203.0.113.8",)).crt != node.crt
    for path in run_certs_dir(cloud_dir).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_racing_callers_all_get_the_one_set_that_landed(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cloud_dir = tmp_path / "clouds" / "race"
    cloud_dir.mkdir(parents=True)
    with ThreadPoolExecutor(4) as pool:
        tokens = {cas.token for cas in pool.map(lambda _: k3s_ca_set(cloud_dir), range(4))}
    assert len(tokens) == 1
    assert [p.name for p in cloud_dir.iterdir()] == ["k3s"]  # no half-written sets left
    assert k3s_ca_set(cloud_dir).token in tokens


def test_clouds_racing_for_the_run_ca_share_one(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    run = tmp_path / "runs" / "r"
    dirs = [run / "clouds" / f"c{i}" for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda d: node_certs(d, ("node",), ()), dirs))
    assert len({m.ca_crt for m in made}) == 1
    assert sorted(p.name for p in run.iterdir() if p.name != "clouds") == ["cockroach-certs"]
    ca = certs(made[0].ca_crt)[0]
    for m in made:
        certs(m.crt)[0].verify_directly_issued_by(ca)


def test_node_addresses_as_a_kubelet_reports_them_split_into_ip_and_dns_sans(
    tmp_path: Path,
) -> None:
    """A real Node lists InternalIP, ExternalIP and Hostname: the name must not reach
    ``ipaddress`` (it raised ValueError and secure mode died on every real cloud)."""
    cloud_dir = tmp_path / "runs" / "r1" / "clouds" / "alpha"
    reported = ("10.0.0.11", "203.0.113.11", "xr-alpha-server-1", "fd00::b", "not a name!")
    assert split_addresses(reported) == (
        ("10.0.0.11", "203.0.113.11", "fd00::b"),
        ("xr-alpha-server-1",),
    )
    leaf = certs(node_certs(cloud_dir, ("node",), reported).crt)[0]
    san = ext(leaf, x509.SubjectAlternativeName)
    assert set(san.get_values_for_type(x509.DNSName)) == {"node", "xr-alpha-server-1"}
    assert {str(i) for i in san.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "10.0.0.11",
        "203.0.113.11",
        "fd00::b",
    }
