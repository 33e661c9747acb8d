"""Names that become paths and widget ids, and sizes that become memory, are bounded.

The property test drives arbitrary text at the run directory: whatever a demo file or a
recording names, nothing lands outside ``<run dir>/clouds``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import checks
from engine.config.loader import load_demo
from engine.errors import ConfigError
from engine.rundir import RunDir, UnsafeName

hostile_names = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["..", ".", "../../x", "a/../../b", "/etc", "a/b", "x\n", "~", "a\x00b"]),
    st.lists(st.sampled_from(["..", "/", "a", ".", "-", "_", "\\"]), max_size=10).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(name=hostile_names)
def test_no_cloud_name_reaches_outside_the_run_dir(tmp_path_factory: pytest.TempPathFactory,
                                                    name: str) -> None:  # fmt: skip
    base = tmp_path_factory.mktemp("state")
    run = RunDir.create(base, "xr-20260101-000000-abcd")
    before = {p for p in base.rglob("*")}
    try:
        path = run.cloud_dir(name)
    except UnsafeName:
        assert {p for p in base.rglob("*")} == before  # refused: nothing created
        assert checks.cloud_name(name) is not None  # and the demo file check refuses it too
        return
    clouds = (run.root / "clouds").resolve()
    assert path.resolve().parent == clouds
    assert path.is_dir()
    assert checks.cloud_name(name) is None


@pytest.mark.parametrize("run_id", ["../x", "..", "xr/../../y", "XR-1", "ab", "xr-1\n"])
def test_a_run_id_is_one_safe_word(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(UnsafeName):
        RunDir.create(tmp_path, run_id)
    with pytest.raises(UnsafeName):
        RunDir.existing(tmp_path, run_id)
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "y").exists()


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_demo(path)
    return [line.split(": ", 1)[1] for line in caught.value.lines]


def test_too_many_clouds_is_one_line(tmp_path: Path) -> None:
    clouds = "".join(f"  - name: c{i}\n" for i in range(201))
    assert errors_of(tmp_path, f"name: d\nclouds:\n{clouds}") == [
        "clouds: 201 clouds is too many; at most 200"
    ]


def test_a_pasted_blob_is_not_a_name(tmp_path: Path) -> None:
    (line,) = errors_of(tmp_path, f"name: d\nclouds:\n  - name: a\n    label: {'x' * 5000}\n")
    assert line == "clouds[0].label: 5000 characters is too long; at most 2048"


def test_too_many_list_items_is_one_line(tmp_path: Path) -> None:
    cidrs = ", ".join(f"10.0.{i // 256}.{i % 256}/32" for i in range(300))
    (line,) = errors_of(tmp_path, f"name: d\ndefaults:\n  public_cidrs: [{cidrs}]\n"
                                  "clouds: [{name: a}]\n")  # fmt: skip
    assert line == "defaults.public_cidrs: 300 items is too many; at most 256"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cluster:\n  ranges", "1000000000"),
        ("cluster:\n  join_timeout_s", "1000000000000"),
        ("workload:\n  concurrency", "1000000000"),
        ("workload:\n  max_rate", "100000000000000000000"),
        ("defaults:\n  servers", "100000"),
        ("defaults:\n  volume_size_gb", "10000000"),
        ("defaults:\n  kubernetes:\n    termination_grace_s", "100000000"),
        ("defaults:\n  sim:\n    slowness", "1000000.5"),
    ],
)
def test_every_size_has_an_upper_bound(tmp_path: Path, field: str, value: str) -> None:
    (line,) = errors_of(tmp_path, f"name: d\n{field}: {value}\nclouds: [{{name: a}}]\n")
    assert "is out of range; expected " in line and ("to " in line or "<= " in line)


def test_a_number_in_exponent_form_is_a_number(tmp_path: Path) -> None:
    """YAML 1.1 reads ``1e3`` as a string; every other reader (and the user) a number."""
    path = tmp_path / "demo.yaml"
    path.write_text("name: d\nworkload:\n  max_rate: 1e3\nclouds: [{name: a}]\n")
    assert load_demo(path).workload.max_rate == 1000.0


@pytest.mark.parametrize("text", ["yes", "No", "on", "OFF"])
def test_yaml11_booleans_are_refused_where_a_boolean_is_expected(tmp_path: Path, text: str) -> None:
    (line,) = errors_of(tmp_path, f"name: d\nworkload:\n  enabled: {text}\nclouds: [{{name: a}}]\n")
    assert "is a boolean only to YAML 1.1 readers; write " in line


@pytest.mark.parametrize("text", ["0x10", "0b101", "1_000", "017", "2:00"])
def test_integers_are_plain_decimal(tmp_path: Path, text: str) -> None:
    (line,) = errors_of(tmp_path, f"name: d\nclouds:\n  - name: a\n    servers: {text}\n")
    assert line.startswith("clouds[0].servers: ")
    assert "plain decimal" in line or "expected an integer" in line
