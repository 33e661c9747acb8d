"""Kill targets, and what the fold, the report and the printer make of each kind of fault."""

from __future__ import annotations

import pytest

from engine import events as ev
from engine.headless import HeadlessPrinter, kill_table
from engine.report import build_report
from engine.state import fold
from engine.targets import KIND_MEANINGS, KIND_TITLES, Target, node_index, parse_target

STEPS = ("resolve", "join")


def started(*clouds: str) -> ev.RunStarted:
    return ev.RunStarted(
        run_id="xr-1",
        demo="demo",
        simulated=True,
        clouds=tuple(ev.CloudInfo(name=c, label=c.upper(), nodes=3, steps=STEPS) for c in clouds),
    )


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("vexxhost/pod-1", Target("vexxhost", "pod", 1)),
        ("canonical/node-2", Target("canonical", "node", 2)),
        ("suse/server-12", Target("suse", "server", 12)),
        ("zte", Target("zte", "cloud")),
        ("suse/crash-2", Target("suse", "crash", 2)),
        ("suse/freeze-3", Target("suse", "freeze", 3)),
        ("zte/partition", Target("zte", "partition")),
    ],
)
def test_every_kind_parses_and_prints_back(text: str, target: Target) -> None:
    assert parse_target(text) == target
    assert str(target) == text
    assert target.kind in KIND_TITLES and target.kind in KIND_MEANINGS
    # every node fault N names node N: one identity.
    assert target.node == (None if target.index is None else f"{target.cloud}/node-{target.index}")


@pytest.mark.parametrize(
    "bad",
    ["a/pod-0", "a/vm-1", "a/node-", "a/pod-1/x", "", "a/partition-1", "a/crash", "a/freeze-0"],
)
def test_bad_targets_say_what_is_expected(bad: str) -> None:
    with pytest.raises(ValueError, match="CLOUD/crash-N, CLOUD/freeze-N or CLOUD/partition"):
        parse_target(bad)


def test_node_index_reads_only_node_names() -> None:
    assert node_index("a/node-3") == 3
    assert node_index("a/pod-3") is None


def test_a_restarted_pod_is_back_when_its_probe_answers_though_it_never_left_live() -> None:
    node = "vexx/node-1"
    s = fold(
        [
            started("vexx"),
            ev.NodeObserved(t=1.0, node=node, cloud="vexx", liveness="live"),
            ev.ProbeObserved(t=1.0, node=node, cloud="vexx", status="ready"),
            ev.KillIssued(t=10.0, target="vexx/pod-1", target_kind="pod", nodes=(node,)),
        ]
    )
    assert s.nodes[node].killed_kind == "pod"
    s = fold(
        [
            ev.ProbeObserved(t=12.0, node=node, cloud="vexx", status="down"),
            ev.ProbeObserved(t=14.0, node=node, cloud="vexx", status="not_ready"),
        ],
        s,
    )
    assert s.kills[0].back_t is None and s.nodes[node].killed_t == 10.0
    s = fold([ev.ProbeObserved(t=15.5, node=node, cloud="vexx", status="ready")], s)
    (k,) = s.kills
    assert (k.probe_down_t, k.suspect_t, k.dead_t, k.back_t) == (12.0, None, None, 15.5)
    assert s.nodes[node].killed_t is None  # the screen stops saying "restarting"
    row = build_report(s, 0.0)["kills"][0]
    assert row["kind"] == "pod"
    assert (row["probe_down_after_s"], row["back_after_s"], row["dead_after_s"]) == (2.0, 5.5, None)


