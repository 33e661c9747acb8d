"""Reading the run-sheet: a demo file's ``scenario:`` section, or a ``--scenario`` file
holding the same mapping, into a :class:`Scenario`, with ``file:line: field: problem``
lines for everything wrong, like the rest of the demo file.

Checks that need the demo's clouds (a target's cloud and node number, ``cloud_joined:``)
run once the clouds are known (``check_scenario``); the rest run as each key is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.config.durations import parse_duration
from engine.config.model import DemoConfig
from engine.config.scenario_model import (
    CLOUD_ACTIONS,
    CUE_ACTIONS,
    FAULTS,
    NODE_ACTIONS,
    UNDOABLE,
    Cue,
    Expectations,
    Scenario,
)
from engine.config.schema import (
    INT,
    STR,
    At,
    Invalid,
    Reader,
    Report,
    checked,
    choice,
    describe,
    integer,
    line_of,
    number,
    quoted,
    section,
    string,
    suggest,
)
from engine.errors import ConfigError
from engine.plan import STEPS

MAX_CUES = 200
"""A show has a dozen cues; a typo cannot make thousands of tasks."""
MAX_WAIT_S = 86_400.0
"""Longest ``at``/``for``/``within``: a day."""
CUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
ON_WORDS = ("all_joined", "held", "healed", "cloud_joined:<cloud>")
_NODE_TARGET = re.compile(r"(?P<cloud>[A-Za-z0-9_.-]+)/node-(?P<n>[1-9][0-9]{0,3})")
_REVIVE_TARGET = re.compile(
    r"(?P<cloud>[A-Za-z0-9_.-]+)"
    r"(?:/(?:(?P<kind>pod|node|server|crash|freeze)-(?P<n>[1-9][0-9]{0,3})|(?P<part>partition)))?"
)
_CLOUD_TARGET = re.compile(r"(?P<cloud>[A-Za-z0-9_.-]+)")


def duration(node: Node, at: At) -> float:
    """``90s``, ``1m30s``, ``500ms`` or a plain number of seconds, from 0 to a day."""
    if isinstance(node, ScalarNode) and node.tag == INT:
        value = float(integer(0, int(MAX_WAIT_S))(node, at))
    else:
        if not isinstance(node, ScalarNode) or node.tag != STR:
            raise Invalid(f"expected a duration (e.g. 30s, 1m30s), got {describe(node)}")
        try:
            value = parse_duration(str(node.value))
        except ValueError:
            got = quoted(str(node.value)) or "this"
            raise Invalid(f"{got} is not a duration (e.g. 30s, 1m30s, 500ms)") from None
    if value > MAX_WAIT_S:
        raise Invalid(f"{node.value} is too long; at most 24h")
    return value


def percent(node: Node, at: At) -> float:
    """``1%`` or ``0.5%`` as a fraction (0.01, 0.005), from 0 to 100 %."""
    text = str(node.value) if isinstance(node, ScalarNode) else ""
    if not isinstance(node, ScalarNode) or not text.endswith("%"):
        raise Invalid(f"expected a percentage (e.g. 1%), got {describe(node)}")
    try:
        value = float(text[:-1])
    except ValueError:
        raise Invalid(f"{quoted(text) or 'this'} is not a percentage (e.g. 1%)") from None
    if not 0.0 <= value <= 100.0:
        raise Invalid(f"{text} is out of range; expected 0% to 100%")
    return value / 100.0


def _on_word(text: str) -> str | None:
    if text in ON_WORDS[:3]:
        return None
    head, sep, cloud = text.partition(":")
    if head == "cloud_joined" and sep and cloud:
        return None
    return f"expected one of {', '.join(ON_WORDS)}, got {quoted(text) or 'another word'}"


def _cue_name(text: str) -> str | None:
    if CUE_NAME.fullmatch(text):
        return None
    return "a cue name is one word: letters, digits, '.', '_' or '-' (at most 63)"


def cue_expect_fields() -> dict[str, Reader[Any]]:
    return {
        "unavailable_ranges": integer(0, 1_000_000),
        "kv_error_rate_max": percent,
        "p99_max_ms": number(0, 3_600_000.0, above=True),
        "healed_within": duration,
    }


def run_expect_fields() -> dict[str, Reader[Any]]:
    return {"all_joined_within": duration}


def cue_fields() -> dict[str, Reader[Any]]:
    return {
        "name": checked(string, _cue_name),
        "do": choice(*CUE_ACTIONS),
        "target": string,
        "at": duration,
        "after": string,
        "on": checked(string, _on_word),
        "for": duration,
        "text": string,
        "expect": _mapping(cue_expect_fields()),
    }


def _mapping(fields: dict[str, Reader[Any]]) -> Reader[dict[str, Any]]:
    def read(node: Node, at: At) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise Invalid(f"expected a mapping, got {describe(node)}")
        return section(node, at, fields)

    return read


def _expectations(values: dict[str, Any]) -> Expectations:
    return Expectations(
        all_joined_within_s=values.get("all_joined_within"),
        unavailable_ranges=values.get("unavailable_ranges"),
        kv_error_rate_max=values.get("kv_error_rate_max"),
        p99_max_ms=values.get("p99_max_ms"),
        healed_within_s=values.get("healed_within"),
    )


@dataclass(frozen=True)
class ScenarioEntry:
    """The run-sheet as read, with where each cue sits (for checks against the clouds)."""

    scenario: Scenario
    cue_at: tuple[At, ...]


def scenario_section(node: Node, at: At) -> ScenarioEntry:
    """Read the ``scenario:`` mapping: pace, hold_before, expect, cues."""
    if not isinstance(node, MappingNode):
        raise Invalid(f"expected a mapping with cues, got {describe(node)}")
    values = section(
        node,
        at,
        {
            "pace": choice("auto", "presenter"),
            "hold_before": choice(*STEPS[1:]),
            "expect": _mapping(run_expect_fields()),
            "cues": _cues_node,
        },
    )
    cues, cue_at = values.get("cues", ((), ()))
    scenario = Scenario(
        cues=cues,
        pace=values.get("pace", "auto"),
        hold_before=values.get("hold_before", ""),
        expect=_expectations(values.get("expect", {})),
        source=at.report.path,
    )
    _check_order(scenario, cue_at, at)
    return ScenarioEntry(scenario, cue_at)


def _cues_node(node: Node, at: At) -> tuple[tuple[Cue, ...], tuple[At, ...]]:
    if not isinstance(node, SequenceNode):
        raise Invalid(f"expected a list of cues, got {describe(node)}")
    if len(node.value) > MAX_CUES:
        raise Invalid(f"{len(node.value)} cues is too many; at most {MAX_CUES}")
    fields = cue_fields()
    cues: list[Cue] = []
    where_of: list[At] = []
    names: dict[str, int] = {}
    for index, item in enumerate(node.value):
        where = at.item(index, line_of(item))
        if not isinstance(item, MappingNode):
            where.error(f"expected a mapping with do:, got {describe(item)}")
            continue
        before = len(at.report.problems)
        values = section(item, where, fields)
        cue = _cue(values, where, index)
        if cue is None or len(at.report.problems) > before:
            continue
        name = cue.name
        if name in names:
            if "name" in values:
                where.key("name", _line(where, "name")).error(
                    f"repeated cue name {name!r} (first at line {names[name]})"
                )
                continue
            name = f"{name}-{index + 1}"
            cue = replace(cue, name=name)
        names[name] = where.line
        cues.append(cue)
        where_of.append(where)
    return tuple(cues), tuple(where_of)


def _line(where: At, key: str) -> int:
    return where.report.given.get(f"{where.name}.{key}", where.line)


def _cue(values: dict[str, Any], where: At, index: int) -> Cue | None:
    """One cue from its keys, or ``None`` (reported) when they do not make a cue."""
    action = values.get("do")
    if action is None:
        if f"{where.name}.do" not in where.report.given:
            where.key("do", where.line).error(f"required (one of {', '.join(CUE_ACTIONS)})")
        return None
    target = values.get("target", "")
    problems: list[tuple[str, str]] = []
    if action in NODE_ACTIONS | CLOUD_ACTIONS | {"revive"} and not target:
        shape = "CLOUD/node-N" if action in NODE_ACTIONS else "CLOUD"
        if action == "revive":
            shape = "a kill target, e.g. CLOUD/node-N, CLOUD/server-N, CLOUD"
        problems.append(("target", f"required for {action} ({shape})"))
    if action in ("say", "release") and target:
        problems.append(("target", f"{action} takes no target"))
    if action == "say" and not values.get("text"):
        problems.append(("text", "required for say (the words for the audience)"))
    if action != "say" and "text" in values:
        problems.append(("text", "only a say cue has text"))
    if "for" in values and action not in UNDOABLE:
        problems.append(("for", f"{action} cannot be undone; for: is for {_listed(UNDOABLE)}"))
    if "expect" in values and action not in FAULTS:
        problems.append(("expect", f"only a fault has expectations ({_listed(FAULTS)})"))
    if "after" in values and "on" in values:
        problems.append(("on", "give either after: or on:, not both"))
    for key, problem in problems:
        where.key(key, _line(where, key)).error(problem)
    if problems:
        return None
    target_part = target.replace("/", "-") if target else ""
    default_name = f"{action}-{target_part}" if target_part else f"{action}"
    return Cue(
        name=values.get("name", default_name),
        action=action,
        target=target,
        at_s=values.get("at", 0.0),
        after=values.get("after", ""),
        on=values.get("on", ""),
        for_s=values.get("for"),
        text=values.get("text", ""),
        expect=_expectations(values.get("expect", {})),
        line=where.line,
    )


def _listed(words: frozenset[str]) -> str:
    return ", ".join(a for a in CUE_ACTIONS if a in words)


def _check_order(scenario: Scenario, cue_at: tuple[At, ...], at: At) -> None:
    """``after`` names an earlier cue (cues run in list order), never one in a cycle."""
    position = {c.name: i for i, c in enumerate(scenario.cues)}
    after = {c.name: c.after for c in scenario.cues if c.after}
    for i, (cue, where) in enumerate(zip(scenario.cues, cue_at, strict=True)):
        if not cue.after:
            continue
        place = where.key("after", _line(where, "after"))
        if cue.after not in position:
            place.error(f"no cue named {cue.after!r}{suggest(cue.after, tuple(position))}")
            continue
        loop = _cycle(cue.name, after)
        if loop:
            place.error(f"cues wait on each other in a cycle: {' -> '.join(loop)}")
        elif position[cue.after] > i:
            place.error(f"{cue.after!r} comes later in the list; cues fire in list order")
    releases = [w for c, w in zip(scenario.cues, cue_at, strict=True) if c.action == "release"]
    if releases and not scenario.hold_before:
        releases[0].key("do", _line(releases[0], "do")).error(
            "release needs a gate: add hold_before: (a step name) to the scenario"
        )
    for cue, where in zip(scenario.cues, cue_at, strict=True):
        if cue.on == "held" and not scenario.hold_before:
            where.key("on", _line(where, "on")).error(
                "on: held needs a gate: add hold_before: (a step name) to the scenario"
            )


def _cycle(start: str, after: dict[str, str]) -> list[str]:
    """The names from ``start`` round to ``start`` again, or ``[]`` when there is no loop."""
    path = [start]
    seen = {start}
    name = after.get(start)
    while name is not None:
        path.append(name)
        if name == start:
            return path
        if name in seen:
            return []
        seen.add(name)
        name = after.get(name)
    return []


def check_scenario(entry: ScenarioEntry, demo: DemoConfig) -> None:
    """Targets and ``cloud_joined:`` against the demo's clouds and their node counts."""
    clouds = {c.name: c.nodes for c in demo.clouds}
    for cue, where in zip(entry.scenario.cues, entry.cue_at, strict=True):
        if cue.on.startswith("cloud_joined:"):
            cloud = cue.on.partition(":")[2]
            if cloud not in clouds:
                where.key("on", _line(where, "on")).error(
                    f"no cloud named {cloud!r} in this demo{suggest(cloud, tuple(clouds))}"
                )
        if not cue.target:
            continue
        problem = target_problem(cue.action, cue.target, clouds)
        if problem:
            where.key("target", _line(where, "target")).error(problem)


