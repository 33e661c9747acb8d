"""The security group the show needs, derived from its flows, and a check of what a group allows.

The flows (``required_flows``):

- inside a cloud, from members of the same group: k3s agent -> server 6443, kubelet 10250,
  flannel VXLAN 8472/udp (k3s runs on the fixed IPs, so these never leave the network);
- between clouds: CockroachDB 26257 (gRPC between nodes) and 8080 (health probes), from
  each other cloud's floating IPs as /32 rules (a VM's outgoing traffic leaves with its
  floating IP as the source address);
- from ``public_cidrs`` (the venue, the jump host): SSH 22, Kubernetes API 6443, SQL 26257,
  probes 8080.

Nothing else is opened. Pure data and pure functions, so the plan, the preflight quota
count, ``crossroom check`` and the tests agree on the same list.

A partition (``CLOUD/partition``) is one more input: while a cloud is cut off, its group
admits no other cloud's addresses and no other group admits its addresses, on the peer
ports alone; the ``public_cidrs`` rules stay, so the venue's monitor still sees both
sides. ``plan_rules`` derives the whole group from (fleet, partitioned clouds), so a
partition, its heal and the convergence that follows the fleet are one computation, and
healing restores exactly the rules the partition removed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.config.model import CloudConfig

PUBLIC_PORTS: tuple[tuple[str, int, str], ...] = (
    ("tcp", 22, "ssh"),
    ("tcp", 6443, "Kubernetes API"),
    ("tcp", 26257, "CockroachDB SQL"),
    ("tcp", 8080, "CockroachDB probes"),
)
GROUP_PORTS: tuple[tuple[str, int, str], ...] = (
    ("tcp", 6443, "k3s agent to server"),
    ("tcp", 10250, "kubelet"),
    ("udp", 8472, "flannel VXLAN"),
)
PEER_PORTS: tuple[tuple[str, int, str], ...] = (
    ("tcp", 26257, "CockroachDB between clouds"),
    ("tcp", 8080, "CockroachDB probes between clouds"),
)
DEFAULT_EGRESS_RULES = 2
"""Neutron gives every new group an IPv4 and an IPv6 allow-all egress rule (quota counts them)."""

Key = tuple[str, str, int | None, int | None, str | None]
"""(ethertype, protocol, port min, port max, remote CIDR or ``None`` for the group itself)."""


def _ethertype(cidr: str | None) -> str:
    return "IPv6" if cidr and ":" in cidr else "IPv4"


def host_cidr(address: str) -> str:
    """A single address as a CIDR (/32 or /128)."""
    return str(ipaddress.ip_network(address))


@dataclass(frozen=True)
class SecurityGroupRule:
    """One ingress rule; ``remote_cidr`` or (when ``None``) the group itself as the source."""

    protocol: str
    port: int
    remote_cidr: str | None
    why: str

    @property
    def ethertype(self) -> str:
        return _ethertype(self.remote_cidr)

    def neutron_attrs(self, group_id: str) -> dict[str, Any]:
        """Body for ``create_security_group_rule``."""
        attrs: dict[str, Any] = {
            "security_group_id": group_id,
            "direction": "ingress",
            "ethertype": self.ethertype,
            "protocol": self.protocol,
            "port_range_min": self.port,
            "port_range_max": self.port,
            "description": self.why,
        }
        if self.remote_cidr is None:
            attrs["remote_group_id"] = group_id
        else:
            attrs["remote_ip_prefix"] = self.remote_cidr
        return attrs

    def key(self) -> Key:
        """What makes two rules the same, for finding the ones already in the group."""
        return (self.ethertype, self.protocol, self.port, self.port, self.remote_cidr)


def _normal_cidr(prefix: str) -> str:
    """Neutron may echo ``1.2.3.4`` or ``1.2.3.4/32``; compare networks, not strings."""
    return str(ipaddress.ip_network(prefix, strict=False))


def rule_key(rule: Mapping[str, Any], group_id: str) -> Key:
    """The ``key()`` of a rule as Neutron returns it."""
    remote = rule.get("remote_ip_prefix")
    if rule.get("remote_group_id") == group_id and not remote:
        cidr = None
    else:
        cidr = _normal_cidr(str(remote)) if remote else "any"
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    return (
        str(rule.get("ethertype")),
        str(rule.get("protocol")),
        int(low) if low is not None else None,
        int(high) if high is not None else None,
        cidr,
    )


def base_rules(cloud: CloudConfig) -> tuple[SecurityGroupRule, ...]:
    """The rules that depend on this cloud alone: public ports, then the group's own."""
    rules = [
        SecurityGroupRule(proto, port, _normal_cidr(cidr), why)
        for cidr in cloud.public_cidrs
        for proto, port, why in PUBLIC_PORTS
    ]
    rules += [SecurityGroupRule(proto, port, None, why) for proto, port, why in GROUP_PORTS]
    return tuple(rules)