def test_a_whole_cloud_is_back_only_when_every_node_is_live_and_ready() -> None:
    nodes = ("zte/node-1", "zte/node-2")
    s = fold(
        [
            started("zte"),
            *(ev.NodeObserved(t=1.0, node=n, cloud="zte", liveness="live") for n in nodes),
            ev.KillIssued(t=10.0, target="zte", target_kind="cloud", nodes=nodes),
            *(ev.ProbeObserved(t=14.0, node=n, cloud="zte", status="down") for n in nodes),
            *(ev.NodeObserved(t=16.0, node=n, cloud="zte", liveness="suspect") for n in nodes),
            # a live node whose probe still refuses is not back
            ev.NodeObserved(t=80.0, node=nodes[0], cloud="zte", liveness="live"),
            ev.ProbeObserved(t=81.0, node=nodes[0], cloud="zte", status="ready"),
            ev.NodeObserved(t=85.0, node=nodes[1], cloud="zte", liveness="live"),
        ]
    )
    assert s.kills[0].back_t is None
    s = fold([ev.ProbeObserved(t=86.0, node=nodes[1], cloud="zte", status="ready")], s)
    assert s.kills[0].back_t == 86.0
    assert s.kills[0].suspect_t == 16.0


def test_a_second_kill_of_the_same_node_keeps_its_own_times() -> None:
    node = "a/node-1"
    s = fold(
        [
            started("a"),
            ev.NodeObserved(t=1.0, node=node, cloud="a", liveness="live"),
            ev.KillIssued(t=10.0, target="a/pod-1", target_kind="pod", nodes=(node,)),
            ev.ProbeObserved(t=11.0, node=node, cloud="a", status="down"),
            ev.ProbeObserved(t=15.0, node=node, cloud="a", status="ready"),
            ev.KillIssued(t=20.0, target="a/node-1", target_kind="node", nodes=(node,)),
            ev.ProbeObserved(t=20.5, node=node, cloud="a", status="down"),
        ]
    )
    first, second = s.kills
    assert (first.probe_down_t, first.back_t) == (11.0, 15.0)
    assert (second.probe_down_t, second.back_t) == (20.5, None)
    assert s.nodes[node].killed_kind == "node"


def test_an_unreachable_api_marks_the_cloud_stale_until_it_answers() -> None:
    s = fold(
        [
            started("suse"),
            ev.CloudApiObserved(t=5.0, cloud="suse", reachable=False, detail="server 1 stopped"),
            ev.CloudApiObserved(t=7.0, cloud="suse", reachable=False),
        ]
    )
    assert s.clouds["suse"].api_stale_since_t == 5.0
    s = fold([ev.CloudApiObserved(t=70.0, cloud="suse", reachable=True)], s)
    assert s.clouds["suse"].api_stale_since_t is None


def test_the_printer_and_the_kill_table_name_the_kind(capsys: pytest.CaptureFixture[str]) -> None:
    events: list[ev.Event] = [
        started("vexx"),
        ev.KillIssued(t=3.0, target="vexx/server-2", target_kind="server", nodes=("vexx/node-2",)),
        ev.CloudApiObserved(t=3.0, cloud="vexx", reachable=False, detail="server 1 stopped"),
    ]
    printer = HeadlessPrinter()
    for e in events:
        printer(e)
    out = capsys.readouterr().out
    assert "KILL vexx/server-2 (stop server): vexx/node-2" in out
    assert "Kubernetes API UNREACHABLE" in out
    table = kill_table(fold(events))
    head, _, row = table.splitlines()
    assert head.split() == [
        "kill",
        "kind",
        "at",
        "probe",
        "down",
        "suspect",
        "dead",
        "back",
        "healed",
    ]
    assert row.split()[:2] == ["vexx/server-2", "server"]


def test_the_kill_table_keeps_its_columns_for_the_longest_kind() -> None:
    events: list[ev.Event] = [
        started("vexx"),
        ev.KillIssued(t=3.0, target="vexx/partition", target_kind="partition"),
        ev.KillIssued(t=4.0, target="vexx/pod-1", target_kind="pod"),
    ]
    head, _, *rows = kill_table(fold(events)).splitlines()
    at = head.index("      at")
    assert all(row[at : at + 8].strip().endswith("s") for row in rows)
    assert [row.split()[1] for row in rows] == ["partition", "pod"]
