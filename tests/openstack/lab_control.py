"""Start, reuse and stop crossroom's OpenStack test lab (tests/lab) from pytest.

The lab needs root and Debian 12's apt. Where it cannot start, lab tests skip with the
reason, except under ``CI=true``, where they fail loudly: CI must never go green by
skipping the only tests that touch a real OpenStack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LAB_SRC = Path(__file__).resolve().parents[1] / "lab"
UP = LAB_SRC / "up.sh"
DOWN = LAB_SRC / "down.sh"
SERVICES = (
    "mariadb",
    "rabbitmq",
    "keystone",
    "placement",
    "glance-api",
    "neutron-server",
    "nova-api",
    "nova-conductor",
    "nova-scheduler",
    "nova-compute",
    "cinder-api",
    "cinder-scheduler",
    "cinder-volume",
)


@dataclass(frozen=True)
class Lab:
    """A running lab: where its clouds files are, and how long it took to be ready."""

    dir: Path
    start_s: float
    started_here: bool

    @property
    def clouds_yaml(self) -> Path:
        return self.dir / "clouds.yaml"

    @property
    def secure_yaml(self) -> Path:
        return self.dir / "secure.yaml"

    def password(self, cloud: str) -> str:
        import yaml

        data = yaml.safe_load(self.secure_yaml.read_text())
        return str(data["clouds"][cloud]["auth"]["password"])


def lab_dir() -> Path:
    return Path(os.environ.get("CROSSROOM_LAB_DIR", LAB_SRC / ".lab"))


def unavailable() -> str | None:
    """Why the lab cannot start on this machine, or ``None``."""
    if os.name != "posix" or os.geteuid() != 0:
        return "the OpenStack lab needs root (it installs Debian packages and runs services)"
    if shutil.which("apt-get") is None or shutil.which("dpkg-query") is None:
        return "the OpenStack lab needs apt-get (Debian 12 packages of OpenStack Zed)"
    version = Path("/etc/debian_version")
    if not version.exists() or not version.read_text().startswith("12"):
        return "the OpenStack lab needs Debian 12 (bookworm): its packages are OpenStack Zed"
    return None


def running(directory: Path) -> bool:
    """Every service process recorded by up.sh is alive."""
    for name in SERVICES:
        pid_file = directory / "pids" / f"{name}.pid"
        try:
            os.kill(int(pid_file.read_text().strip()), 0)
        except (OSError, ValueError):
            return False
    return (directory / "data" / ".ready").exists()


def up(directory: Path) -> Lab:
    """Run up.sh (idempotent); raise RuntimeError with the tail of its output on failure."""
    was_running = running(directory)
    env = dict(os.environ, CROSSROOM_LAB_DIR=str(directory), CROSSROOM_LAB_PYTHON=sys.executable)
    began = time.monotonic()
    proc = subprocess.run(
        ["bash", str(UP)], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    took = time.monotonic() - began
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise RuntimeError(f"tests/lab/up.sh failed with exit {proc.returncode}:\n{tail}")
    return Lab(directory, took, started_here=not was_running)


def down(directory: Path) -> None:
    env = dict(os.environ, CROSSROOM_LAB_DIR=str(directory))
    subprocess.run(["bash", str(DOWN)], env=env, capture_output=True, timeout=300, check=False)
