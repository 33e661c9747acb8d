"""Against a real OpenStack: the project's lab (tests/lab), two tenant projects as two clouds.

Started once per session by the ``lab`` fixture. Each test uses its own run id and
cleans up after itself; every check of "nothing left" lists the cloud by name prefix and
description too, not only through the code under test.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import openstack
import pytest
from os_harness import lab_cloud, make_ctx, record_events

from engine.config.model import DemoConfig
from engine.errors import TransientStepError
from engine.events import (
    Event,
    LogLines,
    Notice,
    StepFailed,
    StepFinished,
    StepProgress,
    StepRetrying,
)
from engine.kube import render_user_data
from engine.ledger import Ledger
from engine.plan import Step, StepContext
from engine.providers.openstack.access import find_image
from engine.providers.openstack.cloud import OpenStackCloud
from engine.providers.openstack.preflight import preflight
from engine.providers.openstack.rules import Reachability, reachability
from engine.providers.openstack.sweep import find_leftovers, sweep
from engine.rundir import new_run_id
from engine.runner import Outcome, run_cloud
from engine.targets import Target

pytestmark = [pytest.mark.slow, pytest.mark.lab, pytest.mark.anyio, pytest.mark.timeout(1800)]

HERE = Path(__file__).resolve().parent
KINDS = ("server", "volume", "port", "floating_ip", "security_group", "keypair")


def by_name(conn: Any, run_id: str) -> dict[str, list[str]]:
    """Everything in the project that looks like this run's, found without our inventory."""
    return {
        "server": [s.name for s in conn.compute.servers() if s.name.startswith(run_id)],
        "volume": [
            v.name for v in conn.block_storage.volumes() if (v.name or "").startswith(run_id)
        ],
        "port": [p.name for p in conn.network.ports() if (p.name or "").startswith(run_id)],
        "floating_ip": [
            i.floating_ip_address for i in conn.network.ips() if run_id in (i.description or "")
        ],
        "security_group": [
            g.name for g in conn.network.security_groups() if g.name.startswith(run_id)
        ],
        "keypair": [k.name for k in conn.compute.keypairs() if k.name.startswith(run_id)],
    }


async def nothing_left(cloud: str, run_id: str) -> None:
    conn = openstack.connect(cloud=cloud)
    try:
        found = await anyio.to_thread.run_sync(by_name, conn, run_id)
    finally:
        conn.close()
    assert found == {k: [] for k in KINDS}, found


async def teardown(backend: OpenStackCloud, ctx: StepContext) -> list[str]:
    """What the room does: newest first, delete, then strike from the ledger."""
    problems = []
    for record in reversed(ctx.ledger.live(ctx.cloud.name)):
        try:
            await backend.delete(record, ctx)
        except Exception as exc:  # report, keep going: the assertion shows them all
            problems.append(f"{record.resource_type} {record.name}: {exc}")
        else:
            ctx.forget(record)
    return problems


def step_times(events: list[Event], cloud: str) -> dict[str, float]:
    return {
        e.step: round(e.duration_s, 2)
        for e in events
        if isinstance(e, StepFinished) and e.cloud == cloud and not e.skipped
    }


def note(lab: Any, line: str) -> None:
    """Measured numbers go beside the lab's start times (tests/lab/.lab/measurements.txt)."""
    with (lab.dir / "measurements.txt").open("a") as f:
        f.write(line + "\n")
    print(line)


def read_reachability(cloud: Any, group_id: str, peers: list[str]) -> Reachability:
    """The group's rules as Neutron has them now (a connection of its own), judged."""
    conn = openstack.connect(cloud=cloud.name)
    try:
        rules = [dict(r) for r in conn.network.get_security_group(group_id).security_group_rules]
    finally:
        conn.close()
    return reachability(cloud, group_id, rules, peers)


