"""Faults inside a server, over SSH: crash (SIGKILL) and freeze (SIGSTOP, then SIGCONT).

As roachtest's process failure does (cockroachdb/cockroach
``pkg/roachprod/failureinjection/failures/process_kill.go``: SIGKILL by default, any signal
on request), the signal goes to the ``cockroach start`` process itself. On a k3s node that
process runs in a containerd container but is an ordinary process of the host's process
table, so ``pgrep`` on the server finds it; after SIGKILL the container's main process is
gone and the kubelet starts the container again (same pod, same store, same node ID).

The connection uses asyncssh (a well-kept async SSH library): to the jump host first when
the demo names one, then through it to the server (``tunnel=``, OpenSSH's ProxyJump).
Servers take the run's own per-cloud key and never the user's agent; the jump host takes
``ssh.jump_key`` or the user's agent and default keys. Host keys are trusted on first use
and recorded in the run directory's ``known_hosts``; a later mismatch refuses, in one line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import asyncssh

from engine.config.model import SshConfig
from engine.errors import PermanentStepError, StepError, TransientStepError
from engine.plan import StepContext
from engine.redact import one_line
from engine.targets import node_name

Fault = Literal["crash", "freeze", "thaw"]
SIGNALS: dict[Fault, str] = {"crash": "KILL", "freeze": "STOP", "thaw": "CONT"}
NO_PROCESS_EXIT = 3
"""Exit status of the command when no ``cockroach start`` process runs on the server."""
PATTERN = "[c]ockroach start( |$)"
"""``pgrep -f`` (extended regex): ``cockroach start`` and its flags, not ``start-single-node``;
the bracket keeps it from matching the shell (or sudo) running it, whose command line holds
the pattern's own text."""


def signal_command(fault: Fault) -> str:
    """The shell command that signals every ``cockroach start`` process on the server and
    prints their pids: directly when allowed, else through ``sudo -n`` (the containers'
    processes are root's; the image's default user has passwordless sudo)."""
    sig = SIGNALS[fault]
    return (
        f"pids=$(pgrep -f '{PATTERN}') || exit {NO_PROCESS_EXIT}; "
        f"{{ kill -{sig} $pids 2>/dev/null || sudo -n kill -{sig} $pids; }} && echo $pids"
    )


@dataclass(frozen=True)
class Hop:
    """One SSH endpoint: ``key`` is a private key file, or ``None`` for the user's agent
    and default keys (only ever for the jump host)."""

    host: str
    port: int
    user: str
    key: Path | None
    what: str

    def __str__(self) -> str:
        return self.what


