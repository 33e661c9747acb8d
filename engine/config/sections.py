"""The demo file's shape: which keys each section takes and how each value is read.

Sections come out as partial dicts holding only the keys the user gave (and got right),
so defaults and per-cloud overrides can be merged key by key afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.config import checks
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
        if value.tag == BOOL:
            text = "true" if boolean(value, where) else "false"
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
        given = Path(text).expanduser()
        full = given if given.is_absolute() else base / given
        if not full.is_file():
            where = "" if given.is_absolute() else " (relative to the demo file's folder)"
            raise Invalid(f"file not found: {text}{where}")
        return full

    return read


def cluster_fields() -> dict[str, Reader[Any]]:
    return {
        "image": string,
        "secure": boolean,
        "join": items(checked(string, checks.host_port)),
        "sql_urls": items(checked(string, checks.sql_url)),
        "http_port": integer(1, 65535),
        "sql_port": integer(1, 65535),
        "settings": settings,
        "replication_factor": checked(integer(1, 7), _odd),
        "ranges": integer(1),
        "join_timeout_s": number(0, above=True),
    }


def workload_fields() -> dict[str, Reader[Any]]:
    return {
        "enabled": boolean,
        "read_percent": integer(0, 100),
        "max_rate": number(0, above=True),
        "concurrency": integer(1),
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
        "termination_grace_s": integer(0),
    }


def sim_fields() -> dict[str, Reader[Any]]:
    return {
        "fail_step": choice(*STEPS),
        "fail_error": string,
        "transient_rate": number(0, 1),
        "slowness": number(0, above=True),
    }


def cloud_defaults_fields(base: Path) -> dict[str, Reader[Any]]:
    """Keys allowed under ``defaults`` and, as overrides, in every cloud."""
    return {
        "flavor": string,
        "image": string,
        "network": string,
        "floating_ip_pool": string,
        "servers": integer(1),
        "volume_size_gb": integer(0),
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


def top_fields(base: Path) -> dict[str, Reader[Any]]:
    return {
        "name": string,
        "run_prefix": checked(string, checks.run_prefix),
        "cluster": subsection(cluster_fields()),
        "workload": subsection(workload_fields()),
        "defaults": subsection(cloud_defaults_fields(base)),
        "clouds": clouds(base),
    }
