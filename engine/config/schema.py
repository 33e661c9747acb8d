"""Reading a YAML node tree against a schema, collecting every problem with its line.

The demo file is composed (not constructed) so each value keeps the line it came from;
readers here turn nodes into plain Python values and report ``file:line: field: problem``
lines into one :class:`Report` instead of stopping at the first mistake. Nothing here
knows the demo's shape; ``engine.config.sections`` does.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

T = TypeVar("T")

_TAG = "tag:yaml.org,2002:"
PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}")
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
STRINGLIKE = {STR, INT, FLOAT, _TAG + "timestamp"}
"""Scalars whose source text is taken as a string (``flavor: 2`` is flavor ``"2"``)."""
MAX_STRING = 2048
"""Longest string value; names, URLs and messages are far shorter, a pasted blob is not."""
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
"""A number as YAML 1.2 and every reader would take it (``1e3`` too, a string in YAML 1.1)."""
_TRUE_FALSE = ("true", "false")


class Invalid(Exception):
    """A value is wrong; the reader that catches it reports ``problem`` at the key's line."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class Report:
    """Every problem found in one file, as ``(line, text)``; printed sorted by line.

    ``given`` maps each field the user gave a value (``clouds[2].kubernetes.mode``) to its
    line, so checks made after merging can still point at the right place.
    """

    path: str
    problems: list[tuple[int, str]] = field(default_factory=list)
    given: dict[str, int] = field(default_factory=dict)

    def add(self, line: int, where: str, problem: str) -> None:
        text = (
            f"{self.path}:{line}: {where}: {problem}" if where else f"{self.path}:{line}: {problem}"
        )
        if (line, text) not in self.problems:
            self.problems.append((line, text))

    def lines(self) -> list[str]:
        return [text for _, text in sorted(self.problems, key=lambda p: p[0])]


@dataclass(frozen=True)
class At:
    """Where a value sits: its dotted field name and the 1-based line to blame."""

    report: Report
    name: str
    line: int

    def key(self, key: str, line: int) -> At:
        """``cluster.sql_port``; a key that is not a plain word is quoted: ``cluster['a b']``."""
        if not PLAIN_KEY.fullmatch(key):
            return At(self.report, f"{self.name}[{_clip(key)!r}]", line)
        return At(self.report, f"{self.name}.{key}" if self.name else key, line)

    def item(self, index: int, line: int) -> At:
        return At(self.report, f"{self.name}[{index}]", line)

    def error(self, problem: str, line: int | None = None) -> None:
        self.report.add(self.line if line is None else line, self.name, problem)


Reader = Callable[[Node, At], T]
"""Turns a node into a value, raising :class:`Invalid` or reporting through ``At``."""


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def describe(node: Node) -> str:
    """What the user wrote, in words, for ``expected X, got Y``."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag
    if tag == NULL:
        return "nothing"
    if tag == BOOL:
        return f"a boolean ({node.value})"
    if tag in (INT, FLOAT):
        return f"a number ({_clip(str(node.value))})"
    if tag == STR:
        text = quoted(str(node.value))
        return f"a string ({text})" if text else "a string"
    return f"a value tagged {_clip(str(tag))}"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SECRET_HINTS = ("://", "@", "password", "secret", "token", "key")


def quoted(text: str) -> str:
    """``'text'`` to quote a user's value back, or ``""`` when it might hold a secret."""
    if any(hint in text.lower() for hint in _SECRET_HINTS):
        return ""
    return repr(_clip(text))


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL


def string(node: Node, at: At) -> str:
    """A non-empty string; numbers keep their source text (``1.30`` stays ``"1.30"``)."""
    if not isinstance(node, ScalarNode) or node.tag not in STRINGLIKE:
        hint = "; quote it" if node.tag == BOOL else ""
        raise Invalid(f"expected a string, got {describe(node)}{hint}")
    text = str(node.value)
    if not text.strip():
        raise Invalid("expected a non-empty string")
    if len(text) > MAX_STRING:
        raise Invalid(f"{len(text)} characters is too long; at most {MAX_STRING}")
    return text