class KnownHosts:
    """Trust on first use, recorded in one OpenSSH ``known_hosts`` file of the run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def entry(host: str, port: int) -> str:
        return host if port == 22 else f"[{host}]:{port}"

    def known(self, host: str, port: int) -> bool:
        if not self.path.exists():
            return False
        table = asyncssh.import_known_hosts(self.path.read_text(encoding="utf-8"))
        return bool(table.match(host, "", port)[0])

    def remember(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        line = f"{self.entry(host, port)} {key.export_public_key('openssh').decode().strip()}\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(line)


def _refusal(hop: Hop, known: KnownHosts, exc: BaseException) -> StepError:
    """One line for the presenter: where, and what went wrong."""
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return PermanentStepError(
            f"ssh {hop}: host key does not match the one recorded on first use in "
            f"{known.path.name} of this run; refusing to connect"
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        return PermanentStepError(f"ssh {hop}: {hop.user}@{hop.host} refused our key")
    if isinstance(exc, TimeoutError | asyncssh.TimeoutError):
        return TransientStepError(f"ssh {hop}: no answer (timed out)")
    if isinstance(exc, ConnectionRefusedError):
        return TransientStepError(f"ssh {hop}: connection refused")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return TransientStepError(f"ssh {hop}: the jump host could not reach it ({exc.reason})")
    if isinstance(exc, asyncssh.KeyImportError):
        return PermanentStepError(f"ssh {hop}: cannot read the key file ({exc})")
    return TransientStepError(f"ssh {hop}: {one_line(f'{type(exc).__name__}: {exc}')}")


async def _connect(
    hop: Hop, known: KnownHosts, timeout_s: float, tunnel: Any = None
) -> asyncssh.SSHClientConnection:
    """Connect and authenticate, checking (or, the first time, recording) the host key."""
    first_use = not known.known(hop.host, hop.port)
    options: dict[str, Any] = {
        "port": hop.port,
        "username": hop.user or None,
        "known_hosts": None if first_use else str(known.path),
        "connect_timeout": timeout_s,
        "login_timeout": timeout_s,
    }
    if hop.key is not None:  # the run's own key (servers) or the jump_key file: nothing else
        options.update(client_keys=[str(hop.key)], agent_path=None, config=None)
    if tunnel is not None:
        options["tunnel"] = tunnel
    try:
        conn = await asyncssh.connect(hop.host, **options)
    except (OSError, asyncssh.Error) as exc:
        raise _refusal(hop, known, exc) from None
    if first_use:
        key = conn.get_server_host_key()
        if key is not None:
            known.remember(hop.host, hop.port, key)
    return conn


async def run_command(
    target: Hop,
    jump: Hop | None,
    known: KnownHosts,
    command: str,
    connect_timeout_s: float = 15.0,
    command_timeout_s: float = 20.0,
) -> tuple[int, str, str]:
    """Run ``command`` on ``target`` (through ``jump`` when given); return (exit, out, err).

    Bounded as a whole, so a hung jump host or server cannot hold a fault for ever.
    """
    budget = 2 * connect_timeout_s + command_timeout_s + 5.0
    with anyio.fail_after(budget):
        tunnel = None
        try:
            if jump is not None:
                tunnel = await _connect(jump, known, connect_timeout_s)
            conn = await _connect(target, known, connect_timeout_s, tunnel)
            try:
                try:
                    done = await conn.run(command, check=False, timeout=command_timeout_s)
                except (OSError, asyncssh.Error) as exc:
                    raise _refusal(target, known, exc) from None
            finally:
                conn.close()
                await conn.wait_closed()
        finally:
            if tunnel is not None:
                tunnel.close()
                await tunnel.wait_closed()
    status = done.exit_status if done.exit_status is not None else -1
    return status, str(done.stdout or ""), str(done.stderr or "")


def known_hosts_of(ctx: StepContext) -> KnownHosts:
    """The run's ``known_hosts`` (beside the ledger: ``<run>/clouds/<cloud>`` is cloud_dir)."""
    return KnownHosts(ctx.cloud_dir.parent.parent / "known_hosts")


def server_address(ctx: StepContext, index: int) -> str:
    """Server N's floating IP, from the ledger (so it works after a restart of the engine)."""
    for rec in ctx.ledger.live(ctx.cloud.name):
        kind, at = rec.resource_type, rec.get("index")
        if kind == "floating_ip" and at == str(index) and rec.get("address"):
            return rec.get("address")
    ips: Sequence[str] = ctx.facts.get("floating_ips") or ()
    if 0 < index <= len(ips):
        return str(ips[index - 1])
    raise PermanentStepError(f"server-{index}: no floating IP of this run to reach it by")


def hops(ssh: SshConfig, address: str, key: Path, index: int) -> tuple[Hop, Hop | None]:
    """The server (with the run's key) and the jump host (with the user's key or agent)."""
    target = Hop(address, ssh.port, ssh.user, key, f"server-{index} ({address})")
    where = ssh.jump()
    if where is None:
        return target, None
    host, port = where
    return target, Hop(host, port, ssh.jump_user, ssh.jump_key, f"jump host {host}:{port}")


async def signal_node(ctx: StepContext, index: int, fault: Fault) -> tuple[str, ...]:
    """Send the fault's signal to node N's CockroachDB process on server N; return the node."""
    key = ctx.cloud_dir / "id_ed25519"
    if not key.exists():
        raise PermanentStepError(
            f"server-{index}: this run has no key for its servers (the key pair step made none)"
        )
    ssh = ctx.demo.ssh
    target, jump = hops(ssh, server_address(ctx, index), key, index)
    via = f" via {jump}" if jump else ""
    ctx.log(f"ssh {target}{via}: kill -{SIGNALS[fault]} the cockroach start process")
    status, out, err = await run_command(
        target,
        jump,
        known_hosts_of(ctx),
        signal_command(fault),
        ssh.connect_timeout_s,
        ssh.command_timeout_s,
    )
    if status == NO_PROCESS_EXIT:
        raise PermanentStepError(f"server-{index}: no 'cockroach start' process is running")
    if status != 0:
        said = one_line(err or out) or "no output"
        raise PermanentStepError(f"server-{index}: kill -{SIGNALS[fault]} exit {status}: {said}")
    ctx.log(f"server-{index}: SIG{SIGNALS[fault]} sent to pid {one_line(out)}")
    return (node_name(ctx.cloud.name, index),)
