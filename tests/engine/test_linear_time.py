"""No input stalls the room: redaction and the state fold grow linearly with their input.

Each case runs at n and at 10 n and asserts the time grew far less than the 100x a
quadratic would take (generous: under 35x, the best of several runs, so a loaded machine
does not decide). These are proofs of the growth, not budgets; budgets live in bench/.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from engine import events as ev
from engine.plan import STEPS
from engine.redact import redact
from engine.state import RoomState, fold
from engine.terminal_text import shown

GROWTH_LIMIT = 35.0
"""Allowed growth of the time for 10x the input (linear: ~10x; quadratic: ~100x)."""


def _best(work: Callable[[], object], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best


def _growth(make: Callable[[int], object], work: Callable[[object], object], n: int) -> float:
    small, big = make(n), make(10 * n)
    work(small)  # warm up
    return _best(lambda: work(big)) / max(_best(lambda: work(small)), 1e-6)


ADVERSARIAL_LINES: dict[str, Callable[[int], str]] = {
    "one long word": lambda n: "a" * n,
    "scheme-like run": lambda n: "ab+" * (n // 3),
    "url heads, no @": lambda n: "a://b:" * (n // 6),
    "userinfo, no @": lambda n: "x://u:" + "p" * n,
    "keys, no values": lambda n: "password= " * (n // 10),
    "key and blanks": lambda n: "password" + " " * n,
    "unclosed quote": lambda n: "password='" + "x" * n,
    "pem, no end": lambda n: "-----BEGIN RSA PRIVATE KEY-----" + "-----END A" * (n // 10),
    "words of a key": lambda n: "secret:" * (n // 7),
}


@pytest.mark.parametrize("case", sorted(ADVERSARIAL_LINES))
def test_redaction_is_linear_in_the_line(case: str) -> None:
    growth = _growth(ADVERSARIAL_LINES[case], lambda s: redact(str(s), cut=True), 4_000)
    assert growth < GROWTH_LIMIT, f"{case}: 10x the line took {growth:.0f}x the time"


def test_showing_a_line_costs_the_same_whatever_its_length() -> None:
    """The screen shows a line ``shown``: a 1 MB line costs what a 2 KB one does."""
    growth = _growth(lambda n: "a" * n, lambda s: shown(str(s)), 100_000)
    assert growth < 3.0, f"10x the line took {growth:.1f}x the time to show"


def _recording(n: int) -> list[ev.Event]:
    """One cloud that makes ``n`` resources, sees ``n`` nodes, names ``n`` steps and gets
    ``n`` settings, then deletes every resource: what a hostile or huge recording holds."""
    start = ev.RunStarted(
        run_id="r",
        demo="d",
        simulated=True,
        clouds=(ev.CloudInfo(name="c", label="C", region="", provider="sim", steps=STEPS),),
    )
    events: list[ev.Event] = [start, ev.CloudStarted(cloud="c", t=0.0)]
    for i in range(n):
        events.append(ev.ResourceRecorded(cloud="c", resource_type="server", resource_id=f"s{i}"))
        events.append(ev.NodeObserved(node=f"c/node-{i}", cloud="c", liveness="live", t=1.0))
        events.append(ev.StepStarted(cloud="c", step=f"step-{i}", t=1.0))
        events.append(ev.SettingApplied(name=f"k{i}", value="v", ok=True, t=1.0))
    for i in range(n):
        events.append(ev.ResourceDeleted(cloud="c", resource_type="server", resource_id=f"s{i}"))
    return events


def test_folding_is_linear_in_distinct_resources_nodes_steps_and_settings() -> None:
    def work(events: object) -> RoomState:
        assert isinstance(events, list)
        return fold(events)

    growth = _growth(_recording, work, 500)
    assert growth < GROWTH_LIMIT, f"10x the recording took {growth:.0f}x the time to fold"
    state = fold(_recording(50))
    assert state.clouds["c"].resources == 0 and state.clouds["c"].resource_list == ()
    assert len(state.nodes) == 50


def test_resources_keep_the_order_they_were_made_in() -> None:
    events = _recording(5)[:-5]  # none deleted
    events.append(ev.ResourceDeleted(cloud="c", resource_type="server", resource_id="s1"))
    events.append(ev.ResourceRecorded(cloud="c", resource_type="server", resource_id="s1"))
    ids = [r.resource_id for r in fold(events).clouds["c"].resource_list]
    assert ids == ["s0", "s2", "s3", "s4", "s1"]
