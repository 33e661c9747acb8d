"""Crash and freeze over real SSH, through a real jump host (``conftest.ssh_lab``).

The target stands in for a k3s server: a process whose command line is ``cockroach
start ...`` runs there, and its state is read from /proc: stopped (``T``) after a freeze,
running again after the thaw, gone after the crash. Host keys are trusted on first use in
the run directory and a changed key is refused.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import anyio
import pytest
from sshd_lab import SshLab

from engine.clock import ScaledClock
from engine.config.model import CloudConfig, DemoConfig, SshConfig
from engine.errors import PermanentStepError, StepError
from engine.events import Event, LogLines
from engine.ledger import Ledger
from engine.plan import StepContext
from engine.providers.openstack.access import _private_key
from engine.ssh_faults import Hop, KnownHosts, run_command, signal_node
from engine.state import RoomState

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]


def context(lab: SshLab, tmp_path: Path, jump_port: int | None) -> tuple[StepContext, list[Event]]:
    """A cloud of one server whose floating IP is loopback, with this run's own key."""
    run = tmp_path / "runs" / "xr-test"
    cloud_dir = run / "clouds" / "lab"
    cloud_dir.mkdir(parents=True, mode=0o700)
    public = _private_key(cloud_dir / "id_ed25519")  # as the key pair step makes it
    (lab.target.root / "authorized_keys").write_text(public + "\n")
    ssh = SshConfig(
        user=lab.user,
        port=lab.target.port,
        jump_host="" if jump_port is None else f"127.0.0.1:{jump_port}",
        jump_user=lab.user,
        jump_key=lab.jump_key,
        connect_timeout_s=10.0,
        command_timeout_s=10.0,
    )
    cloud = CloudConfig(name="lab", label="LAB", servers=1)
    events: list[Event] = []
    ctx = StepContext(
        demo=DemoConfig(name="ssh", clouds=(cloud,), ssh=ssh),
        cloud=cloud,
        run_id="xr-test",
        cloud_dir=cloud_dir,
        clock=ScaledClock(),
        ledger=Ledger(run / "ledger.jsonl"),
        emit=events.append,
        room=RoomState,
        rng=random.Random(1),
    )
    ctx.record("floating_ip", "fip-1", "127.0.0.1", index="1", address="127.0.0.1")
    return ctx, events


def target_hop(ctx: StepContext) -> Hop:
    ssh = ctx.demo.ssh
    return Hop("127.0.0.1", ssh.port, ssh.user, ctx.cloud_dir / "id_ed25519", "target")


async def stand_in(ctx: StepContext) -> int:
    """Start ``cockroach start`` (a sleeping Python) on the target; its pid as this host sees it."""
    mark = f"--join=stand-in-{uuid.uuid4().hex}"
    command = (
        f"nohup python3 -c 'import time; time.sleep(300)' cockroach start {mark} "
        "</dev/null >/dev/null 2>&1 & echo started"
    )
    known = KnownHosts(ctx.cloud_dir.parent.parent / "known_hosts")
    status, out, _ = await run_command(target_hop(ctx), None, known, command, 10.0, 10.0)
    assert (status, out.strip()) == (0, "started")
    for _ in range(100):
        pid = await anyio.to_thread.run_sync(find_process, mark)
        if pid is not None:
            return pid
        await anyio.sleep(0.05)
    raise AssertionError("the stand-in process never showed up")


def find_process(mark: str) -> int | None:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if mark.encode() in (proc / "cmdline").read_bytes():
                    return int(proc.name)
            except OSError:
                continue
    return None


