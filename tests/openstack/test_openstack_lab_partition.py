"""A partition against a real Neutron: the lab's two tenant projects as two clouds.

The rules are read back with a connection of the test's own, never through the code
under test: cutting lab-a off removes exactly the cross-cloud CockroachDB rules (its
group's for lab-b's addresses, lab-b's group's for lab-a's), keeps the venue's, and the
heal puts back exactly those; teardown leaves nothing, partition record included.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import openstack
import pytest
from os_harness import lab_cloud, make_ctx, steps_named
from test_openstack_lab import note, nothing_left, teardown

from engine.config.model import DemoConfig
from engine.events import Event
from engine.ledger import Ledger
from engine.providers.openstack.cloud import OpenStackCloud
from engine.providers.openstack.rules import rule_key
from engine.rundir import new_run_id
from engine.runner import Outcome, run_cloud
from engine.targets import Target

pytestmark = [pytest.mark.slow, pytest.mark.lab, pytest.mark.anyio, pytest.mark.timeout(900)]

Keys = frozenset[tuple[Any, ...]]


def read_keys(cloud: str, group_id: str) -> Keys:
    """The group's ingress rules as Neutron lists them now, by what they admit."""
    conn = openstack.connect(cloud=cloud)
    try:
        rules = conn.network.get_security_group(group_id).security_group_rules
    finally:
        conn.close()
    return frozenset(rule_key(dict(r), group_id) for r in rules if r["direction"] == "ingress")


async def until_keys(cloud: str, group_id: str, want: Any) -> Keys:
    """Poll (bounded) until ``want(keys)`` holds; return the last keys read."""
    keys = await anyio.to_thread.run_sync(read_keys, cloud, group_id)
    for _ in range(60):
        if want(keys):
            break
        await anyio.sleep(1)
        keys = await anyio.to_thread.run_sync(read_keys, cloud, group_id)
    return keys


def peer_rules_for(keys: Keys, addresses: list[str]) -> Keys:
    cidrs = {f"{a}/32" for a in addresses}
    return frozenset(k for k in keys if k[4] in cidrs)


async def test_partition_cuts_both_sides_keeps_the_venue_and_heals_exactly(
    lab_env: Any, tmp_path: Any
) -> None:
    run_id = new_run_id("xrp")
    clouds = (lab_cloud("lab-a"), lab_cloud("lab-b"))
    demo = DemoConfig(name="lab", clouds=clouds)
    events: list[Event] = []
    ledger = Ledger(tmp_path / "ledger.jsonl")
    backends = {c.name: OpenStackCloud(demo, c) for c in clouds}
    ctxs = {c.name: make_ctx(demo, c, tmp_path, run_id, events, ledger=ledger) for c in clouds}
    names = ("resolve", "keypair", "security_group", "floating_ips")
    try:
        async with anyio.create_task_group() as tg:
            for c in clouds:  # what the room runs beside the plans for the whole show
                tg.start_soon(backends[c.name].watch, ctxs[c.name])
            outcomes = {}
            for c in clouds:
                steps = steps_named(backends[c.name].steps(), *names)
                outcomes[c.name] = await run_cloud(ctxs[c.name], steps)
            assert set(outcomes.values()) == {Outcome.JOINED}, events[-5:]
            ips = {n: list(ctx.facts["floating_ips"]) for n, ctx in ctxs.items()}
            groups = {n: str(ctx.facts["security_group_id"]) for n, ctx in ctxs.items()}
            a_ips, b_ips = ips["lab-a"], ips["lab-b"]

            # both groups hold the other cloud's addresses on 26257 and 8080 first
            whole = {
                "lab-a": await until_keys(
                    "lab-a", groups["lab-a"], lambda k: len(peer_rules_for(k, b_ips)) == 4
                ),
                "lab-b": await until_keys(
                    "lab-b", groups["lab-b"], lambda k: len(peer_rules_for(k, a_ips)) == 4
                ),
            }
            assert len(peer_rules_for(whole["lab-a"], b_ips)) == 4
            assert len(peer_rules_for(whole["lab-b"], a_ips)) == 4

            began = time.monotonic()
            hit = await backends["lab-a"].kill(Target("lab-a", "partition"), ctxs["lab-a"])
            own_s = time.monotonic() - began
            assert hit == ("lab-a/node-1", "lab-a/node-2")
            assert [r.resource_id for r in ledger.live() if r.resource_type == "partition"] == [
                "lab-a"
            ]
            cut = {
                "lab-a": await until_keys(
                    "lab-a", groups["lab-a"], lambda k: not peer_rules_for(k, b_ips)
                ),
                "lab-b": await until_keys(
                    "lab-b", groups["lab-b"], lambda k: not peer_rules_for(k, a_ips)
                ),
            }
            both_s = time.monotonic() - began
            # exactly the cross-cloud rules went, on both sides; the venue's stayed
            assert whole["lab-a"] - cut["lab-a"] == peer_rules_for(whole["lab-a"], b_ips)
            assert whole["lab-b"] - cut["lab-b"] == peer_rules_for(whole["lab-b"], a_ips)
            assert cut["lab-a"] <= whole["lab-a"] and cut["lab-b"] <= whole["lab-b"]
            for keys in cut.values():
                assert ("IPv4", "tcp", 26257, 26257, "203.0.113.0/24") in keys
                assert ("IPv4", "tcp", 8080, 8080, "203.0.113.0/24") in keys

            # the watches keep the cut for as long as it holds (two of their rounds)
            await anyio.sleep(5)
            assert (
                await anyio.to_thread.run_sync(read_keys, "lab-a", groups["lab-a"])
                == (cut["lab-a"])
            )
            assert (
                await anyio.to_thread.run_sync(read_keys, "lab-b", groups["lab-b"])
                == (cut["lab-b"])
            )

            began = time.monotonic()
            await backends["lab-a"].revive(Target("lab-a", "partition"), ctxs["lab-a"])
            healed = {
                n: await until_keys(n, groups[n], lambda k, n=n: k == whole[n]) for n in groups
            }
            heal_s = time.monotonic() - began
            note(
                lab_env,
                f"partition lab-a: own group cut in {own_s:.1f}s, both groups (read back) in "
                f"{both_s:.1f}s; heal of both read back in {heal_s:.1f}s",
            )
            assert healed == whole
            assert [r for r in ledger.live() if r.resource_type == "partition"] == []

            # cut again, and leave it to teardown
            await backends["lab-a"].kill(Target("lab-a", "partition"), ctxs["lab-a"])
            await until_keys("lab-b", groups["lab-b"], lambda k: not peer_rules_for(k, a_ips))
            tg.cancel_scope.cancel()
    finally:
        torn = {n: await teardown(backends[n], ctxs[n]) for n in ("lab-a", "lab-b")}
        for b in backends.values():
            await b.aclose()
    assert torn == {"lab-a": [], "lab-b": []}
    assert ledger.live() == []
    for c in clouds:
        await nothing_left(c.name, run_id)
