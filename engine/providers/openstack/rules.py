"""The security group the demo needs: the 2017 interop set, adapted to k3s and CockroachDB.

Public ports (ssh, Kubernetes API, CockroachDB SQL/gRPC and its admin UI, ICMP) are open
only to the configured CIDRs; node-to-node traffic (kubelet, flannel VXLAN) only from
members of the same group. Pure data, so the plan, the preflight quota count and the
tests agree on the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config.model import CloudConfig

PUBLIC_PORTS: tuple[tuple[str, int | None, str], ...] = (
    ("tcp", 22, "ssh"),
    ("tcp", 6443, "Kubernetes API"),
    ("tcp", 26257, "CockroachDB SQL/gRPC"),
    ("tcp", 8080, "CockroachDB admin UI"),
    ("icmp", None, "ping"),
)
GROUP_PORTS: tuple[tuple[str, int, str], ...] = (
    ("tcp", 10250, "kubelet"),
    ("udp", 8472, "flannel VXLAN"),
)
DEFAULT_EGRESS_RULES = 2
"""Neutron gives every new group an IPv4 and an IPv6 allow-all egress rule (quota counts them)."""


@dataclass(frozen=True)
class SecurityGroupRule:
    """One ingress rule; ``remote_cidr`` or (when ``None``) the group itself as the source."""

    protocol: str
    port: int | None
    remote_cidr: str | None
    why: str

    @property
    def ethertype(self) -> str:
        return "IPv6" if self.remote_cidr and ":" in self.remote_cidr else "IPv4"

    def neutron_attrs(self, group_id: str) -> dict[str, Any]:
        """Body for ``create_security_group_rule``."""
        protocol = self.protocol
        if protocol == "icmp" and self.ethertype == "IPv6":
            protocol = "ipv6-icmp"
        attrs: dict[str, Any] = {
            "security_group_id": group_id,
            "direction": "ingress",
            "ethertype": self.ethertype,
            "protocol": protocol,
        }
        if self.port is not None:
            attrs["port_range_min"] = self.port
            attrs["port_range_max"] = self.port
        if self.remote_cidr is None:
            attrs["remote_group_id"] = group_id
        else:
            attrs["remote_ip_prefix"] = self.remote_cidr
        return attrs

    def key(self) -> tuple[str, str, int | None, str | None]:
        """What makes two rules the same, for finding the ones already in the group."""
        proto = self.protocol
        if proto == "icmp" and self.ethertype == "IPv6":
            proto = "ipv6-icmp"
        return (self.ethertype, proto, self.port, self.remote_cidr)


def rule_key(rule: dict[str, Any], group_id: str) -> tuple[str, str, int | None, str | None]:
    """The ``key()`` of a rule as Neutron returns it."""
    remote = None if rule.get("remote_group_id") == group_id else rule.get("remote_ip_prefix")
    port = rule.get("port_range_min")
    return (
        str(rule.get("ethertype")),
        str(rule.get("protocol")),
        int(port) if port is not None else None,
        remote,
    )


def demo_rules(cloud: CloudConfig) -> tuple[SecurityGroupRule, ...]:
    """Every ingress rule, in a stable order."""
    rules = [
        SecurityGroupRule(proto, port, cidr, why)
        for cidr in cloud.public_cidrs
        for proto, port, why in PUBLIC_PORTS
    ]
    rules += [SecurityGroupRule(proto, port, None, why) for proto, port, why in GROUP_PORTS]
    return tuple(rules)


def open_to_world(cloud: CloudConfig) -> bool:
    """True when the public rules admit anyone (worth a warning on an insecure cluster)."""
    return any(c in ("0.0.0.0/0", "::/0") for c in cloud.public_cidrs)