async def converged(cloud: Any, group_id: str, peers: list[str]) -> Reachability:
    """Poll (bounded) until the group allows exactly the flows for ``peers``."""
    result = await anyio.to_thread.run_sync(read_reachability, cloud, group_id, peers)
    for _ in range(90):
        if result.ok:
            break
        await anyio.sleep(1)
        result = await anyio.to_thread.run_sync(read_reachability, cloud, group_id, peers)
    return result


def port_checked_user_data(seen: dict[str, list[tuple[int, str, list[str]]]]) -> Any:
    """The real k3s user data; before each agent's, look in Neutron (not at our facts
    alone) for server 1's port with the fixed IP the agent is told to join."""

    def user_data(ctx: StepContext, index: int) -> str:
        text = render_user_data(ctx, index)
        conn = openstack.connect(cloud=ctx.cloud.name)
        try:
            port = conn.network.get_port(ctx.facts["port_ids"][0])
            fixed = [f["ip_address"] for f in port.fixed_ips]
            servers = [s.name for s in conn.compute.servers() if s.name.startswith(ctx.run_id)]
        finally:
            conn.close()
        seen.setdefault(ctx.cloud.name, []).append((index, fixed[0], servers))
        assert f"server: https://{fixed[0]}:6443" in text or index == 1
        return text

    return user_data


