"""Whatever a user types, the loader answers with a config or ``ConfigError``, never a crash.

Values are random but keys are mostly the real ones, so the readers behind every key are
reached with every kind of YAML value: nulls, booleans, huge and odd numbers, strings,
lists and mappings nested a few levels deep.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import sections
from engine.config.loader import load_demo
from engine.config.model import DemoConfig
from engine.errors import ConfigError

HERE = Path(".")
KNOWN_KEYS = sorted(
    set(sections.top_fields(HERE))
    | set(sections.cluster_fields())
    | set(sections.workload_fields())
    | set(sections.cloud_fields(HERE))
    | set(sections.kubernetes_fields(HERE))
    | set(sections.sim_fields())
    | {"server.time_until_store_dead", "sql.defaults.statement_timeout"}
)
EXAMPLE = Path(__file__).resolve().parents[2] / "clouds.example.yaml"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1m15s", "30s", "k3s", "existing", "sim", "boot", "0.0.0.0/0", "h:26257"]),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=20,
)
clouds = st.lists(
    st.fixed_dictionaries({"name": st.text(min_size=1, max_size=6) | scalars}).flatmap(
        lambda base: st.dictionaries(keys, values, max_size=6).map(lambda d: {**base, **d})
    ),
    max_size=4,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "name": scalars,
        "run_prefix": scalars,
        "cluster": st.dictionaries(keys, values, max_size=6),
        "workload": st.dictionaries(keys, values, max_size=5),
        "defaults": st.dictionaries(keys, values, max_size=6),
        "clouds": clouds | values,
        "extra": values,
    },
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "demo.yaml"


def outcome(path: Path) -> DemoConfig | list[str]:
    try:
        return load_demo(path)
    except ConfigError as exc:
        assert exc.lines, "a ConfigError must say what is wrong"
        assert all(line.startswith(f"{path}") for line in exc.lines)
        assert all("\n" not in line for line in exc.lines)
        return exc.lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents)
def test_random_documents_give_a_config_or_config_error(
    scratch: Path, document: dict[str, Any]
) -> None:
    scratch.write_text(yaml.safe_dump(document, allow_unicode=True))
    result = outcome(scratch)
    if isinstance(result, DemoConfig):
        assert result.clouds
        assert len({c.name for c in result.clouds}) == len(result.clouds)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_mangled_example_gives_a_config_or_config_error(scratch: Path, data: st.DataObject) -> None:
    text = EXAMPLE.read_text()
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    patch = data.draw(st.text(st.sampled_from(" \t\n:-[]{}#&*!|>'\"%@`,?0a"), max_size=6))
    scratch.write_text(text[:start] + patch + text[end:])
    outcome(scratch)
