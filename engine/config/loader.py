"""Load a demo file into a :class:`DemoConfig`, or fail with every problem it has.

Errors are ``file:line: field: problem`` lines naming the file as the user gave it; a
missing file, a YAML syntax error or a wrong top level is one such line too. Nothing the
user writes can make this raise anything but :class:`ConfigError`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from engine.config.files import (
    DEMO_FILE_MAX_BYTES,
    KUBECONFIG_MAX_BYTES,
    UnreadableFile,
    read_capped,
)
from engine.config.model import (
    CloudConfig,
    ClusterConfig,
    DemoConfig,
    KubernetesConfig,
    SimConfig,
    SshConfig,
    WorkloadConfig,
)
from engine.config.scenario import check_scenario
from engine.config.schema import At, Report, describe, line_of, section
from engine.config.sections import CloudEntry, top_fields
from engine.errors import ConfigError

_NESTED = ("kubernetes", "sim")
"""Per-cloud sections merged over ``defaults`` key by key rather than replaced whole."""


def load_demo(path: Path) -> DemoConfig:
    """Read, validate and build the demo; raise ``ConfigError`` listing all problems."""
    shown = str(path)
    root = compose_file(path)
    if not isinstance(root, MappingNode):
        got = "an empty document" if root is None else describe(root)
        line = 1 if root is None else line_of(root)
        raise ConfigError(
            [f"{shown}:{line}: top level: expected a mapping with name and clouds, got {got}"]
        )
    report = Report(shown)
    top = At(report, "", line_of(root))
    values = section(root, top, top_fields(path.parent.absolute()))
    for key, why in (("name", "the demo's title on screen"), ("clouds", "at least one cloud")):
        if key not in report.given:
            top.key(key, top.line).error(f"required ({why})")
    config = _build(values, path)
    _cross_check(config, values, top)
    if report.problems:
        raise ConfigError(report.lines())
    return config


def compose_file(path: Path) -> Node | None:
    """The file's YAML node tree; a missing file or bad YAML is one ``ConfigError`` line."""
    shown = str(path)
    return _compose(_read(path, shown), shown)


def summary(config: DemoConfig) -> str:
    """One line for ``crossroom validate``: what will run, in numbers."""
    source = str(config.source) if config.source else "built-in demo"
    counts = [
        f"{sum(1 for c in config.clouds if c.provider == kind)} {kind}"
        for kind in ("openstack", "sim")
        if any(c.provider == kind for c in config.clouds)
    ]
    clouds = len(config.clouds)
    nodes = sum(c.nodes for c in config.clouds)
    return (
        f'{source}: ok: "{config.name}" with {clouds} cloud{"s" if clouds != 1 else ""} '
        f"({', '.join(counts) or 'none'}), {nodes} node{'s' if nodes != 1 else ''}"
    )