async def test_two_clouds_boot_concurrently_and_teardown_leaves_nothing(
    lab_env: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two clouds, narrowed public_cidrs, lab-b allocating its floating IPs only after lab-a
    has finished with its own: every group converges to exactly the show's flows."""
    caplog.set_level(logging.DEBUG)
    run_id = new_run_id("xrt")
    # "Montreal" is only words on stage: the cloud still runs in its own region (RegionOne)
    clouds = (lab_cloud("lab-a", region="Montreal"), lab_cloud("lab-b"))
    demo = DemoConfig(name="lab", clouds=clouds)
    events: list[Event] = []
    ledger = Ledger(tmp_path / "ledger.jsonl")
    seen: dict[str, list[tuple[int, str, list[str]]]] = {}
    backends = {
        c.name: OpenStackCloud(demo, c, user_data=port_checked_user_data(seen)) for c in clouds
    }
    ctxs = {c.name: make_ctx(demo, c, tmp_path, run_id, events, ledger=ledger) for c in clouds}
    outcomes: dict[str, Outcome] = {}
    a_has_ips = anyio.Event()

    def tell(event: Event) -> None:
        events.append(event)
        if isinstance(event, StepFinished) and (event.cloud, event.step) == (
            "lab-a",
            "floating_ips",
        ):
            a_has_ips.set()

    for ctx in ctxs.values():
        ctx.emit = tell

    async def provision(name: str) -> None:
        if name == "lab-b":
            await a_has_ips.wait()
        try:
            outcomes[name] = await run_cloud(ctxs[name], backends[name].steps())
        finally:
            a_has_ips.set()  # lab-a failed early: lab-b must not wait for ever

    began = time.monotonic()
    async with anyio.create_task_group() as watchers:
        for c in clouds:  # what the room runs beside the plans for the whole show
            watchers.start_soon(backends[c.name].watch, ctxs[c.name])
        async with anyio.create_task_group() as tg:
            for c in clouds:
                tg.start_soon(provision, c.name)
        wall = time.monotonic() - began
        failures = [e for e in events if isinstance(e, StepFailed)]
        assert outcomes == {"lab-a": Outcome.JOINED, "lab-b": Outcome.JOINED}, failures
        order = [(e.cloud, e.step) for e in events if isinstance(e, StepFinished)]
        assert order.index(("lab-a", "floating_ips")) < order.index(("lab-b", "floating_ips"))
        assert any(isinstance(e, StepProgress) and e.message == "server 2/2 ACTIVE" for e in events)

        fleet = {name: list(ctx.facts["floating_ips"]) for name, ctx in ctxs.items()}
        for name, ctx in ctxs.items():
            peers = [a for other, ips in fleet.items() if other != name for a in ips]
            result = await converged(ctx.cloud, ctx.facts["security_group_id"], peers)
            assert result.ok, result.lines()
            assert len(result.verdicts) == 3 + 4 + 2 * 2
            note(lab_env, f"reachability {name}: {result.summary()}")
        # crossroom check reads the same rules back and says the same, per run
        rows = await preflight(demo)
        for row in rows:
            mine = [line for line in row.flows if line.startswith(f"run {run_id}:")]
            assert mine == [f"run {run_id}: 11 flows allowed, nothing more open"], row.flows

        for name, ctx in ctxs.items():
            kinds = Counter(r.resource_type for r in ledger.live(name))
            assert kinds == {
                "keypair": 1,
                "security_group": 1,
                "floating_ip": 2,
                "port": 2,
                "server": 2,
                "volume": 2,
            }
            assert len(ctx.facts["floating_ips"]) == 2 and len(ctx.facts["servers"]) == 2
            key = anyio.Path(ctx.facts["keypair_path"])
            assert (await key.stat()).st_mode & 0o777 == 0o600
            conn = (await backends[name].session()).connection
            # server 1's port existed, with its fixed IP, before any agent was created
            [(i1, fixed1, before1), (i2, fixed2, before2)] = seen[name]
            assert (i1, i2) == (1, 2) and fixed1 == fixed2 == ctx.facts["fixed_ips"][0]
            assert before1 == [] and before2 == [f"{run_id}-{name}-server-1"]
            for i, server_id in enumerate(ctx.facts["servers"], 1):
                server = conn.compute.get_server(server_id)
                assert server.status == "ACTIVE"
                assert server.metadata["crossroom_run"] == run_id
                [port] = list(conn.network.ports(device_id=server_id))
                assert port.id == ctx.facts["port_ids"][i - 1]  # the server uses our port
                assert port.fixed_ips[0]["ip_address"] == ctx.facts["fixed_ips"][i - 1]
                assert port.security_group_ids == [ctx.facts["security_group_id"]]
                fip = conn.network.get_ip(ctx.facts["floating_ip_ids"][i - 1])
                assert fip.port_id == port.id
                assert fip.floating_ip_address == ctx.facts["floating_ips"][i - 1]
                volume = conn.block_storage.get_volume(ctx.facts["volumes"][i - 1])
                assert volume.status == "in-use"
                assert [a["server_id"] for a in volume.attachments] == [server_id]
        assert [e for e in events if isinstance(e, Notice) and e.level == "warning"] == []

        # every real call and every wait was told in the cloud's pane
        said = [line for e in events if isinstance(e, LogLines) for line in e.lines]
        assert any(
            line.startswith("compute.create_server create server 2/2 -> ok (") for line in said
        )
        assert any(line.startswith("create_port create port 1/2 -> ok (") for line in said)
        assert any(line.startswith("done: servers ACTIVE 2/2") for line in said)

        # lab-b leaves: its floating IPs leave lab-a's group with it
        torn_b = await teardown(backends["lab-b"], ctxs["lab-b"])
        assert torn_b == []
        ctx_a = ctxs["lab-a"]
        alone = await converged(ctx_a.cloud, ctx_a.facts["security_group_id"], [])
        assert alone.ok, alone.lines()
        watchers.cancel_scope.cancel()

    # kill a server (stop), and revive it
    cloud_a = backends["lab-a"]
    hit = await cloud_a.kill(Target("lab-a", "server", 1), ctx_a)
    assert hit == ("lab-a/node-1",)
    assert await cloud_a.kill(Target("lab-a", "node", 1), ctx_a) == ()
    conn_a = (await cloud_a.session()).connection
    sid = ctx_a.facts["servers"][0]
    for _ in range(60):
        if conn_a.compute.get_server(sid).status == "SHUTOFF":
            break
        await anyio.sleep(1)
    assert conn_a.compute.get_server(sid).status == "SHUTOFF"
    assert await cloud_a.revive(Target("lab-a", "cloud"), ctx_a) == (
        "lab-a/node-1",
        "lab-a/node-2",
    )
    for _ in range(60):
        if conn_a.compute.get_server(sid).status == "ACTIVE":
            break
        await anyio.sleep(1)
    assert conn_a.compute.get_server(sid).status == "ACTIVE"
    tokens = {n: (await b.session()).connection.auth_token for n, b in backends.items()}

    # teardown of what is left, exactly what the ledger lists
    t0 = time.monotonic()
    torn = {"lab-a": await teardown(backends["lab-a"], ctxs["lab-a"])}
    teardown_s = time.monotonic() - t0
    assert torn == {"lab-a": []}
    assert ledger.live() == []
    for c in clouds:
        await nothing_left(c.name, run_id)
        await backends[c.name].aclose()
    left = await find_leftovers(demo, run_id)
    assert [(x.cloud, x.found, x.error) for x in left] == [("lab-a", (), ""), ("lab-b", (), "")]

    # no password, token or private key anywhere this run wrote or logged
    record_events(events, tmp_path / "events.jsonl")
    written = {
        "events.jsonl": (tmp_path / "events.jsonl").read_text(),
        "ledger.jsonl": (tmp_path / "ledger.jsonl").read_text(),
        "log": caplog.text,
        "output": "".join(capsys.readouterr()),
    }
    private_key_body = (await anyio.Path(ctx_a.facts["keypair_path"]).read_text()).splitlines()[1]
    secrets = {
        "password lab-a": lab_env.password("lab-a"),
        "password lab-b": lab_env.password("lab-b"),
        "token lab-a": tokens["lab-a"],
        "token lab-b": tokens["lab-b"],
        "private key": private_key_body,
        "private key marker": "PRIVATE KEY-----",
    }
    leaks = [(s, w) for s, v in secrets.items() for w, text in written.items() if v in text]
    assert leaks == []
    assert len(caplog.text) > 1000  # the SDK did log at DEBUG: the check above had material

    for c in clouds:
        note(lab_env, f"steps {c.name}: {json.dumps(step_times(events, c.name))}")
    note(lab_env, f"two clouds provisioned concurrently in {wall:.1f}s; teardown {teardown_s:.1f}s")


async def test_rerun_after_partial_failure_duplicates_nothing(lab_env: Any, tmp_path: Path) -> None:
    run_id = new_run_id("xrt")
    cloud = lab_cloud("lab-b")
    demo = DemoConfig(name="lab", clouds=(cloud,))
    failed_once: list[int] = []

    def flaky_user_data(ctx: StepContext, index: int) -> str:
        """Fails once, after server 1 exists: a partial failure in the middle of the step."""
        assert len(ctx.facts["floating_ips"]) == 2  # k3s certificates need them before boot
        if index == 2 and not failed_once:
            failed_once.append(index)
            raise TransientStepError("servers: injected failure after server 1 was created")
        return "#cloud-config\n"

    seen: list[dict[str, Any]] = []

    async def kubernetes(ctx: StepContext) -> None:
        """Stands in for the Kubernetes step: records the facts it was given."""
        seen.append(dict(ctx.facts))

    events: list[Event] = []
    backend = OpenStackCloud(
        demo, cloud, user_data=flaky_user_data, extra_steps=[Step("kubernetes", kubernetes)]
    )
    ctx = make_ctx(demo, cloud, tmp_path, run_id, events)
    assert await run_cloud(ctx, backend.steps()) == Outcome.JOINED
    assert [e.step for e in events if isinstance(e, StepRetrying)] == ["servers"]
    first_servers = list(ctx.facts["servers"])
    conn = (await backend.session()).connection
    rules_before = len(
        conn.network.get_security_group(ctx.facts["security_group_id"]).security_group_rules
    )

    # a restart: new context (no facts), same ledger file, every step again
    again: list[Event] = []
    ctx2 = make_ctx(demo, cloud, tmp_path, run_id, again, ledger=Ledger(tmp_path / "ledger.jsonl"))
    assert await run_cloud(ctx2, backend.steps()) == Outcome.JOINED
    assert ctx2.facts["servers"] == first_servers
    found = by_name(conn, run_id)
    assert {k: len(v) for k, v in found.items()} == {
        "server": 2,
        "volume": 2,
        "port": 2,
        "floating_ip": 2,
        "security_group": 1,
        "keypair": 1,
    }
    group = conn.network.get_security_group(ctx2.facts["security_group_id"])
    assert len(group.security_group_rules) == rules_before
    kinds = Counter(r.resource_type for r in ctx2.ledger.live("lab-b"))
    assert kinds == {
        "keypair": 1,
        "security_group": 1,
        "floating_ip": 2,
        "port": 2,
        "server": 2,
        "volume": 2,
    }
    assert not [e for e in again if e.kind == "resource_recorded"]  # found, not made again

    # resuming at an extra step with no facts at all: they are rebuilt from the cloud
    ctx3 = make_ctx(demo, cloud, tmp_path, run_id, [], ledger=ctx2.ledger)
    assert await run_cloud(ctx3, backend.steps(), "kubernetes") == Outcome.JOINED
    assert seen[-1]["servers"] == first_servers
    assert seen[-1]["floating_ips"] == seen[0]["floating_ips"]
    assert seen[-1]["security_group_id"] == seen[0]["security_group_id"]
    assert seen[-1]["keypair_path"] == seen[0]["keypair_path"]

    assert await teardown(backend, ctx2) == []
    await backend.aclose()
    await nothing_left("lab-b", run_id)


def _demo_file(path: Path, clouds: dict[str, dict[str, Any]]) -> Path:
    lines = [
        "name: lab",
        "defaults:",
        "  flavor: m1.tiny",
        "  image: fake-raw",
        "  servers: 2",
        "  public_cidrs: [203.0.113.0/24]",
        "clouds:",
    ]
    for name, extra in clouds.items():
        lines.append(f"  - name: {name}")
        lines += [f"    {k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def crossroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=HERE.parents[1],
    )


def test_kill_9_mid_run_then_sweep_yes_leaves_nothing(lab_env: Any, tmp_path: Path) -> None:
    run_id = new_run_id("xrt")
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "lab_run_until_killed.py"), run_id, str(run_dir), "lab-b"],
        cwd=HERE.parents[1],
        env=dict(os.environ, PYTHONPATH=f"{HERE}{os.pathsep}{HERE.parents[1]}"),
    )
    ledger = run_dir / "ledger.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if ledger.exists() and '"resource_type": "server"' in ledger.read_text():
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    demo = _demo_file(tmp_path / "demo.yaml", {"lab-b": {}})
    listed = crossroom("sweep", "--config", str(demo), "--run", run_id)
    assert listed.returncode == 1, listed.stderr
    assert f"{run_id}-lab-b-server-1" in listed.stdout
    assert "run again with --yes" in listed.stdout
    conn = openstack.connect(cloud="lab-b")
    assert by_name(conn, run_id)["server"], "listing must not delete"

    swept = crossroom("sweep", "--config", str(demo), "--run", run_id, "--yes")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert by_name(conn, run_id) == {k: [] for k in KINDS}
    assert crossroom("sweep", "--config", str(demo), "--run", run_id).returncode == 0
    conn.close()


