"""``crossroom validate FILE``: the summary and exit 0, or every error on stderr and exit 2."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from tui.commands import validate

REPO = Path(__file__).resolve().parents[2]
BAD_CONFIGS = REPO / "tests" / "data" / "bad_configs"


def run_validate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="crossroom")
    validate.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def cli_is_complete() -> bool:
    """``tui.cli`` imports every subcommand module; some are written alongside this one."""
    from tui.cli import SUBCOMMANDS

    names = (*SUBCOMMANDS, "screen")
    return all(importlib.util.find_spec(f"tui.commands.{name}") for name in names)


def test_good_file_prints_the_summary_and_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert run_validate(["validate", "clouds.example.yaml"]) == 0
    out, err = capsys.readouterr()
    assert out == (
        'clouds.example.yaml: ok: "OpenStack Interop Challenge" with 4 clouds '
        "(3 openstack, 1 sim), 11 nodes\n"
    )
    assert err == ""


def test_bad_file_prints_every_error_to_stderr_and_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BAD_CONFIGS)
    assert run_validate(["validate", "many_mistakes.yaml"]) == 2
    out, err = capsys.readouterr()
    expected = [
        line.removeprefix("# expect: ")
        for line in (BAD_CONFIGS / "many_mistakes.yaml").read_text().splitlines()
        if line.startswith("# expect: ")
    ]
    assert out == ""
    assert err.splitlines() == expected
    assert len(expected) == 6


def test_missing_file_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "absent.yaml"
    assert run_validate(["validate", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: file not found\n"


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_validate(["validate", "--help"])
    assert stopped.value.code == 0
    assert "FILE:LINE: FIELD: PROBLEM" in capsys.readouterr().out


@pytest.mark.skipif(not cli_is_complete(), reason="other subcommand modules not written yet")
def test_through_the_crossroom_entry_point(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.cli import main

    monkeypatch.chdir(REPO)
    assert main(["validate", "clouds.example.yaml"]) == 0
    assert capsys.readouterr().out.startswith('clouds.example.yaml: ok: "OpenStack')
    monkeypatch.chdir(BAD_CONFIGS)
    assert main(["validate", "empty_clouds.yaml"]) == 2
    assert capsys.readouterr().err == ("empty_clouds.yaml:3: clouds: expected at least one cloud\n")
