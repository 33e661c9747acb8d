"""Which targets are still down from a kill: a fact of the fold, not of the screen.

The screen enables its revive key from it, and the revive pick lists it."""

from __future__ import annotations

from engine import events as ev
from engine.state import fold

CLOUDS = (
    ev.CloudInfo(name="ibm", label="IBM", nodes=3, steps=("join",)),
    ev.CloudInfo(name="ibm2", label="IBM 2", nodes=3, steps=("join",)),
)
STARTED = ev.RunStarted(run_id="xr-1", demo="demo", simulated=True, clouds=CLOUDS)


def live(node: str, t: float = 1.0) -> ev.NodeObserved:
    return ev.NodeObserved(t=t, node=node, cloud=node.split("/")[0], liveness="live")


def kill(target: str, kind: str, *nodes: str, t: float = 2.0) -> ev.KillIssued:
    return ev.KillIssued(t=t, target=target, target_kind=kind, nodes=nodes)


def test_killed_targets_are_listed_per_cloud_newest_first_once_each() -> None:
    s = fold(
        [
            STARTED,
            live("ibm/node-1"),
            live("ibm/node-2"),
            live("ibm2/node-1"),
            kill("ibm/node-1", "node", "ibm/node-1", t=2.0),
            kill("ibm/server-2", "server", "ibm/node-2", t=3.0),
            kill("ibm/node-1", "node", "ibm/node-1", t=4.0),
        ]
    )
    assert s.killed_targets("ibm") == ("ibm/node-1", "ibm/server-2")
    assert s.killed_targets("ibm2") == ()  # a prefix of another cloud's name is not it
    assert s.killed_targets("nowhere") == ()


def test_revived_restarted_and_refused_kills_leave_nothing_to_revive() -> None:
    s = fold(
        [
            STARTED,
            live("ibm/node-1"),
            live("ibm/node-2"),
            kill("ibm/node-1", "node", "ibm/node-1"),
            ev.ReviveIssued(t=3.0, target="ibm/node-1", target_kind="node", nodes=("ibm/node-1",)),
            kill("ibm/pod-2", "pod", "ibm/node-2"),  # Kubernetes brings a pod back by itself
            kill("ibm/server-3", "server", "ibm/node-3"),
            ev.KillFailed(t=4.0, target="ibm/server-3", error="no such server"),
        ]
    )
    assert s.killed_targets("ibm") == ()


def test_a_cloud_kill_that_named_no_nodes_stays_revivable() -> None:
    """A whole-cloud kill before any node was seen still stopped its servers."""
    s = fold([STARTED, kill("ibm", "cloud")])
    assert s.killed_targets("ibm") == ("ibm",)
