"""Hand-made event lists for the screen's tests: a show frozen at chosen moments.

Built from the final event dataclasses only, so snapshots do not move when the
rehearsal fleet's timings change; every time is fixed, every string is chosen.
"""

from __future__ import annotations

from engine import events as ev
from engine.plan import STEPS
from engine.sim.fleet import REHEARSAL_CLOUDS

WALL0 = 1_800_000_000.0
"""A fixed Unix time for ``wall`` stamps (the header clock is frozen separately)."""


def fleet_names(n: int) -> list[tuple[str, str, str]]:
    """Slug, label and region of ``n`` clouds: the 2017 fifteen, then numbered extras."""
    out = [(slug, label, region) for slug, label, region, _slow in REHEARSAL_CLOUDS[:n]]
    out += [(f"cloud{i:03d}", f"Cloud {i}", f"Region {i % 7}") for i in range(len(out) + 1, n + 1)]
    return out


def run_started(n: int = 15, nodes: int = 3) -> ev.RunStarted:
    clouds = tuple(
        ev.CloudInfo(
            name=slug, label=label, region=region, provider="sim", nodes=nodes, steps=STEPS
        )
        for slug, label, region in fleet_names(n)
    )
    return ev.RunStarted(
        run_id="xr-20261127-051200-a1b2",
        demo="OpenStack Interop Challenge (rehearsal)",
        simulated=True,
        speed=5.0,
        seed=7,
        clouds=clouds,
        run_dir="/tmp/crossroom/runs/xr-20261127-051200-a1b2",
        t=0.0,
        wall=WALL0,
    )


def _cloud_to_step(cloud: str, upto: int, t0: float, step_s: float) -> list[ev.Event]:
    """``cloud`` started at ``t0`` and finished ``upto`` steps of ``step_s`` each."""
    out: list[ev.Event] = [ev.CloudStarted(cloud=cloud, t=t0)]
    t = t0
    for step in STEPS[:upto]:
        out.append(ev.StepStarted(cloud=cloud, step=step, t=t))
        out.append(ev.LogLines(cloud=cloud, lines=(f"{step}: working",), t=t + 0.1))
        t += step_s
        out.append(ev.StepFinished(cloud=cloud, step=step, duration_s=step_s, t=t))
    return out


def _join_nodes(cloud: str, t: float, first_id: int, count: int = 3) -> list[ev.Event]:
    return [
        ev.NodeObserved(
            node=f"{cloud}/node-{i}",
            cloud=cloud,
            liveness="live",
            node_id=first_id + i,
            address=f"10.0.{first_id}.{i}:26257",
            t=t,
        )
        for i in range(1, count + 1)
    ]


def mid_show(n: int = 15, nodes: int = 3) -> list[ev.Event]:
    """About two minutes in: most clouds joined, some running, one failed (one in 23 past
    the fifteenth), one kill."""
    start = run_started(n, nodes)
    names = [c.name for c in start.clouds]
    events: list[ev.Event] = [start]
    now = 130.0
    for i, cloud in enumerate(names):
        t0 = 1.0 + i * 0.2
        pace = 6.0 + (i * 7) % 9
        if i % 5 == 4:  # still running: somewhere in the middle of its plan
            upto = 3 + i % 4
            events += _cloud_to_step(cloud, upto, t0, pace)
            step = STEPS[upto]
            started = t0 + upto * pace
            events.append(ev.StepStarted(cloud=cloud, step=step, t=started))
            events.append(
                ev.StepProgress(cloud=cloud, step=step, message="2 of 3 ready", done=2, total=3)
            )
            events.append(
                ev.LogLines(
                    cloud=cloud,
                    lines=(
                        f"GET /v2.1/servers/{cloud}-server-1 -> ACTIVE",
                        f"GET /v2.1/servers/{cloud}-server-2 -> ACTIVE",
                        f"GET /v2.1/servers/{cloud}-server-3 -> BUILD (retry in 2s)",
                    ),
                    t=started + 1,
                )
            )
        elif i == 10 or (i > 15 and i % 23 == 0):  # failed at security_group
            events += _cloud_to_step(cloud, 2, t0, pace)
            events.append(ev.StepStarted(cloud=cloud, step="security_group", t=t0 + 2 * pace))
            events.append(
                ev.LogLines(
                    cloud=cloud,
                    lines=("POST /v2.0/security-group-rules -> 403 quota exceeded",),
                    level="error",
                    t=t0 + 2 * pace + 3,
                )
            )
            events.append(
                ev.StepFailed(
                    cloud=cloud,
                    step="security_group",
                    error="quota exceeded: security_group_rule",
                    duration_s=3.0,
                    t=t0 + 2 * pace + 3,
                )
            )
        else:
            events += _cloud_to_step(cloud, len(STEPS), t0, pace)
            joined_t = t0 + len(STEPS) * pace
            events += _join_nodes(cloud, joined_t - 1, i * nodes, nodes)
            events.append(ev.CloudJoined(cloud=cloud, time_to_join_s=joined_t - t0, t=joined_t))
    for k in range(60):
        events.append(
            ev.WorkloadSample(
                ops_per_s=900 + 40 * (k % 7) + 3 * k,
                errors_total=2,
                p50_ms=1.8,
                p95_ms=6.5,
                p99_ms=14.2,
                max_ms=40.0,
                t=70.0 + k,
            )
        )
    events.append(
        ev.ClusterHealthObserved(
            ranges=600, under_replicated=37, unavailable=0, replicas=1800, t=120.0
        )
    )
    events.append(
        ev.KillIssued(
            target=f"{names[0]}/node-2", target_kind="node", nodes=(f"{names[0]}/node-2",), t=125.0
        )
    )
    events.append(
        ev.NodeObserved(
            node=f"{names[0]}/node-2", cloud=names[0], liveness="suspect", node_id=2, t=128.0
        )
    )
    if n > 13:
        events.append(
            ev.KillIssued(
                target=f"{names[13]}/node-3",
                target_kind="node",
                nodes=(f"{names[13]}/node-3",),
                t=129.7,
            )
        )
    events.append(ev.MonitorStatus(state="connected", address="10.0.0.1:26257", t=now))
    events.append(ev.Notice(level="warning", message="t2cloud: quota exceeded; r retries", t=now))
    return sorted(events, key=lambda e: e.t)