async def test_quota_exceeded_is_one_line_naming_the_quota(lab_env: Any, tmp_path: Path) -> None:
    run_id = new_run_id("xrt")
    cloud = lab_cloud("lab-q", volume_size_gb=0)  # lab-q: a quota of 1 instance
    demo = DemoConfig(name="lab", clouds=(cloud,))
    [row] = await preflight(demo)
    assert not row.ok
    assert row.reason == "quota too small: compute instances: need 2, used 0 of 1"

    events: list[Event] = []
    backend = OpenStackCloud(demo, cloud)
    ctx = make_ctx(demo, cloud, tmp_path, run_id, events)
    try:
        assert await run_cloud(ctx, backend.steps()) == Outcome.FAILED
    finally:
        assert await teardown(backend, ctx) == []
        await backend.aclose()
    [failed] = [e for e in events if isinstance(e, StepFailed)]
    # Nova refuses at the API (403) or, when both creates pass the API check at once, its
    # conductor re-checks and puts the server in ERROR with the same words as its fault
    quota = "quota exceeded: compute instances: requested 1, already used 1 of 1"
    assert (failed.step, failed.error) in {
        ("servers", f"create server 2/2: {quota}"),
        ("boot", f"server {run_id}-lab-q-server-2 went to ERROR: {quota}"),
    }
    await nothing_left("lab-q", run_id)