def target_problem(action: str, target: str, clouds: dict[str, int]) -> str | None:
    """Why ``target`` is no target for ``action`` in a demo of these clouds (name: nodes)."""
    if action in NODE_ACTIONS:
        match, shape = _NODE_TARGET.fullmatch(target), "CLOUD/node-N"
    elif action == "revive":
        match = _REVIVE_TARGET.fullmatch(target)
        shape = "CLOUD, CLOUD/node-N, CLOUD/server-N, CLOUD/freeze-N or CLOUD/partition"
    else:
        match, shape = _CLOUD_TARGET.fullmatch(target), "CLOUD"
    if match is None:
        return f"{quoted(target) or 'this'} is not a target for {action}: expected {shape}"
    cloud = match.group("cloud")
    if cloud not in clouds:
        return f"no cloud named {cloud!r} in this demo{suggest(cloud, tuple(clouds))}"
    n = match.groupdict().get("n")
    if n is not None and int(n) > clouds[cloud]:
        return f"{target}: {cloud} has only {clouds[cloud]} nodes"
    return None


def load_scenario_file(path: Path, demo: DemoConfig) -> Scenario:
    """A ``--scenario`` file (the ``scenario:`` mapping at its top level) checked against
    ``demo``; raises ``ConfigError`` with every problem."""
    from engine.config.loader import compose_file

    shown = str(path)
    root = compose_file(path)
    report = Report(shown)
    if not isinstance(root, MappingNode):
        got = "an empty document" if root is None else describe(root)
        line = 1 if root is None else line_of(root)
        raise ConfigError([f"{shown}:{line}: top level: expected a mapping with cues, got {got}"])
    top = At(report, "", line_of(root))
    try:
        entry = scenario_section(root, top)
    except Invalid as bad:
        top.error(bad.problem)
        raise ConfigError(report.lines()) from None
    check_scenario(entry, demo)
    if report.problems:
        raise ConfigError(report.lines())
    return entry.scenario