def boolean(node: Node, at: At) -> bool:
    """``true`` or ``false`` only: YAML 1.1's ``yes``/``no``/``on``/``off`` are refused, since
    the same words are strings to YAML 1.2 readers and to anyone reading the file."""
    if not isinstance(node, ScalarNode) or node.tag != BOOL:
        raise Invalid(f"expected true or false, got {describe(node)}")
    text = str(node.value)
    value = bool(SafeConstructor.bool_values[text.lower()])
    if text.lower() not in _TRUE_FALSE:
        raise Invalid(f"{text!r} is a boolean only to YAML 1.1 readers; write {str(value).lower()}")
    return value


def _construct(node: ScalarNode, kind: str) -> Any:
    constructor = SafeConstructor()
    try:
        if kind == "int":
            return constructor.construct_yaml_int(node)
        return constructor.construct_yaml_float(node)
    except (ValueError, yaml.YAMLError):
        raise Invalid(f"{_clip(str(node.value))!r} is not a valid number") from None


def _plain_integer(node: ScalarNode) -> int:
    """The value of a plain decimal integer; YAML 1.1's other spellings are refused, since
    ``1:30`` (base 60: 90) and ``010`` (octal: 8) do not mean what they look like."""
    text = str(node.value)
    value = int(_construct(node, "int"))
    if _DECIMAL.fullmatch(text):
        return value
    if ":" in text:
        how = "a base-60 number"
    elif re.fullmatch(r"[-+]?0[0-7_]+", text):
        how = "octal"
    else:
        how = "a number"
    raise Invalid(
        f"{_clip(text)!r} is read by YAML 1.1 as {how} ({value}); "
        "write the number you mean in plain decimal"
    )


def integer(low: int | None = None, high: int | None = None) -> Reader[int]:
    """An integer within ``[low, high]``, written in plain decimal; a boolean is not one."""

    def read(node: Node, at: At) -> int:
        if not isinstance(node, ScalarNode) or node.tag != INT:
            raise Invalid(f"expected an integer{_bounds(low, high)}, got {describe(node)}")
        value = _plain_integer(node)
        if (low is not None and value < low) or (high is not None and value > high):
            raise Invalid(
                f"{_clip(str(node.value))} is out of range; expected an integer{_bounds(low, high)}"
            )
        return value

    return read


def number(
    low: float | None = None, high: float | None = None, above: bool = False
) -> Reader[float]:
    """A finite number within ``[low, high]`` (``(low, high]`` when ``above``); ints welcome."""
    bounds = _bounds(low, high, above)

    def read(node: Node, at: At) -> float:
        plain = isinstance(node, ScalarNode) and node.style is None
        text = str(node.value) if isinstance(node, ScalarNode) else ""
        if plain and node.tag == STR and _PLAIN_FLOAT.fullmatch(text):
            node = ScalarNode(FLOAT, text, node.start_mark, node.end_mark)  # ``1e3``
        if not isinstance(node, ScalarNode) or node.tag not in (INT, FLOAT):
            raise Invalid(f"expected a number{bounds}, got {describe(node)}")
        if node.tag == FLOAT and (":" in text or "_" in text):
            raise Invalid(
                f"{_clip(text)!r} is read by YAML 1.1 as a base-60 or grouped number "
                f"({_construct(node, 'float')}); write the number you mean in plain decimal"
            )
        try:
            if node.tag == INT:
                value = float(_plain_integer(node))
            else:
                value = float(_construct(node, "float"))
        except OverflowError:
            value = math.inf
        too_low = low is not None and (value <= low if above else value < low)
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise Invalid(f"{_clip(str(node.value))} is out of range; expected a number{bounds}")
        return value

    return read