async def test_wrong_password_is_one_line(
    lab_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-password-7Hq2"
    secure = tmp_path / "secure.yaml"
    secure.write_text(f"clouds:\n  lab-a:\n    auth:\n      password: {wrong}\n")
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(secure))
    cloud = lab_cloud("lab-a")
    demo = DemoConfig(name="lab", clouds=(cloud,))
    events: list[Event] = []
    backend = OpenStackCloud(demo, cloud)
    ctx = make_ctx(demo, cloud, tmp_path, new_run_id("xrt"), events)
    assert await run_cloud(ctx, backend.steps()) == Outcome.FAILED
    [failed] = [e for e in events if isinstance(e, StepFailed)]
    message = "authenticate: bad credentials (identity said 401 Unauthorized)"
    assert (failed.step, failed.error) == ("resolve", message)
    [row] = await preflight(demo)
    assert (row.ok, row.reason) == (False, message)
    await backend.aclose()
    record_events(events, tmp_path / "events.jsonl")
    assert wrong not in (tmp_path / "events.jsonl").read_text()


def test_check_reports_a_missing_image_by_name(lab_env: Any, tmp_path: Path) -> None:
    demo = _demo_file(tmp_path / "demo.yaml", {"lab-a": {}, "lab-b": {"image": "ubuntu-16.04"}})
    began = time.monotonic()
    out = crossroom("check", "--config", str(demo))
    took = time.monotonic() - began
    assert out.returncode == 1, out.stderr
    rows = out.stdout.splitlines()
    assert rows[0].split() == ["lab-a", "ok", "ready:", "2", "x", "m1.tiny,", "image", "fake-raw"]
    assert rows[1].split(None, 2) == [
        "lab-b",
        "problem",
        "not found: image 'ubuntu-16.04' (has: fake-raw)",
    ]
    assert rows[-1] == "1/2 clouds ready"
    good = _demo_file(tmp_path / "good.yaml", {"lab-a": {}, "lab-b": {}})
    assert crossroom("check", "--config", str(good)).returncode == 0
    note(lab_env, f"crossroom check, 2 clouds: {took:.1f}s")


