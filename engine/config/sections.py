"""The demo file's shape: which keys each section takes and how each value is read.

Sections come out as partial dicts holding only the keys the user gave (and got right),
so defaults and per-cloud overrides can be merged key by key afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.config import checks
from engine.config.files import UnreadableFile, expand_user, regular_file_problem
from engine.config.scenario import scenario_section
from engine.config.schema import (
    BOOL,
    STRINGLIKE,
    At,
    Invalid,
    Reader,
    boolean,
    checked,
    choice,
    describe,
    entries,
    integer,
    items,
    line_of,
    number,
    section,
    string,
)
from engine.plan import STEPS

# Upper bounds: each far above any real show, low enough that a typo cannot eat the machine.
MAX_CLOUDS = 200
"""The room is built for 1 to 200 clouds."""
MAX_SERVERS = 64
"""Servers (and so CockroachDB nodes) per cloud."""
MAX_VOLUME_GB = 16_384
MAX_RANGES = 100_000
"""Ranges the rehearsal cluster models; each is a Python object."""
MAX_RATE = 1_000_000.0
"""kv operations per second the workload aims for."""
MAX_CONCURRENCY = 256
"""kv workers; each holds a SQL connection."""
MAX_SLOWNESS = 100.0
HOUR_S = 3_600
DAY_S = 86_400.0


def subsection(fields: dict[str, Reader[Any]]) -> Reader[dict[str, Any]]:
    def read(node: Node, at: At) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise Invalid(f"expected a mapping, got {describe(node)}")
        return section(node, at, fields)

    return read


def _odd(value: int) -> str | None:
    return None if value % 2 else f"{value} is even; use an odd number so a majority survives"


def settings(node: Node, at: At) -> tuple[tuple[str, str], ...]:
    """Cluster settings in file order; values become the strings CockroachDB is given."""
    out: list[tuple[str, str]] = []
    for name, value, where in entries(node, at):
        problem = checks.setting_name(name)
        if problem:
            where.error(problem)
            continue
        if not isinstance(value, ScalarNode) or value.tag not in STRINGLIKE | {BOOL}:
            where.error(f"expected a value, got {describe(value)}")
            continue
        text = str(value.value)
        if value.tag == BOOL:  # a setting is a string to CockroachDB; yes/on mean true here
            text = "true" if SafeConstructor.bool_values[text.lower()] else "false"
        problem = checks.setting_value(name, text)
        if problem:
            where.error(problem)
            continue
        out.append((name, text))
    return tuple(out)


def kubeconfig(base: Path) -> Reader[Path]:
    """A kubeconfig file that must exist now; relative paths start at the demo file's folder."""

    def read(node: Node, at: At) -> Path:
        text = string(node, at)
        try:
            given = expand_user(text)
        except UnreadableFile as exc:
            raise Invalid(exc.reason) from None
        full = given if given.is_absolute() else base / given
        problem = regular_file_problem(full)
        shown = text if len(text) <= 80 else text[:79] + "…"
        if problem == "file not found":
            where = "" if given.is_absolute() else " (relative to the demo file's folder)"
            raise Invalid(f"file not found: {shown}{where}")
        if problem:
            raise Invalid(f"{shown}: {problem}")
        return full

    return read


