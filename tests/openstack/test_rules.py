"""The security group's flows and the reachability check, as pure functions.

Rules are written the way Neutron's API returns them (``GET /v2.0/security-groups/{id}``,
neutron/db/securitygroups_db.py ``_make_security_group_rule_dict``): every key present,
``None`` where unset, prefixes sometimes without their length.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.config.model import CloudConfig
from engine.providers.openstack.rules import (
    admitted_peers,
    demo_rules,
    partition_leaks,
    peer_addresses,
    plan_rules,
    reachability,
    rule_count,
    world_warning,
)

GROUP = "5c1e3f0a-9a7b-4d55-8a1e-2f9c8b7d6e01"
VENUE = "203.0.113.0/24"
PEERS = ["198.51.100.21", "198.51.100.22", "192.0.2.200"]
CLOUD = CloudConfig(name="vexx", label="Vexx", public_cidrs=(VENUE,))


def neutron(rule: Any, group: str = GROUP) -> dict[str, Any]:
    """A rule as Neutron lists it: every key, None where unset."""
    body = rule.neutron_attrs(group) if not isinstance(rule, dict) else rule
    return {
        "id": "r-" + str(abs(hash(str(body))))[:8],
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": None,
        "port_range_min": None,
        "port_range_max": None,
        "remote_ip_prefix": None,
        "remote_group_id": None,
        "remote_address_group_id": None,
        "security_group_id": group,
        "description": "",
        **{k: v for k, v in body.items() if k != "security_group_id"},
    }


def good_rules() -> list[dict[str, Any]]:
    egress = [
        neutron({"direction": "egress", "ethertype": "IPv4"}),
        neutron({"direction": "egress", "ethertype": "IPv6"}),
    ]
    return [neutron(r) for r in demo_rules(CLOUD, PEERS)] + egress


def test_the_groups_rules_are_exactly_the_flows() -> None:
    rules = demo_rules(CLOUD, PEERS)
    as_text = {(r.protocol, r.port, r.remote_cidr) for r in rules}
    assert as_text == {
        ("tcp", 22, VENUE),
        ("tcp", 6443, VENUE),
        ("tcp", 26257, VENUE),
        ("tcp", 8080, VENUE),
        ("tcp", 6443, None),
        ("tcp", 10250, None),
        ("udp", 8472, None),
        *{("tcp", p, f"{a}/32") for a in PEERS for p in (26257, 8080)},
    }
    assert len(rules) == len(as_text)
    assert rule_count(CLOUD, len(PEERS)) == len(rules) + 2  # Neutron's two egress rules


def test_peers_are_every_other_clouds_floating_ips() -> None:
    fleet = {"vexx": ["198.51.100.9"], "city": PEERS[:2], "lab": [PEERS[2]]}
    assert peer_addresses(fleet, "vexx") == sorted(PEERS)
    assert "198.51.100.9" in peer_addresses(fleet, "city")


def test_a_group_made_from_the_flows_allows_each_and_nothing_more() -> None:
    result = reachability(CLOUD, GROUP, good_rules(), PEERS)
    assert result.ok, result.lines()
    assert len(result.verdicts) == 3 + 4 + 2 * len(PEERS)
    assert result.summary() == "13 flows allowed, nothing more open"


# (what is wrong, rules to drop by (protocol, port, remote), rules to add, blocked, extra)
CASES: list[
    tuple[str, set[tuple[str, int, str | None]], list[dict[str, Any]], list[str], list[str]]
] = [
    (
        "old code: CockroachDB only from public_cidrs, no agent rule",
        {("tcp", 6443, None)} | {("tcp", p, f"{a}/32") for a in PEERS for p in (26257, 8080)},
        [],
        ["tcp/6443 from own group (k3s agent to server)"]
        + [f"tcp/{p} from {a}/32" for a in PEERS for p in (26257, 8080)],
        [],
    ),
    (
        "a peer that joined late is missing",
        {("tcp", 26257, "192.0.2.200/32")},
        [],
        ["tcp/26257 from 192.0.2.200/32 (CockroachDB between clouds)"],
        [],
    ),
    (
        "26257 open to the world",
        set(),
        [
            {
                "protocol": "tcp",
                "port_range_min": 26257,
                "port_range_max": 26257,
                "remote_ip_prefix": "0.0.0.0/0",
            }
        ],
        [],
        ["tcp/26257 from 0.0.0.0/0"],
    ),
    (
        "a port range instead of one port",
        {("tcp", 8080, VENUE)},
        [
            {
                "protocol": "tcp",
                "port_range_min": 8000,
                "port_range_max": 8100,
                "remote_ip_prefix": VENUE,
            }
        ],
        [],
        [f"tcp/8000-8100 from {VENUE}"],
    ),
    (
        "any protocol from the own group (allows the flows, opens more)",
        {("tcp", 10250, None), ("udp", 8472, None), ("tcp", 6443, None)},
        [{"remote_group_id": GROUP}],
        [],
        ["any protocol/all ports from own group"],
    ),
    (
        "ping and a stale peer, IPv6 everything",
        set(),
        [
            {"protocol": "icmp", "remote_ip_prefix": VENUE},
            {
                "protocol": "tcp",
                "port_range_min": 26257,
                "port_range_max": 26257,
                "remote_ip_prefix": "198.51.100.99",
            },
            {"ethertype": "IPv6"},
        ],
        [],
        [
            f"icmp/all ports from {VENUE}",
            "tcp/26257 from 198.51.100.99/32",
            "any protocol/all ports from ::/0",
        ],
    ),
    (
        "SSH from a wider range than the venue",
        {("tcp", 22, VENUE)},
        [
            {
                "protocol": "tcp",
                "port_range_min": 22,
                "port_range_max": 22,
                "remote_ip_prefix": "203.0.0.0/16",
            }
        ],
        [],
        ["tcp/22 from 203.0.0.0/16"],
    ),
    (
        "kubelet from another group",
        {("tcp", 10250, None)},
        [
            {
                "protocol": "tcp",
                "port_range_min": 10250,
                "port_range_max": 10250,
                "remote_group_id": "other-group",
            }
        ],
        ["tcp/10250 from own group (kubelet)"],
        ["tcp/10250 from group other-group"],
    ),
]


@pytest.mark.parametrize(
    ("why", "drop", "add", "blocked", "extra"), CASES, ids=[c[0] for c in CASES]
)
def test_reachability_says_flow_by_flow_what_is_wrong(
    why: str,
    drop: set[tuple[str, int, str | None]],
    add: list[dict[str, Any]],
    blocked: list[str],
    extra: list[str],
) -> None:
    rules = [
        r
        for r in good_rules()
        if (
            r["protocol"],
            r["port_range_min"],
            None if r["remote_group_id"] else r["remote_ip_prefix"],
        )
        not in drop
    ]
    rules += [neutron(a) for a in add]
    result = reachability(CLOUD, GROUP, rules, PEERS)
    got_blocked = [v.flow.text() for v in result.verdicts if not v.allowed]
    assert [b for b in got_blocked if not any(b.startswith(x) for x in blocked)] == []
    assert all(any(g.startswith(b) for g in got_blocked) for b in blocked), got_blocked
    assert list(result.extra) == extra
    assert not result.ok


def test_a_prefix_without_length_is_the_same_host() -> None:
    rules = good_rules()
    for r in rules:
        if r["remote_ip_prefix"] == f"{PEERS[0]}/32":
            r["remote_ip_prefix"] = PEERS[0]
    assert reachability(CLOUD, GROUP, rules, PEERS).ok


def test_the_world_warning_names_what_is_open() -> None:
    assert world_warning(CLOUD, secure=False) is None
    world = CloudConfig(name="city", label="City", public_cidrs=("0.0.0.0/0",))
    insecure = world_warning(world, secure=False)
    assert insecure is not None and "insecure CockroachDB" in insecure
    secure = world_warning(world, secure=True)
    assert secure is not None and "certificates" in secure and "ssh" in secure
    assert world_warning(CloudConfig(name="v6", label="x", public_cidrs=("::/0",)), False)


# --- partition: the same plan, with cut-off clouds as one more input -------------------------

FLEET = {"vexx": ["198.51.100.9"], "city": PEERS[:2], "lab": [PEERS[2]]}


@pytest.mark.parametrize(
    ("cloud", "cut", "admitted"),
    [
        ("vexx", set(), sorted(PEERS)),
        ("vexx", {"vexx"}, []),  # the cut cloud admits nobody
        ("vexx", {"city"}, [PEERS[2]]),  # nobody admits the cut cloud
        ("city", {"vexx"}, [PEERS[2]]),
        ("city", {"vexx", "lab"}, []),
        ("lab", {"nowhere"}, sorted(["198.51.100.9", *PEERS[:2]])),
    ],
)
def test_a_group_admits_no_address_across_a_partition(
    cloud: str, cut: set[str], admitted: list[str]
) -> None:
    assert admitted_peers(FLEET, cloud, cut) == admitted


def peer_keys(rules: Any) -> set[tuple[str, int, str]]:
    return {
        (r["remote_ip_prefix"], r["port_range_min"], r["protocol"])
        if isinstance(r, dict)
        else (r.remote_cidr, r.port, r.protocol)
        for r in rules
    }


@pytest.mark.parametrize(("cloud", "cut"), [("vexx", "vexx"), ("vexx", "city"), ("city", "vexx")])
def test_partition_removes_only_peer_rules_and_heal_adds_back_exactly_those(
    cloud: str, cut: str
) -> None:
    config = CloudConfig(name=cloud, label=cloud, public_cidrs=(VENUE,))
    whole = [neutron(r) for r in demo_rules(config, peer_addresses(FLEET, cloud))]
    assert plan_rules(config, GROUP, whole, FLEET).add == ()
    assert plan_rules(config, GROUP, whole, FLEET).remove == ()

    split = plan_rules(config, GROUP, whole, FLEET, {cut})
    assert split.add == ()
    gone = peer_keys(split.remove)
    lost = set(FLEET) - {cloud} if cloud == cut else {cut}
    assert gone == {(f"{a}/32", p, "tcp") for c in lost for a in FLEET[c] for p in (26257, 8080)}
    # the venue and the group's own rules stay, so the monitor still sees both sides
    kept = [r for r in whole if r not in split.remove]
    assert {(r["remote_ip_prefix"], r["port_range_min"]) for r in kept} >= {
        (VENUE, 26257),
        (VENUE, 8080),
        (VENUE, 22),
        (None, 6443),
    }

    healed = plan_rules(config, GROUP, kept, FLEET)
    assert healed.remove == ()
    assert peer_keys(healed.add) == gone
    # while the partition holds, the group's own convergence keeps it (never undoes it)
    assert plan_rules(config, GROUP, kept, FLEET, {cut}).add == ()
    assert plan_rules(config, GROUP, kept, FLEET, {cut}).remove == ()


def test_a_rule_we_did_not_make_is_removed_and_egress_is_never_touched() -> None:
    odd = neutron(
        {
            "protocol": "tcp",
            "port_range_min": 1,
            "port_range_max": 65535,
            "remote_ip_prefix": "0.0.0.0/0",
        }
    )
    egress = neutron({"direction": "egress", "ethertype": "IPv4"})
    whole = [neutron(r) for r in demo_rules(CLOUD, peer_addresses(FLEET, "vexx"))]
    plan = plan_rules(CLOUD, GROUP, [*whole, odd, egress], FLEET, {"vexx"})
    assert odd in plan.remove and egress not in plan.remove


def test_a_venue_range_that_covers_the_other_side_is_named() -> None:
    wide = CloudConfig(name="city", label="City", public_cidrs=("198.51.100.0/24",))
    clouds = [CLOUD, wide, CloudConfig(name="lab", label="Lab", public_cidrs=(VENUE,))]
    assert partition_leaks(clouds, FLEET, "lab") == []
    (leak,) = partition_leaks(clouds, FLEET, "vexx")
    assert leak.startswith("city: public_cidrs 198.51.100.0/24 admits 198.51.100.9")
