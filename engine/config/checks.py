"""Domain checks on single values of the demo file.

Each returns the problem as a short phrase, or ``None`` when the value is fine. Values that
may carry a credential (SQL URLs) are never repeated back in a problem.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs, urlsplit

from engine.config.durations import parse_duration
from engine.config.schema import quoted
from engine.rundir import SAFE_NAME

RUN_PREFIX = re.compile(r"[a-z][a-z0-9-]{0,11}")
NAMESPACE_PREFIX = re.compile(r"[a-z]([a-z0-9-]{0,30}[a-z0-9])?")
SETTING_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?")
LOCALITY_TIER = re.compile(r"[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]+")

STORE_DEAD_MINIMUM_S = 75.0
"""CockroachDB refuses ``server.time_until_store_dead`` below 1m15s."""

DURATION_SETTINGS: dict[str, float] = {
    "server.time_until_store_dead": STORE_DEAD_MINIMUM_S,
    "server.shutdown.drain_wait": 0.0,
    "server.shutdown.initial_wait": 0.0,
    "server.shutdown.query_wait": 0.0,
    "server.shutdown.connection_wait": 0.0,
    "server.shutdown.lease_transfer_wait": 0.0,
    "kv.closed_timestamp.target_duration": 0.0,
    "kv.rangefeed.closed_timestamp_refresh_interval": 0.0,
    "server.web_session_timeout": 0.0,
}
"""Known duration settings and their minimum in seconds."""

_DURATION_SUFFIXES = ("_timeout", ".timeout", "_wait", "_interval", ".interval", "_duration")
"""CockroachDB names its other duration settings like this; their values must parse too."""


def run_prefix(text: str) -> str | None:
    if RUN_PREFIX.fullmatch(text):
        return None
    return (
        f"{text!r} is not a valid prefix: 1 to 12 lowercase letters, digits or dashes, "
        "starting with a letter"
    )


def namespace_prefix(text: str) -> str | None:
    if NAMESPACE_PREFIX.fullmatch(text):
        return None
    return (
        f"{text!r} is not a valid Kubernetes name prefix: up to 32 lowercase letters, "
        "digits or dashes, starting with a letter"
    )


def cidr(text: str) -> str | None:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return f"{text!r} is not a CIDR (e.g. 203.0.113.0/24)"
        return f"{text!r} has host bits set; did you mean {str(network)!r}?"
    return None


def host_port(text: str) -> str | None:
    """``host:port`` with a DNS name, an IPv4 address or a bracketed IPv6 address."""
    host, sep, port = text.rpartition(":")
    expected = f"{text!r} is not host:port (e.g. 203.0.113.7:26257)"
    if not sep or not host:
        return expected
    if host.startswith("["):
        if not host.endswith("]") or not _is_ip(host[1:-1], 6):
            return f"{text!r}: bad IPv6 address in brackets"
    elif ":" in host:
        return f"{text!r}: put an IPv6 address in brackets, e.g. [2001:db8::7]:26257"
    elif not HOSTNAME.fullmatch(host):
        return expected
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"{text!r}: port must be a number from 1 to 65535"
    return None


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def sql_url(text: str) -> str | None:
    """A libpq URL (``postgresql://``, multi-host allowed) or ``host:port``; no passwords."""
    if "://" not in text:
        return None if host_port(text) is None else "expected a postgresql:// URL or host:port"
    try:
        parts = urlsplit(text)
        query = parse_qs(parts.query)
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("postgresql", "postgres"):
        return "expected a postgresql:// URL or host:port"
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if (at and ":" in userinfo) or "password" in query:
        return (
            "contains a password; keep secrets out of the demo file "
            "(use PGPASSWORD, ~/.pgpass or client certificates)"
        )
    if not hosts and "host" not in query:
        return "names no host"
    for host in filter(None, hosts.split(",")):
        has_port = "]:" in host if host.startswith("[") else ":" in host
        if host_port(host if has_port else f"{host}:26257"):
            return "has a bad host or port"
    return None


def install_url(text: str) -> str | None:
    try:  # urlsplit raises on a lone "[" in the host, .port on a bad port
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number in range
        if parts.scheme in ("http", "https") and parts.hostname:
            return None
    except ValueError:
        pass
    return f"{text!r} is not an http(s) URL"


def locality(text: str) -> str | None:
    """Extra ``--locality`` tiers; ``cloud=<name>`` is always added by the engine."""
    tiers = text.split(",")
    for tier in tiers:
        if not LOCALITY_TIER.fullmatch(tier):
            return f"{text!r} is not key=value[,key=value...] (e.g. region=eu-west,zone=a)"
        if tier.split("=", 1)[0] == "cloud":
            return "cloud=<name> is added for every cloud; leave it out"
    return None


def cloud_name(text: str) -> str | None:
    """The cloud's name becomes a folder, a widget id, a locality and part of resource
    names, so it is one safe word (``SAFE_NAME``), with a suggestion when one is close."""
    if SAFE_NAME.fullmatch(text):
        return None
    shown = quoted(text) or "this name"
    rule = "1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit"
    fixed = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:63]
    hint = (
        f"; did you mean {fixed!r}? (rename it in your clouds.yaml too)"
        if SAFE_NAME.fullmatch(fixed)
        else ""
    )
    return f"{shown} is not a valid cloud name: {rule}{hint}"


def setting_name(text: str) -> str | None:
    if SETTING_NAME.fullmatch(text):
        return None
    return "not a cluster setting name (e.g. server.time_until_store_dead)"


def setting_value(name: str, value: str) -> str | None:
    """Duration settings must parse and respect CockroachDB's minimum."""
    minimum = DURATION_SETTINGS.get(name)
    if minimum is None and not name.endswith(_DURATION_SUFFIXES):
        return None
    if value == "0" and not minimum:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError:
        return f"{value!r} is not a duration (e.g. 1m15s, 90s, 500ms)"
    if minimum and seconds < minimum:
        return f"{value} is below CockroachDB's minimum of {format_seconds(minimum)}"
    return None


def format_seconds(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"
