"""Every file in tests/data/bad_configs names, in its leading ``# expect:`` lines, exactly
the errors it must produce. Files are loaded by their bare name from inside that folder,
so the expected lines start with the file name, as they would for a user in that folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config.loader import load_demo
from engine.errors import ConfigError

BAD_CONFIGS = Path(__file__).resolve().parents[1] / "data" / "bad_configs"
FIXTURES = sorted(p.name for p in BAD_CONFIGS.glob("*.yaml"))
"""Every demo file directly in the folder; ``kube/`` holds a kubeconfig some of them use."""


def expected_lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("# expect: "):
            break
        lines.append(line.removeprefix("# expect: "))
    return lines


def test_there_are_enough_fixtures() -> None:
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("name", FIXTURES)
def test_bad_config_yields_exactly_its_expected_errors(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = expected_lines(BAD_CONFIGS / name)
    assert expected, f"{name} has no '# expect:' first line"
    monkeypatch.chdir(BAD_CONFIGS)
    with pytest.raises(ConfigError) as caught:
        load_demo(Path(name))
    assert caught.value.lines == expected


def test_error_lines_name_the_path_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD_CONFIGS.parent)
    with pytest.raises(ConfigError) as caught:
        load_demo(Path("bad_configs/bool_where_int.yaml"))
    assert caught.value.lines == [
        "bad_configs/bool_where_int.yaml:5: clouds[0].servers: "
        "expected an integer from 1 to 64, got a boolean (yes)"
    ]


def test_password_in_sql_url_is_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD_CONFIGS)
    with pytest.raises(ConfigError) as caught:
        load_demo(Path("sql_url_with_password.yaml"))
    assert "hunter2" not in str(caught.value)
    assert "hunter2" in (BAD_CONFIGS / "sql_url_with_password.yaml").read_text()


def test_a_private_key_pasted_into_ssh_is_refused_and_never_repeated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(BAD_CONFIGS)
    with pytest.raises(ConfigError) as caught:
        load_demo(Path("bad_ssh.yaml"))
    assert "b3BlbnNzaC1rZXkt" not in str(caught.value)
    assert "b3BlbnNzaC1rZXkt" in (BAD_CONFIGS / "bad_ssh.yaml").read_text()