def peer_rules(peer_addresses: Iterable[str]) -> tuple[SecurityGroupRule, ...]:
    """/32 rules for CockroachDB from the other clouds' floating IPs."""
    return tuple(
        SecurityGroupRule(proto, port, host_cidr(address), why)
        for address in sorted(set(peer_addresses), key=ipaddress.ip_address)
        for proto, port, why in PEER_PORTS
    )


def demo_rules(
    cloud: CloudConfig, peer_addresses: Iterable[str] = ()
) -> tuple[SecurityGroupRule, ...]:
    """Every ingress rule this cloud's group must hold, in a stable order."""
    return base_rules(cloud) + peer_rules(peer_addresses)


def peer_addresses(fleet: Mapping[str, Sequence[str]], cloud: str) -> list[str]:
    """The floating IPs of every cloud but ``cloud``; ``fleet`` maps cloud -> its IPs."""
    return sorted({a for name, ips in fleet.items() if name != cloud for a in ips})


def admitted_peers(
    fleet: Mapping[str, Sequence[str]], cloud: str, partitioned: Collection[str] = ()
) -> list[str]:
    """The other clouds' floating IPs ``cloud``'s group admits on the peer ports: none while
    ``cloud`` itself is cut off, and never the addresses of a cloud that is cut off."""
    if cloud in partitioned:
        return []
    kept = {name: ips for name, ips in fleet.items() if name not in partitioned}
    return peer_addresses(kept, cloud)


@dataclass(frozen=True)
class RulePlan:
    """What to change in one group: rules to add, and Neutron's rules (with ``id``) to delete."""

    wanted: tuple[SecurityGroupRule, ...]
    add: tuple[SecurityGroupRule, ...]
    remove: tuple[Mapping[str, Any], ...]


def plan_rules(
    cloud: CloudConfig,
    group_id: str,
    have: Sequence[Mapping[str, Any]],
    fleet: Mapping[str, Sequence[str]],
    partitioned: Collection[str] = (),
) -> RulePlan:
    """The changes that make ``cloud``'s group hold exactly what the show needs now.

    ``have`` is the group's ingress rules as Neutron lists them; a rule that is wanted and
    present is kept, a wanted one missing is added, any other ingress rule is removed.
    """
    wanted = demo_rules(cloud, admitted_peers(fleet, cloud.name, partitioned))
    keys = {r.key() for r in wanted}
    have_keys = {
        rule_key(r, group_id): r for r in have if r.get("direction", "ingress") == "ingress"
    }
    add = tuple(r for r in wanted if r.key() not in have_keys)
    remove = tuple(r for k, r in have_keys.items() if k not in keys)
    return RulePlan(wanted=wanted, add=add, remove=remove)


def partition_leaks(
    clouds: Sequence[CloudConfig], fleet: Mapping[str, Sequence[str]], cut: str
) -> list[str]:
    """Why cutting ``cut`` off cannot be complete: a ``public_cidrs`` range (the venue's
    rules, which a partition keeps) that admits an address from the other side."""
    leaks: list[str] = []
    for c in clouds:
        sources = [
            a for name, ips in fleet.items() if (name == cut) != (c.name == cut) for a in ips
        ]
        for cidr in c.public_cidrs:
            net = ipaddress.ip_network(cidr, strict=False)
            inside = [a for a in sources if ipaddress.ip_address(a) in net]
            if inside:
                leaks.append(
                    f"{c.name}: public_cidrs {cidr} admits {', '.join(sorted(inside))} "
                    "on the CockroachDB ports; the partition cannot cut that"
                )
    return leaks


def rule_count(cloud: CloudConfig, peers: int) -> int:
    """Rules the group will hold with ``peers`` floating IPs elsewhere (for the quota)."""
    return len(base_rules(cloud)) + peers * len(PEER_PORTS) + DEFAULT_EGRESS_RULES


def open_to_world(cloud: CloudConfig) -> bool:
    """True when the public rules admit anyone."""
    return any(ipaddress.ip_network(c, strict=False).prefixlen == 0 for c in cloud.public_cidrs)


def world_warning(cloud: CloudConfig, secure: bool) -> str | None:
    """The warning a presenter should see about ``public_cidrs``, or ``None``."""
    if not open_to_world(cloud):
        return None
    db = "a CockroachDB with certificates" if secure else "an insecure CockroachDB (no auth)"
    return (
        f"{cloud.name}: ssh, the Kubernetes API and {db} are open to the whole internet "
        "(public_cidrs has a /0); set public_cidrs to your venue's address range"
    )


# --- reachability: what the rules read back from a cloud allow --------------------------------


@dataclass(frozen=True)
class Flow:
    """One flow the show needs into a cloud's group: ``source`` is a CIDR or ``"group"``."""

    protocol: str
    port: int
    source: str
    why: str

    def text(self) -> str:
        src = "own group" if self.source == "group" else self.source
        return f"{self.protocol}/{self.port} from {src} ({self.why})"


@dataclass(frozen=True)
class FlowVerdict:
    flow: Flow
    allowed: bool


