"""Where a run keeps its files: ``<state dir>/runs/<run id>/``.

The state dir is ``--state-dir``, else ``$CROSSROOM_STATE_DIR``, else
``$XDG_STATE_HOME/crossroom``, else ``~/.local/state/crossroom``.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RUN_PREFIX = "xr"
"""Run ids start with the demo's ``run_prefix``; this one unless the demo file names one."""
_RUN_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,62}")
SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""A cloud name: one word that is safe as a folder, a widget id and a resource name part."""


class UnsafeName(ValueError):
    """A run id or cloud name that could reach outside the run directory."""


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("CROSSROOM_STATE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "crossroom"


def new_run_id(prefix: str) -> str:
    """``xr-20261127-051200-a1b2``: sortable, unique, and a valid name in every cloud."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return f"{prefix}-{stamp}-{os.urandom(2).hex()}"  # as secrets does, without its ~5 ms import


def valid_run_id(run_id: str) -> bool:
    return bool(_RUN_ID.fullmatch(run_id))


def _inside(base: Path, name: str, what: str, rule: re.Pattern[str]) -> Path:
    """``base/name``, refusing any name that is not one safe word or resolves elsewhere
    (defence in depth: config and recordings are checked first, this holds regardless)."""
    path = base / name
    if not rule.fullmatch(name) or path.resolve().parent != base.resolve():
        raise UnsafeName(f"{name!r} is not a valid {what}")
    return path


@dataclass(frozen=True)
class RunDir:
    root: Path

    @classmethod
    def create(cls, base: Path, run_id: str) -> RunDir:
        root = _inside(base / "runs", run_id, "run id", _RUN_ID)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        root.chmod(0o700)  # the owner's alone: it holds keys and the engine's socket
        return cls(root)

    @classmethod
    def existing(cls, base: Path, run_id: str) -> RunDir:
        root = _inside(base / "runs", run_id, "run id", _RUN_ID)
        if not root.is_dir():
            raise FileNotFoundError(f"no run {run_id} under {base / 'runs'}")
        return cls(root)

    @property
    def run_id(self) -> str:
        return self.root.name

    @property
    def events(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.jsonl"

    @property
    def config_copy(self) -> Path:
        """The demo file the run used, so ``teardown --run`` can reach the same clouds."""
        return self.root / "demo.yaml"

    @property
    def socket(self) -> Path:
        """Where the show's engine process listens for screens (``engine.room_server``)."""
        return self.root / "engine.sock"

    @property
    def engine_log(self) -> Path:
        """The detached engine process's own output (its last lines explain a failed start)."""
        return self.root / "engine.log"

    @property
    def cockroach_certs(self) -> Path:
        """Secure mode's CA and root client certificate, shared by every cloud of the run."""
        return self.root / "cockroach-certs"

    def cloud_dir(self, cloud: str) -> Path:
        """Private per-cloud files (keys, user data, full log); created 0700."""
        path = _inside(self.root / "clouds", cloud, "cloud name", SAFE_NAME)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path


class RunBusy(Exception):
    """Another process holds the run (a show or a teardown); ``str()`` is one line."""

    def __init__(self, run_id: str, holder: str) -> None:
        super().__init__(f"run {run_id} is in use by {holder}")
        self.run_id = run_id
        self.holder = holder
        self.pid = _pid_of(holder)


class RunLock:
    """An exclusive hold on one run directory, for as long as a show or a teardown runs.

    ``fcntl.flock`` on ``<run dir>/lock``: the kernel releases it when the holder exits,
    however it dies (``kill -9`` included), so a crash never leaves a stale lock. The
    holder writes its pid and command into the file for a refused process to name.
    """

    def __init__(self, run_dir: RunDir, what: str) -> None:
        self.path = run_dir.root / "lock"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            holder = "".join(ch if ch.isprintable() else "?" for ch in text)
            os.close(fd)
            raise RunBusy(run_dir.run_id, holder or "another process") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what})\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        """Idempotent; the file stays (removing it would race with a new holder)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def _pid_of(holder: str) -> int | None:
    match = re.match(r"pid (\d+)", holder)
    return int(match.group(1)) if match else None