def _read(path: Path, shown: str) -> str:
    try:
        data = read_capped(path, DEMO_FILE_MAX_BYTES)
    except UnreadableFile as exc:
        raise ConfigError([f"{shown}: {exc.reason}"]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError([f"{shown}:{line}: not UTF-8 text"]) from None


def _compose(text: str, shown: str) -> Node | None:
    """The YAML node tree (safe: no tags are constructed into objects), or a one-line error."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and exc.problem:
            if problem.startswith("but "):
                problem = f"{exc.context}, {problem}"
            elif exc.context_mark:
                problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        problem = " ".join(problem.split())
        raise ConfigError([f"{shown}:{line}: YAML syntax error: {problem}"]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError([f"{shown}:{line}: YAML syntax error: {exc.reason}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{shown}: YAML syntax error: {' '.join(str(exc).split())}"]) from None
    except RecursionError:
        raise ConfigError([f"{shown}: YAML syntax error: nested too deeply"]) from None


def _build(values: dict[str, Any], path: Path) -> DemoConfig:
    """The typed demo from what was read; keys that failed keep their defaults."""
    cluster_values = dict(values.get("cluster", {}))
    if "settings" in cluster_values:
        merged = dict(ClusterConfig().settings)
        merged.update(cluster_values["settings"])
        cluster_values["settings"] = tuple(merged.items())
    defaults: dict[str, Any] = values.get("defaults", {})
    entries: tuple[CloudEntry, ...] = values.get("clouds", ())
    return DemoConfig(
        name=values.get("name", ""),
        run_prefix=values.get("run_prefix", DemoConfig.run_prefix),
        cluster=replace(ClusterConfig(), **cluster_values),
        workload=replace(WorkloadConfig(), **values.get("workload", {})),
        clouds=tuple(_cloud(defaults, entry.values) for entry in entries),
        ssh=replace(SshConfig(), **values.get("ssh", {})),
        source=path,
        scenario=values["scenario"].scenario if "scenario" in values else None,
    )


def _cloud(defaults: dict[str, Any], own: dict[str, Any]) -> CloudConfig:
    merged = {**defaults, **own}
    for key in _NESTED:
        merged[key] = {**defaults.get(key, {}), **own.get(key, {})}
    merged.setdefault("label", merged["name"])
    merged["kubernetes"] = KubernetesConfig(**merged["kubernetes"])
    merged["sim"] = SimConfig(**merged["sim"])
    return CloudConfig(**merged)


def _cross_check(config: DemoConfig, values: dict[str, Any], top: At) -> None:
    """Rules that span keys, checked on the merged result."""
    cluster = config.cluster
    given = top.report.given
    if cluster.http_port == cluster.sql_port:
        key, other = ("sql_port", "http_port")
        if "cluster.sql_port" not in given:
            key, other = other, key
        line = given.get(f"cluster.{key}", given.get("cluster", top.line))
        top.key("cluster", line).key(key, line).error(
            f"same as {other} ({cluster.http_port}); they need different ports"
        )
    entries: tuple[CloudEntry, ...] = values.get("clouds", ())
    inherited: list[str] = []
    for entry, cloud in zip(entries, config.clouds, strict=True):
        if cloud.kubernetes.mode != "existing" or any(
            f"{where}.kubernetes.kubeconfig" in given for where in (entry.at.name, "defaults")
        ):
            continue  # a kubeconfig that was given but is wrong is reported already
        if "mode" in entry.values.get("kubernetes", {}):
            entry.at.key("kubernetes", entry.line("kubernetes.mode")).error(
                "mode 'existing' needs a kubeconfig (here or under defaults.kubernetes)"
            )
        else:
            inherited.append(cloud.name)
    if inherited:
        line = given.get("defaults.kubernetes.mode", top.line)
        top.key("defaults", line).key("kubernetes", line).error(
            f"mode 'existing' needs a kubeconfig; none given for {', '.join(inherited)}"
        )
    _check_contexts(entries, config.clouds, top)
    if "scenario" in values:
        check_scenario(values["scenario"], config)


def _check_contexts(
    entries: tuple[CloudEntry, ...], clouds: tuple[CloudConfig, ...], top: At
) -> None:
    """A ``context`` must name one in its kubeconfig; only context names are read from it."""
    given = top.report.given
    known: dict[Path, list[str] | None] = {}
    for entry, cloud in zip(entries, clouds, strict=True):
        kube = cloud.kubernetes
        if kube.mode != "existing" or kube.kubeconfig is None or kube.context is None:
            continue
        if kube.kubeconfig not in known:
            known[kube.kubeconfig] = _context_names(kube.kubeconfig)
        names = known[kube.kubeconfig]
        if names is None or kube.context in names:
            continue
        where = entry.at.name if f"{entry.at.name}.kubernetes.context" in given else "defaults"
        line = given[f"{where}.kubernetes.context"]
        top.report.add(
            line,
            f"{where}.kubernetes.context",
            f"{kube.context!r} is not a context in {kube.kubeconfig.name} "
            f"(it has: {', '.join(names) or 'none'})",
        )


def _context_names(kubeconfig: Path) -> list[str] | None:
    """The context names of a kubeconfig, or ``None`` when it cannot be read as one."""
    try:
        text = read_capped(kubeconfig, KUBECONFIG_MAX_BYTES).decode("utf-8-sig")
        document = yaml.safe_load(text)
    except (UnreadableFile, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    contexts = document.get("contexts") if isinstance(document, dict) else None
    if not isinstance(contexts, list):
        return None
    return [str(c["name"]) for c in contexts if isinstance(c, dict) and "name" in c]