async def test_sweep_touches_nothing_without_our_mark(lab_env: Any, tmp_path: Path) -> None:
    """A look-alike server (our naming, no run metadata) and a plain key pair stay put."""
    conn = openstack.connect(cloud="lab-a")
    stranger_run = new_run_id("xrt")
    flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
    image = find_image(conn, "fake-raw")
    net = conn.network.find_network("private", ignore_missing=False)
    server = conn.compute.create_server(
        name=f"{stranger_run}-lab-a-server-1",
        flavor_id=flavor.id,
        image_id=image.id,
        networks=[{"uuid": net.id}],
    )
    group = conn.network.create_security_group(name=f"{stranger_run}-lab-a-sg")
    try:
        demo = DemoConfig(name="lab", clouds=(lab_cloud("lab-a"),))
        left = await find_leftovers(demo)
        names = [f.name for f in left[0].found]
        assert server.name not in names and group.name not in names
        results = await sweep(demo, left)
        assert all(not r.problems for r in results)
        assert conn.compute.get_server(server.id).id == server.id
        assert conn.network.get_security_group(group.id).id == group.id
    finally:
        conn.compute.delete_server(server.id)
        conn.compute.wait_for_delete(server, wait=120)
        conn.network.delete_security_group(group.id)
        conn.close()
