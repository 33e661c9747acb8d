"""Real OpenSSH servers on loopback: a jump host, and a target that stands in for a server.

(The fixtures that start them are in this folder's ``conftest.py``.)

Debian's ``openssh-server`` runs unprivileged-style from a config in the test's tmp dir
(host key, authorized keys, pid file all there). The target runs in its own PID namespace
(``unshare --pid --mount-proc``), so ``pgrep`` on it sees only the processes started
through it: the fault's ``pgrep -f 'cockroach start'`` can never reach a process of
anything else on this machine. Without sshd or the namespace the tests skip and say why;
with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def missing() -> str | None:
    """Why these tests cannot run here, or ``None``."""
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        return "needs Debian's openssh-server and openssh-client (scripts/test installs them)"
    if os.geteuid() != 0:
        return "needs root: the target sshd runs in its own PID namespace (unshare --pid)"
    if shutil.which("unshare") is None:
        return "needs unshare (util-linux) for the target's own PID namespace"
    return None


def unavailable() -> None:
    reason = missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


@dataclass
class Sshd:
    """One running sshd: where it listens, its dir, and its host key's public half."""

    port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def host_key(self) -> str:
        return (self.root / "host_ed25519.pub").read_text().split()[1]

    def authorize(self, public_key: Path) -> None:
        with (self.root / "authorized_keys").open("a") as f:
            f.write(public_key.read_text())


def start_sshd(root: Path, forwarding: bool, namespace: bool) -> Sshd:
    root.mkdir(parents=True)
    keygen(root / "host_ed25519")
    (root / "authorized_keys").touch(mode=0o600)
    port = free_port()
    (root / "sshd_config").write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {root / 'host_ed25519'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\n"
        "PidFile none\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        f"AllowTcpForwarding {'yes' if forwarding else 'no'}\n"
        "LogLevel VERBOSE\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    argv = [SSHD, "-D", "-e", "-f", str(root / "sshd_config")]
    if namespace:
        argv = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", *argv]
    log = (root / "sshd.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {(root / 'sshd.log').read_text()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Sshd(port, root, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("sshd did not listen within 20 s")


def stop(server: Sshd) -> None:
    """SIGTERM, then SIGKILL: ``unshare --fork`` ignores SIGTERM while it waits for its
    child, and ``--kill-child`` takes sshd (and its stand-in) down with it on SIGKILL."""
    server.process.terminate()
    try:
        server.process.wait(1)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


@dataclass
class SshLab:
    jump: Sshd
    target: Sshd
    closed_jump: Sshd
    """A jump host that forwards nothing (``AllowTcpForwarding no``)."""
    user: str
    jump_key: Path
