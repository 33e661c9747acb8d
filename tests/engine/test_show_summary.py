"""The facts of a show, read from a real rehearsal recording (and a few hand-made events)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rehearsal_show import FAILED_CLOUD, FAILED_STEP, rehearsal_recording  # noqa: F401

from engine import events as ev
from engine.recording import read_recording
from engine.show_summary import summarize, summarize_recording
from engine.state import fold


def test_joins_steps_and_spreads_from_a_rehearsal(rehearsal_recording: Path) -> None:  # noqa: F811
    s = summarize_recording(rehearsal_recording)
    state = fold(read_recording(rehearsal_recording))
    assert s.run_id == state.run_id and s.simulated and s.seed == 7
    assert len(s.clouds) == 15
    assert len(s.joined) == 14
    failed = next(c for c in s.clouds if c.name == FAILED_CLOUD)
    assert failed.status == "failed" and failed.time_to_join_s is None
    # The leaderboard: joined clouds fastest first, the failed one last.
    times = [c.time_to_join_s for c in s.leaderboard[:14]]
    assert times == sorted(times)  # type: ignore[type-var]
    assert s.leaderboard[-1].name == FAILED_CLOUD
    # Every joined cloud has a finished span for every step, in time order.
    for c in s.joined:
        done = [sp for sp in c.spans if sp.status == "done"]
        assert {sp.step for sp in done} == {st.name for st in state.clouds[c.name].steps}
        assert all(sp.end_t is not None and sp.end_t >= sp.start_t for sp in c.spans)
        assert [sp.start_t for sp in c.spans] == sorted(sp.start_t for sp in c.spans)
    # Spreads as Rally gives them: ordered figures, the failure counted on its step.
    by_step = {sp.step: sp for sp in s.spreads}
    for sp in s.spreads:
        if sp.count:
            assert sp.minimum <= sp.median <= sp.p90 <= sp.maximum  # type: ignore[operator]
    assert by_step[FAILED_STEP].failures == 1
    assert by_step[FAILED_STEP].count == 14
    assert by_step["boot"].count == 14
    # The failure, in one line, with its cloud and step.
    (failure,) = s.failures
    assert (failure.cloud, failure.step) == (FAILED_CLOUD, FAILED_STEP)
    assert "quota exceeded" in failure.error and "\n" not in failure.error


def test_faults_and_their_reaction(rehearsal_recording: Path) -> None:  # noqa: F811
    s = summarize_recording(rehearsal_recording)
    kinds = {f.target: f for f in s.faults}
    assert set(kinds) == {"vexxhost/node-2", "canonical/pod-1", "suse"}
    node, pod, cloud = kinds["vexxhost/node-2"], kinds["canonical/pod-1"], kinds["suse"]
    assert (node.kind, pod.kind, cloud.kind) == ("node", "pod", "cloud")
    for f in s.faults:
        assert f.probe_down_t is not None and f.probe_down_t >= f.issued_t
    for f in (node, cloud):
        assert f.suspect_t is not None and f.suspect_t >= f.issued_t
    # A stopped node stays down (dead, no revive): active to the end of the show.
    assert node.dead_t is not None and node.back_t is None and node.until_t is None
    # A restarted pod comes back by itself: active until it was back.
    assert pod.back_t is not None and pod.until_t == pod.back_t
    assert len(cloud.nodes) == 3
    # The markers a replay jumps between: 14 joins and 3 faults, in time order.
    kinds_seen = [m.kind for m in s.markers]
    assert kinds_seen.count("join") == 14 and kinds_seen.count("kill") == 3
    assert [m.t for m in s.markers] == sorted(m.t for m in s.markers)
    # The workload: one point a sample, errors as a rate, never negative.
    assert len(s.workload) > 100
    assert all(p.errors_per_s >= 0 and p.ops_per_s >= 0 for p in s.workload)
    assert any(p.under_replicated > 0 for p in s.workload)


@dataclass(frozen=True, kw_only=True)
class VerdictDecided(ev.Event):
    """Shaped as the run-sheet's verdict event (read by its class name and fields)."""

    kind: ClassVar[str] = "verdict_decided_test"
    name: str
    scope: str
    passed: bool
    measured: str
    expected: str


@dataclass(frozen=True, kw_only=True)
class CueFired(ev.Event):
    kind: ClassVar[str] = "cue_fired_test"
    cue: str
    index: int
    action: str
    target: str = ""
    text: str = ""


def _show() -> list[ev.Event]:
    clouds = (ev.CloudInfo(name="a", label="A", steps=("boot",)),)
    return [
        ev.RunStarted(run_id="xr-1", demo="d", simulated=True, clouds=clouds, t=0.0),
        ev.CloudStarted(cloud="a", t=0.0),
        ev.StepStarted(cloud="a", step="boot", t=1.0),
        ev.StepRetrying(cloud="a", step="boot", attempt=2, error="503", delay_s=1, t=2.0),
        ev.StepStarted(cloud="a", step="boot", attempt=2, t=3.0),
        ev.StepFinished(cloud="a", step="boot", duration_s=4.0, t=5.0),
        ev.CloudJoined(cloud="a", time_to_join_s=5.0, t=5.0),
        CueFired(cue="hello", index=0, action="say", text="Fifteen\nclouds", t=8.0),
        CueFired(cue="stop-a", index=1, action="stop", target="a/node-1", t=9.0),
        ev.KillIssued(target="a/node-1", target_kind="node", nodes=("a/node-1",), t=10.0),
        ev.WorkloadSample(ops_per_s=100, errors_total=5, t=10.0),
        ev.WorkloadSample(ops_per_s=50, errors_total=25, t=12.0),
        ev.ReviveIssued(target="a/node-1", target_kind="node", nodes=("a/node-1",), t=40.0),
        ev.KillIssued(target="a/node-1", target_kind="node", nodes=("a/node-1",), t=50.0),
        VerdictDecided(
            name="p99",
            scope="stop-a",
            passed=False,
            measured="812\nms",
            expected="<= 500 ms",
            t=60.0,
        ),
    ]


def test_revive_ends_the_oldest_open_fault_and_retries_stay_one_span() -> None:
    s = summarize(_show())
    first, second = s.faults
    assert first.revived_t == 40.0 and first.until_t == 40.0
    assert second.revived_t is None and second.until_t is None
    (span,) = s.clouds[0].spans
    assert (span.start_t, span.end_t, span.status) == (1.0, 5.0, "done")
    assert [p.errors_per_s for p in s.workload] == [0.0, 10.0]


def test_verdicts_and_cues_are_read_by_their_names() -> None:
    s = summarize(_show())
    (verdict,) = s.verdicts
    assert (verdict.name, verdict.passed, verdict.measured) == ("p99", False, "812 ms")
    assert [m.kind for m in s.markers] == ["join", "cue", "cue", "kill", "revive", "kill"]
    assert s.markers[1].label == 'hello say "Fifteen clouds"'
    assert s.markers[2].label == "stop-a stop a/node-1"