def state(pid: int) -> str:
    """The process state letter from /proc (``T`` stopped, ``S``/``R`` running), or ``gone``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat.rpartition(")")[2].split()[0]


async def until_state(pid: int, wanted: set[str]) -> str:
    for _ in range(100):
        if (now := state(pid)) in wanted:
            return now
        await anyio.sleep(0.05)
    return state(pid)


async def test_freeze_thaw_and_crash_through_the_jump_host(ssh_lab: SshLab, tmp_path: Path) -> None:
    ctx, events = context(ssh_lab, tmp_path, ssh_lab.jump.port)
    pid = await stand_in(ctx)
    assert state(pid) in {"S", "R"}

    assert await signal_node(ctx, 1, "freeze") == ("lab/node-1",)
    assert await until_state(pid, {"T"}) == "T"
    await signal_node(ctx, 1, "thaw")
    assert await until_state(pid, {"S", "R"}) in {"S", "R"}
    await signal_node(ctx, 1, "crash")
    assert await until_state(pid, {"gone", "Z"}) in {"gone", "Z"}

    # first use recorded both host keys in the run directory, once each
    known = (ctx.cloud_dir.parent.parent / "known_hosts").read_text().splitlines()
    entries = {line.split()[0]: line.split()[2] for line in known}
    assert entries == {
        f"[127.0.0.1]:{ssh_lab.jump.port}": ssh_lab.jump.host_key,
        f"[127.0.0.1]:{ssh_lab.target.port}": ssh_lab.target.host_key,
    }
    said = [line for e in events if isinstance(e, LogLines) for line in e.lines]
    assert any(f"via jump host 127.0.0.1:{ssh_lab.jump.port}" in line for line in said)
    # (that the jump host carries the connection: a jump host that forwards nothing fails,
    # test_a_jump_host_that_forwards_nothing_is_named)


async def test_a_changed_host_key_is_refused_in_one_line_and_nothing_is_signalled(
    ssh_lab: SshLab, tmp_path: Path
) -> None:
    ctx, _ = context(ssh_lab, tmp_path, ssh_lab.jump.port)
    pid = await stand_in(ctx)  # records the target's real key on first use
    known = ctx.cloud_dir.parent.parent / "known_hosts"
    other = ssh_lab.jump.host_key  # a real key, but not the target's
    known.write_text(f"[127.0.0.1]:{ssh_lab.target.port} ssh-ed25519 {other}\n")
    with pytest.raises(PermanentStepError) as caught:
        await signal_node(ctx, 1, "freeze")
    message = caught.value.message
    assert message.startswith("ssh server-1 (127.0.0.1): host key does not match")
    assert "\n" not in message and "refusing" in message
    await anyio.sleep(0.2)
    assert state(pid) in {"S", "R"}


async def test_a_jump_host_that_forwards_nothing_is_named(ssh_lab: SshLab, tmp_path: Path) -> None:
    ctx, _ = context(ssh_lab, tmp_path, ssh_lab.closed_jump.port)
    with pytest.raises(StepError) as caught:
        await signal_node(ctx, 1, "crash")
    assert caught.value.message.startswith("ssh server-1 (127.0.0.1): the jump host could not")


async def test_no_cockroach_process_is_one_line(ssh_lab: SshLab, tmp_path: Path) -> None:
    ctx, _ = context(ssh_lab, tmp_path, None)  # directly, no jump host
    with pytest.raises(PermanentStepError) as caught:
        await signal_node(ctx, 1, "crash")
    assert caught.value.message == "server-1: no 'cockroach start' process is running"


async def test_the_real_cloud_backend_sends_crash_and_freeze_over_ssh(
    ssh_lab: SshLab, tmp_path: Path
) -> None:
    """``KubernetesCloud`` (what a real OpenStack cloud runs as) routes the two faults to
    SSH, never to the server's power: a freeze is revived by SIGCONT, a crash needs none."""
    from engine.providers.kubernetes_cloud import KubernetesCloud
    from engine.targets import Target

    ctx, _ = context(ssh_lab, tmp_path, ssh_lab.jump.port)
    cloud = KubernetesCloud(ctx.demo, ctx.cloud, None)
    pid = await stand_in(ctx)
    assert await cloud.kill(Target("lab", "freeze", 1), ctx) == ("lab/node-1",)
    assert await until_state(pid, {"T"}) == "T"
    assert await cloud.revive(Target("lab", "freeze", 1), ctx) == ("lab/node-1",)
    assert await until_state(pid, {"S", "R"}) in {"S", "R"}
    assert await cloud.kill(Target("lab", "crash", 1), ctx) == ("lab/node-1",)
    assert await until_state(pid, {"gone", "Z"}) in {"gone", "Z"}
    assert await cloud.revive(Target("lab", "crash", 1), ctx) == ("lab/node-1",)
    await cloud.aclose()