def cluster_fields(base: Path | None = None) -> dict[str, Reader[Any]]:
    """``base``: the demo file's folder, where a relative ``sslrootcert`` starts."""
    return {
        "image": string,
        "secure": boolean,
        "join": items(checked(string, checks.host_port)),
        "sql_urls": items(checked(string, checks.sql_url)),
        "http_port": integer(1, 65535),
        "sql_port": integer(1, 65535),
        "settings": settings,
        "replication_factor": checked(integer(1, 7), _odd),
        "ranges": integer(1, MAX_RANGES),
        "join_timeout_s": number(0, DAY_S, above=True),
        "sslmode": choice("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
        "sslrootcert": kubeconfig(base or Path.cwd()),  # any file that must exist now
    }


def workload_fields() -> dict[str, Reader[Any]]:
    return {
        "enabled": boolean,
        "read_percent": integer(0, 100),
        "max_rate": number(0, MAX_RATE, above=True),
        "concurrency": integer(1, MAX_CONCURRENCY),
    }


def kubernetes_fields(base: Path) -> dict[str, Reader[Any]]:
    return {
        "mode": choice("k3s", "existing"),
        "kubeconfig": kubeconfig(base),
        "context": string,
        "k3s_version": string,
        "install_url": checked(string, checks.install_url),
        "k3s_binary_url": checked(string, checks.install_url),
        "namespace_prefix": checked(string, checks.namespace_prefix),
        "expose": choice("hostport", "nodeport"),
        "termination_grace_s": integer(0, HOUR_S),
    }


def sim_fields() -> dict[str, Reader[Any]]:
    return {
        "fail_step": choice(*STEPS),
        "fail_error": string,
        "transient_rate": number(0, 1),
        "slowness": number(0, MAX_SLOWNESS, above=True),
    }


def cloud_defaults_fields(base: Path) -> dict[str, Reader[Any]]:
    """Keys allowed under ``defaults`` and, as overrides, in every cloud."""
    return {
        "flavor": string,
        "image": string,
        "network": string,
        "floating_ip_pool": string,
        "servers": integer(1, MAX_SERVERS),
        "volume_size_gb": integer(0, MAX_VOLUME_GB),
        "public_cidrs": items(checked(string, checks.cidr), non_empty=True),
        "kubernetes": subsection(kubernetes_fields(base)),
        "sim": subsection(sim_fields()),
    }


def cloud_fields(base: Path) -> dict[str, Reader[Any]]:
    return {
        "name": checked(string, checks.cloud_name),
        "label": string,
        "region": string,
        "region_name": string,
        "locality": checked(string, checks.locality),
        "provider": choice("openstack", "sim"),
        **cloud_defaults_fields(base),
    }


@dataclass
class CloudEntry:
    """One cloud as written: its own values (no defaults yet) and where it sits."""

    values: dict[str, Any]
    at: At

    def line(self, key: str) -> int:
        """The line of one of this cloud's keys (the cloud's own line if not given)."""
        return self.at.report.given.get(f"{self.at.name}.{key}", self.at.line)


def clouds(base: Path) -> Reader[tuple[CloudEntry, ...]]:
    """The clouds list; a cloud without a valid, unique name is reported and left out."""
    fields = cloud_fields(base)

    def read(node: Node, at: At) -> tuple[CloudEntry, ...]:
        if not isinstance(node, SequenceNode):
            raise Invalid(f"expected a list of clouds, got {describe(node)}")
        if not node.value:
            raise Invalid("expected at least one cloud")
        if len(node.value) > MAX_CLOUDS:
            raise Invalid(f"{len(node.value)} clouds is too many; at most {MAX_CLOUDS}")
        seen: dict[str, int] = {}
        out: list[CloudEntry] = []
        for index, item in enumerate(node.value):
            entry = CloudEntry({}, at.item(index, line_of(item)))
            if not isinstance(item, MappingNode):
                entry.at.error(f"expected a mapping with a name, got {describe(item)}")
                continue
            entry.values = section(item, entry.at, fields)
            name = entry.values.get("name")
            if name is None:
                if f"{entry.at.name}.name" not in at.report.given:
                    entry.at.key("name", entry.at.line).error(
                        "required (the cloud's key in your clouds.yaml)"
                    )
                continue
            if name in seen:
                entry.at.key("name", entry.line("name")).error(
                    f"duplicate cloud {name!r} (first at line {seen[name]})"
                )
                continue
            seen[name] = entry.line("name")
            out.append(entry)
        return tuple(out)

    return read


_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")


def _login(text: str) -> str | None:
    return None if _LOGIN.fullmatch(text) else f"{text!r} is not a login name (e.g. ubuntu)"


def _jump_host(text: str) -> str | None:
    if checks.HOSTNAME.fullmatch(text) or checks.host_port(text) is None:
        return None
    return f"{text!r} is not a host or host:port (e.g. bastion.example.org:2222)"


def key_file(base: Path) -> Reader[Path]:
    """A path to a private key file that exists now; never the key itself."""
    path = kubeconfig(base)

    def read(node: Node, at: At) -> Path:
        if isinstance(node, ScalarNode) and ("PRIVATE KEY" in node.value or "\n" in node.value):
            raise Invalid(
                "this is a key's contents, not a file: give the path of a key file "
                "(no secret belongs in the demo file)"
            )
        return path(node, at)

    return read


def ssh_fields(base: Path) -> dict[str, Reader[Any]]:
    return {
        "user": checked(string, _login),
        "port": integer(1, 65535),
        "jump_host": checked(string, _jump_host),
        "jump_user": checked(string, _login),
        "jump_key": key_file(base),
        "connect_timeout_s": number(0, HOUR_S, above=True),
        "command_timeout_s": number(0, HOUR_S, above=True),
    }


def top_fields(base: Path) -> dict[str, Reader[Any]]:
    return {
        "name": string,
        "run_prefix": checked(string, checks.run_prefix),
        "cluster": subsection(cluster_fields(base)),
        "workload": subsection(workload_fields()),
        "ssh": subsection(ssh_fields(base)),
        "defaults": subsection(cloud_defaults_fields(base)),
        "clouds": clouds(base),
        "scenario": scenario_section,
    }
