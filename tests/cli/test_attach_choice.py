"""Which show ``crossroom attach`` opens, and what ``crossroom ls`` prints.

No id and one show: that one. Several: a numbered question on a terminal, the list and
exit 2 elsewhere. None (or an id no engine runs): one line, exit 1. The demo name is
outside text: it reaches the terminal with no control character.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from engine.shows import ShowInfo
from tui.commands.attach import EXIT_BAD_INPUT, EXIT_NONE, choose, open_audience
from tui.commands.ls import show_table

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_800_000_000.0


def show(run_id: str, demo: str = "Interop", **kw: object) -> ShowInfo:
    base: dict[str, object] = {
        "clouds": 15,
        "joined": 3,
        "running": 11,
        "failed": 1,
        "presenters": 1,
        "started_at": NOW - 125,
    }
    return ShowInfo(run_id=run_id, demo=demo, **{**base, **kw})  # type: ignore[arg-type]


class Terminal(io.StringIO):
    def __init__(self, text: str = "", tty: bool = True) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


SHOWS = [show("xr-20261201-100000-aaaa"), show("xr-20261201-110000-bbbb", "Second")]


def test_one_show_is_taken_without_asking() -> None:
    out = Terminal()
    assert choose(None, SHOWS[:1], Terminal(), out) == SHOWS[0]
    assert out.getvalue() == ""


def test_no_show_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert choose(None, [], Terminal(), Terminal()) == EXIT_NONE
    assert capsys.readouterr().err == "crossroom: no show is running (crossroom starts one)\n"


def test_a_named_show_that_no_engine_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert choose("xr-20261201-120000-cccc", SHOWS, Terminal(), Terminal()) == EXIT_NONE
    assert "no engine is running run xr-20261201-120000-cccc" in capsys.readouterr().err
    assert choose(SHOWS[1].run_id, SHOWS, Terminal(), Terminal()) == SHOWS[1]


def test_several_on_a_terminal_ask_by_number() -> None:
    out = Terminal()
    assert choose(None, SHOWS, Terminal("2\n"), out) == SHOWS[1]
    text = out.getvalue()
    assert "1  xr-20261201-100000-aaaa" in text and "2  xr-20261201-110000-bbbb" in text
    assert "attach which show? [1-2" in text


@pytest.mark.parametrize("answer", ["", "3\n", "x\n"])
def test_several_and_no_valid_number_attach_nothing(
    answer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert choose(None, SHOWS, Terminal(answer), Terminal()) == EXIT_BAD_INPUT
    assert "no show chosen" in capsys.readouterr().err


def test_several_without_a_terminal_list_them_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Terminal(tty=False)
    assert choose(None, SHOWS, Terminal(tty=False), out) == EXIT_BAD_INPUT
    assert SHOWS[0].run_id in out.getvalue() and SHOWS[1].run_id in out.getvalue()
    assert "name one: crossroom attach RUN_ID" in capsys.readouterr().err


def test_the_table_has_every_column_and_a_hostile_demo_name_is_shown_safely() -> None:
    hostile = show("xr-20261201-100000-aaaa", "Evil\x1b]0;owned\x07 demo", audience=2)
    table = show_table([hostile], now=NOW)
    head, row = table.splitlines()
    assert head.split() == ["RUN", "ID", "DEMO", "JOINED/RUNNING/FAILED", "SCREENS", "STARTED"]
    assert "\x1b" not in table and "\x07" not in table
    assert "3/11/1 of 15" in row and "3 (2 audience)" in row and "(2m ago)" in row


def test_attach_and_stop_with_nothing_running_exit_1(isolated_state_dir: Path) -> None:
    for args in (["attach"], ["stop", "xr-20261201-100000-aaaa"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONPATH": str(ROOT), "CROSSROOM_STATE_DIR": str(isolated_state_dir)},
        )
        assert done.returncode == EXIT_NONE, done.stderr
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "tui", "ls"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "CROSSROOM_STATE_DIR": str(isolated_state_dir)},
    )
    assert listed.returncode == 0 and listed.stdout == "no show is running\n"


def test_audience_view_missing_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where this build has no audience view, ``--audience`` says so; no traceback."""
    monkeypatch.setitem(sys.modules, "tui.audience_app", None)  # the import then fails
    assert open_audience(contextlib.nullcontext) == EXIT_NONE
    err = capsys.readouterr().err
    assert err.startswith("crossroom: the audience view is not available") and err.count("\n") == 1
