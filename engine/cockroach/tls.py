"""The cluster's own CA, for SQL (libpq) and HTTP (httpx) alike: one trust, no system store.

A secure CockroachDB cluster serves certificates signed by its own CA (``cockroach cert``,
or the run's CA that ``engine.kube.crdb_certs`` makes). So in secure mode the monitor, the
workload and the probes verify against that CA only: libpq gets ``sslmode`` and
``sslrootcert``; httpx gets an ``ssl.SSLContext`` that loads that one file (never the
system store, never ``verify=False``).

Where the settings come from follows libpq: a URL's own ``sslmode``/``sslrootcert`` win;
then the demo file's ``cluster.sslmode``/``cluster.sslrootcert``; then, in secure mode,
``verify-full`` and the run's ``cockroach-certs/ca.crt`` (with the ``root`` client cert
beside it). An insecure cluster keeps ``sslmode=disable`` unless told otherwise.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

VERIFYING = ("verify-ca", "verify-full")
SSLMODES = ("disable", "allow", "prefer", "require", *VERIFYING)


@dataclass(frozen=True)
class ClusterTrust:
    """How every connection to the cluster proves it talks to the cluster."""

    sslmode: str
    sslrootcert: str = ""
    """Path of the cluster's CA certificate (PEM); empty when nothing is verified."""
    sslcert: str = ""
    sslkey: str = ""

    @property
    def verifies(self) -> bool:
        return self.sslmode in VERIFYING

    def sql_params(self) -> dict[str, str]:
        """libpq parameters; empty values are left out."""
        params = {
            "sslmode": self.sslmode,
            "sslrootcert": self.sslrootcert,
            "sslcert": self.sslcert,
            "sslkey": self.sslkey,
        }
        return {k: v for k, v in params.items() if v}

    def http_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the cluster's CA and nothing else.

        Host names are checked for ``verify-full`` (as libpq does); ``verify-ca`` checks
        the chain only. Raises ``ValueError`` (one line) when the CA cannot be read.
        """
        if not self.verifies or not self.sslrootcert:
            raise ValueError(f"sslmode={self.sslmode} verifies no CA; secure mode needs one")
        try:
            ctx = ssl.create_default_context(cafile=self.sslrootcert)  # this CA only
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot read sslrootcert {self.sslrootcert}: {exc}") from None
        ctx.check_hostname = self.sslmode == "verify-full"
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx


def cluster_trust(
    url_params: Mapping[str, str],
    *,
    secure: bool,
    sslmode: str = "",
    sslrootcert: str = "",
    certs_dir: Path | None = None,
) -> ClusterTrust:
    """The trust in effect; ``ValueError`` (one line) when secure mode could not verify.

    ``url_params`` are the libpq parameters read from the ``sql_urls``; ``sslmode`` and
    ``sslrootcert`` the demo file's; ``certs_dir`` the run's ``cockroach-certs`` folder.
    """
    run_ca = certs_dir / "ca.crt" if certs_dir is not None else None
    mode = url_params.get("sslmode") or sslmode or ("verify-full" if secure else "disable")
    if mode not in SSLMODES:
        raise ValueError(f"sslmode={mode} is not a libpq sslmode ({', '.join(SSLMODES)})")
    root = url_params.get("sslrootcert") or sslrootcert
    if not root and secure and run_ca is not None:
        root = str(run_ca)
    cert, key = url_params.get("sslcert", ""), url_params.get("sslkey", "")
    if secure and certs_dir is not None and not cert and not key:
        cert, key = str(certs_dir / "client.root.crt"), str(certs_dir / "client.root.key")
    if secure:
        if mode not in VERIFYING:
            raise ValueError(
                f"secure cluster but sslmode={mode} does not verify its CA: "
                "use verify-full (or verify-ca)"
            )
        if not root:
            raise ValueError(
                "secure cluster but no CA to verify it with: set cluster.sslrootcert "
                "or sslrootcert= in the sql_urls"
            )
        if root == "system":
            raise ValueError(
                "secure cluster: sslrootcert=system trusts the system store, "
                "not the cluster's own CA; name the CA file"
            )
    return ClusterTrust(mode, root if mode != "disable" else "", cert, key)


def describe_tls_error(exc: BaseException) -> str | None:
    """One line for a TLS failure somewhere in ``exc``'s chain (``None`` if there is none)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return f"TLS: certificate verify failed: {cur.verify_message}"
        if isinstance(cur, ssl.SSLError):
            return f"TLS: {cur.reason or cur}"
        cur = cur.__cause__ or cur.__context__
    return None