@dataclass(frozen=True)
class Reachability:
    """Flow by flow, whether each required flow is allowed, and every rule that opens more."""

    cloud: str
    verdicts: tuple[FlowVerdict, ...]
    extra: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return all(v.allowed for v in self.verdicts) and not self.extra

    def lines(self) -> list[str]:
        out = [f"{'ok     ' if v.allowed else 'BLOCKED'} {v.flow.text()}" for v in self.verdicts]
        out += [f"EXTRA   {e}" for e in self.extra]
        return out

    def summary(self) -> str:
        blocked = [v.flow.text() for v in self.verdicts if not v.allowed]
        parts = []
        if blocked:
            parts.append(f"{len(blocked)} flow(s) blocked: " + "; ".join(blocked))
        if self.extra:
            parts.append(f"{len(self.extra)} rule(s) open more: " + "; ".join(self.extra))
        if not parts:
            return f"{len(self.verdicts)} flows allowed, nothing more open"
        return "; ".join(parts)


def required_flows(cloud: CloudConfig, peer_addresses: Iterable[str]) -> tuple[Flow, ...]:
    """Every flow into ``cloud``'s group the show needs (see the module docstring)."""
    flows = [Flow(p, port, "group", why) for p, port, why in GROUP_PORTS]
    flows += [
        Flow(p, port, _normal_cidr(cidr), why)
        for cidr in cloud.public_cidrs
        for p, port, why in PUBLIC_PORTS
    ]
    flows += [
        Flow(p, port, host_cidr(a), why)
        for a in sorted(set(peer_addresses), key=ipaddress.ip_address)
        for p, port, why in PEER_PORTS
    ]
    return tuple(flows)


def _rule_source(rule: Mapping[str, Any], group_id: str) -> str | None:
    """``"group"``, a CIDR, or ``None`` for a source we never allow (another group)."""
    prefix = rule.get("remote_ip_prefix")
    if prefix:
        return _normal_cidr(str(prefix))
    if rule.get("remote_group_id") == group_id:
        return "group"
    if rule.get("remote_group_id") or rule.get("remote_address_group_id"):
        return None
    return "::/0" if rule.get("ethertype") == "IPv6" else "0.0.0.0/0"


def _covers(outer: str, inner: str) -> bool:
    """Does source ``outer`` admit everything of source ``inner``?"""
    if outer == "group" or inner == "group":
        return outer == inner
    a, b = ipaddress.ip_network(outer), ipaddress.ip_network(inner)
    return a.version == b.version and b.subnet_of(a)  # type: ignore[arg-type]


def _ports(rule: Mapping[str, Any]) -> tuple[int, int]:
    given = [
        int(p) for p in (rule.get("port_range_min"), rule.get("port_range_max")) if p is not None
    ]
    if not given:
        return (0, 65535)
    return (given[0], given[-1])


def _protocol_matches(rule: Mapping[str, Any], protocol: str) -> bool:
    proto = rule.get("protocol")
    return proto in (None, "", "any") or str(proto) == protocol


def _allows(rule: Mapping[str, Any], group_id: str, flow: Flow) -> bool:
    src = _rule_source(rule, group_id)
    if src is None or not _protocol_matches(rule, flow.protocol):
        return False
    low, high = _ports(rule)
    return low <= flow.port <= high and _covers(src, flow.source)


def _describe(rule: Mapping[str, Any], group_id: str) -> str:
    proto = rule.get("protocol") or "any protocol"
    low, high = _ports(rule)
    ports = (
        "all ports" if (low, high) == (0, 65535) else f"{low}" if low == high else f"{low}-{high}"
    )
    src = _rule_source(rule, group_id) or f"group {rule.get('remote_group_id')}"
    return f"{proto}/{ports} from {'own group' if src == 'group' else src}"


def _within(rule: Mapping[str, Any], group_id: str, flows: Sequence[Flow]) -> bool:
    """True when everything the rule admits is one of the required flows."""
    src = _rule_source(rule, group_id)
    proto = rule.get("protocol")
    if src is None or proto in (None, "", "any"):
        return False
    low, high = _ports(rule)
    if low != high:
        return False
    return any(f.protocol == str(proto) and f.port == low and _covers(f.source, src) for f in flows)


def reachability(
    cloud: CloudConfig,
    group_id: str,
    rules: Sequence[Mapping[str, Any]],
    peer_addresses: Iterable[str],
) -> Reachability:
    """Judge a group's rules, as read back from Neutron, against the flows the show needs.

    Only ingress matters (Neutron's default egress is allow-all and we never narrow it).
    A rule opens "more" when some traffic it admits is not a required flow: a port range,
    any protocol, a wider source, another group as the source.
    """
    flows = required_flows(cloud, peer_addresses)
    ingress = [r for r in rules if r.get("direction", "ingress") == "ingress"]
    verdicts = tuple(FlowVerdict(f, any(_allows(r, group_id, f) for r in ingress)) for f in flows)
    extra = tuple(_describe(r, group_id) for r in ingress if not _within(r, group_id, flows))
    return Reachability(cloud.name, verdicts, extra)