def _bounds(low: float | None, high: float | None, above: bool = False) -> str:
    if low is not None and high is not None:
        if above:
            return f" > {_num(low)} and <= {_num(high)}"
        return f" from {_num(low)} to {_num(high)}"
    if low is not None:
        return f" {'>' if above else '>='} {_num(low)}"
    if high is not None:
        return f" <= {_num(high)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def choice(*options: str) -> Reader[str]:
    """One of a few words, with a suggestion when the user's word is close to one."""

    def read(node: Node, at: At) -> str:
        listed = ", ".join(options)
        if not isinstance(node, ScalarNode) or node.tag not in STRINGLIKE:
            raise Invalid(f"expected one of {listed}, got {describe(node)}")
        value = str(node.value)
        if value not in options:
            got = quoted(value) or "another word"
            raise Invalid(f"expected one of {listed}, got {got}{suggest(value, options)}")
        return value

    return read


def checked(reader: Reader[T], check: Callable[[T], str | None]) -> Reader[T]:
    """``reader`` then a domain check returning a problem, or ``None`` when the value is fine."""

    def read(node: Node, at: At) -> T:
        value = reader(node, at)
        problem = check(value)
        if problem:
            raise Invalid(problem)
        return value

    return read


MAX_ITEMS = 256
"""Longest list of addresses, URLs or CIDRs."""


def items(reader: Reader[T], non_empty: bool = False) -> Reader[tuple[T, ...]]:
    """A list; each bad item is reported at its own line, the good ones are kept."""

    def read(node: Node, at: At) -> tuple[T, ...]:
        if not isinstance(node, SequenceNode):
            raise Invalid(f"expected a list, got {describe(node)}")
        if non_empty and not node.value:
            raise Invalid("expected a non-empty list")
        if len(node.value) > MAX_ITEMS:
            raise Invalid(f"{len(node.value)} items is too many; at most {MAX_ITEMS}")
        out: list[T] = []
        for index, item in enumerate(node.value):
            where = at.item(index, line_of(item))
            try:
                out.append(reader(item, where))
            except Invalid as bad:
                where.error(bad.problem)
        return tuple(out)

    return read


def suggest(word: str, options: Iterable[str]) -> str:
    """``; did you mean 'flavor'?`` when ``word`` is close to one of ``options``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def entries(node: Node, at: At) -> Iterator[tuple[str, Node, At]]:
    """The ``(key, value, where)`` of a mapping; reports bad and repeated keys and skips them."""
    if not isinstance(node, MappingNode):
        raise Invalid(f"expected a mapping, got {describe(node)}")
    seen: dict[str, int] = {}
    for key_node, value in node.value:
        line = line_of(key_node)
        if isinstance(key_node, ScalarNode) and key_node.tag == _TAG + "merge":
            at.error(
                "YAML merge keys (<<) are not supported; put shared values under defaults", line
            )
            continue
        if not isinstance(key_node, ScalarNode) or key_node.tag not in STRINGLIKE | {BOOL}:
            at.error(f"keys must be plain words, got {describe(key_node)}", line)
            continue
        key = str(key_node.value)
        where = at.key(key, line)
        if key in seen:
            where.error(f"repeated key (first at line {seen[key]})")
            continue
        seen[key] = line
        yield key, value, where


def section(node: Node, at: At, fields: dict[str, Reader[Any]]) -> dict[str, Any]:
    """Read a mapping with known keys; returns only the keys that were given and valid.

    Unknown keys are reported with the closest known key as a suggestion. A key with no
    value (null) means "use the default", as if it were absent.
    """
    out: dict[str, Any] = {}
    try:
        found = list(entries(node, at))
    except Invalid as bad:
        at.error(bad.problem)
        return out
    for key, value, where in found:
        reader = fields.get(key)
        if reader is None:
            where.error(f"unknown key{suggest(key, tuple(fields)) or _known(fields)}")
            continue
        if is_null(value):
            continue
        at.report.given[where.name] = where.line
        try:
            out[key] = reader(value, where)
        except Invalid as bad:
            where.error(bad.problem)
    return out


def _known(fields: dict[str, Reader[Any]]) -> str:
    return f" (known keys: {', '.join(fields)})"
