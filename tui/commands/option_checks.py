"""Command-line values checked before anything starts: each problem is one line, exit 2.

argparse turns ``--speed nan`` into a float and ``--seed 10**100`` into an int; neither is
a value a show can run with, and a report path in a missing folder would only fail after
the whole show. So every value is checked here first, and output paths are checked for
being writable, not only well-formed.
"""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

SPEED_RANGE = (0.01, 1000.0)
"""Demo seconds per real second: slower stalls a rehearsal, faster outruns the event loop."""
SEED_MAX = 2**63 - 1
"""Seeds are recorded as JSON integers; readers keep 64 bits."""
KILL_AT_MAX_S = 86_400.0
"""A kill is scheduled within a day of joining."""


def speed_problem(value: float, option: str = "--speed") -> str | None:
    low, high = SPEED_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        return f"{option} {value:g}: must be a number from {low:g} to {high:g}"
    return None


def seed_problem(value: int) -> str | None:
    if not 0 <= value <= SEED_MAX:
        return f"--seed: must be an integer from 0 to {SEED_MAX}"
    return None


def kill_seconds_problem(value: float) -> str | None:
    if not math.isfinite(value) or not 0 <= value <= KILL_AT_MAX_S:
        return f"seconds must be a number from 0 to {KILL_AT_MAX_S:g}"
    return None


def _expand(text: str, option: str) -> tuple[Path | None, str | None]:
    try:
        return Path(text).expanduser(), None
    except RuntimeError:
        user = text.split("/", 1)[0]
        return None, f"{option} {text}: cannot resolve {user}: no such user or home folder"


def _stat_problem(path: Path) -> tuple[bool, str | None]:
    """``(exists, problem)`` for ``path``, never raising."""
    try:
        path.stat()
    except FileNotFoundError:
        return False, None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return False, "path too long"
        if exc.errno == errno.ENOTDIR:
            return False, "a part of the path is not a folder"
        return False, exc.strerror or str(exc)
    except ValueError:
        return False, "not a valid path"
    return True, None


def output_file_problem(text: str, option: str) -> str | None:
    """Why a file cannot be written at ``text`` (its folder must exist), or ``None``."""
    path, problem = _expand(text, option)
    if path is None:
        return problem
    exists, problem = _stat_problem(path)
    if problem:
        return f"{option} {text}: {problem}"
    if exists:
        if path.is_dir():
            return f"{option} {text}: is a folder; name a file"
        if not os.access(path, os.W_OK):
            return f"{option} {text}: not writable"
        return None
    folder = path.parent
    if not folder.is_dir():
        return f"{option} {text}: no folder {folder}; create it first"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{option} {text}: folder {folder} is not writable"
    return None


def folder_problem(text: str, option: str) -> str | None:
    """Why a folder cannot be used (or created) at ``text``, or ``None``."""
    path, problem = _expand(text, option)
    if path is None:
        return problem
    exists, problem = _stat_problem(path)
    if problem:
        return f"{option} {text}: {problem}"
    if exists and not path.is_dir():
        return f"{option} {text}: is a file, not a folder"
    nearest = path if exists else next((p for p in path.absolute().parents if p.exists()), None)
    if nearest is None or not nearest.is_dir():
        return f"{option} {text}: a part of the path is not a folder"
    if not os.access(nearest, os.W_OK | os.X_OK):
        return f"{option} {text}: {nearest} is not writable"
    return None


def state_dir_problem(state_dir: str | None) -> str | None:
    """``--state-dir``, or else ``$CROSSROOM_STATE_DIR``, must be a usable folder."""
    if state_dir:
        return folder_problem(state_dir, "--state-dir")
    env = os.environ.get("CROSSROOM_STATE_DIR")
    return folder_problem(env, "CROSSROOM_STATE_DIR") if env else None


def show_option_problems(speed: float | None, seed: int, state_dir: str | None) -> list[str]:
    """The options every show-running command shares (see ``add_demo_options``)."""
    problems = [
        p
        for p in (
            speed_problem(speed) if speed is not None else None,
            seed_problem(seed),
            state_dir_problem(state_dir),
        )
        if p
    ]
    return problems
