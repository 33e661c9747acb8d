"""Names that must be valid in Kubernetes whatever a cloud or run is called."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from engine.kube import names
from engine.kube.topology import with_port

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@given(st.text(min_size=0, max_size=120))
def test_dns_labels_are_valid_and_stable(text: str) -> None:
    label = names.dns_label(text)
    assert DNS_LABEL.match(label) and len(label) <= 63
    assert names.dns_label(text) == label


@given(st.text(min_size=1, max_size=120))
def test_label_values_are_valid(text: str) -> None:
    value = names.label_value(text)
    assert LABEL_VALUE.match(value) and len(value) <= 63


def test_long_or_rewritten_names_keep_a_hash_so_they_stay_apart() -> None:
    run = "xr-20261127-051200-a1b2"
    a = names.namespace("crossroom", run, "a-very-long-cloud-name-from-clouds-yaml-1")
    b = names.namespace("crossroom", run, "a-very-long-cloud-name-from-clouds-yaml-2")
    assert a != b and len(a) <= 63 and len(b) <= 63
    assert names.namespace("crossroom", run, "Vexx_Host") != names.namespace(
        "crossroom", run, "vexx-host"
    )
    assert names.namespace("crossroom", run, "vexx") == f"crossroom-{run}-vexx"


def test_node_n_is_pod_ordinal_n_minus_1() -> None:
    assert names.pod_name(1) == "cockroachdb-0"
    assert names.node_index("cockroachdb-0") == 1
    assert names.node_index("cockroachdb-12") == 13
    assert names.node_index("cluster-init-x7k2") is None


def test_with_port() -> None:
    assert with_port("203.0.113.7", 26257) == "203.0.113.7:26257"
    assert with_port("203.0.113.7:26000", 26257) == "203.0.113.7:26000"
    assert with_port("db.example.org", 26257) == "db.example.org:26257"
    assert with_port("2001:db8::1", 26257) == "[2001:db8::1]:26257"
    assert with_port("[2001:db8::1]", 26257) == "[2001:db8::1]:26257"
    assert with_port("[2001:db8::1]:1", 26257) == "[2001:db8::1]:1"
