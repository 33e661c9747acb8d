"""Expectations of the run-sheet, judged from what the cluster showed: pass or fail, with
the measured figure beside the expected one (``VerdictDecided``).

Per run: every cloud joined within N s (from the first cloud's start to the last join).
Per fault cue, over its fault window (from the cue until the cluster has healed, or the
wait ran out): the most unavailable ranges seen (``ClusterHealthObserved``), the kv error
rate (errors over operations, ``WorkloadSample``), the worst p99, and how long healing
took. Healing is timed from the undo when the cue has ``for:`` (the fault is meant to
last that long), else from the cue; healed means every node hit is live again and no
range is under-replicated or unavailable.

``Judge`` is plain bookkeeping fed by the scenario runner (events in, decisions out), so
it runs the same on a virtual clock, a live show and in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import events as ev
from engine.config.scenario_model import Cue, Expectations
from engine.state import KillRecord, RoomState

HEAL_GRACE_S = 300.0
"""Demo seconds a fault window waits for healing beyond the cluster's time_until_store_dead,
when the cue gives no ``healed_within``."""


@dataclass
class FaultWindow:
    cue: Cue
    target: str
    start_t: float
    wait_s: float
    """How long after the heal clock starts the window waits for healing."""
    refused: str = ""
    heal_from_t: float | None = None
    """When the heal clock started: the undo (``for:``), else the cue."""
    healed_t: float | None = None
    max_unavailable: int | None = None
    max_p99_ms: float | None = None
    ops: float = 0.0
    errors_first: int | None = None
    errors_last: int = 0
    last_sample_t: float | None = None

    @property
    def deadline(self) -> float | None:
        if self.refused:
            return self.start_t
        if self.heal_from_t is None:
            return None
        return self.heal_from_t + self.wait_s


@dataclass
class RunWindow:
    expect_s: float
    start_t: float | None = None
    decided: bool = False


@dataclass
class Judge:
    store_dead_s: float = 300.0
    run: RunWindow | None = None
    windows: list[FaultWindow] = field(default_factory=list)

    @classmethod
    def for_run(cls, expect: Expectations, store_dead_s: float) -> Judge:
        judge = cls(store_dead_s=store_dead_s)
        if expect.all_joined_within_s is not None:
            judge.run = RunWindow(expect.all_joined_within_s)
        return judge

    @property
    def pending(self) -> bool:
        run_open = self.run is not None and not self.run.decided and self.run.start_t is not None
        return run_open or bool(self.windows)

    def next_deadline(self) -> float | None:
        times = [w.deadline for w in self.windows if w.deadline is not None]
        if self.run is not None and not self.run.decided and self.run.start_t is not None:
            times.append(self.run.start_t + self.run.expect_s)
        return min(times) if times else None

    # --- fault windows ----------------------------------------------------------------------

    def open(self, cue: Cue, target: str, t: float, refused: str = "") -> None:
        """A fault cue fired at ``t`` (``refused``: the room refused it, and why)."""
        wait = cue.expect.healed_within_s
        if wait is None:
            wait = self.store_dead_s + HEAL_GRACE_S
        window = FaultWindow(cue, target, t, wait, refused=refused)
        if cue.for_s is None:
            window.heal_from_t = t
        self.windows.append(window)

    def undone(self, cue: str, t: float) -> None:
        for w in self.windows:
            if w.cue.name == cue and w.heal_from_t is None:
                w.heal_from_t = t

    # --- feeding ------------------------------------------------------------------------------

    def observe(self, e: ev.Event, state: RoomState) -> list[ev.VerdictDecided]:
        """Take one event (already folded into ``state``); return what it decided."""
        out: list[ev.VerdictDecided] = []
        if isinstance(e, ev.ClusterHealthObserved):
            for w in self.windows:
                if e.t >= w.start_t:
                    w.max_unavailable = max(w.max_unavailable or 0, e.unavailable)
        elif isinstance(e, ev.WorkloadSample):
            for w in self.windows:
                if e.t < w.start_t:
                    continue
                if w.errors_first is None:
                    w.errors_first = e.errors_total
                else:
                    w.ops += e.ops_per_s * max(0.0, e.t - (w.last_sample_t or e.t))
                w.errors_last = e.errors_total
                w.last_sample_t = e.t
                w.max_p99_ms = max(w.max_p99_ms or 0.0, e.p99_ms)
        if self.run is not None and not self.run.decided:
            out.extend(self._judge_run(e, state))
        for w in list(self.windows):
            kill = _kill_of(w, state)
            if kill is not None and kill.error and not w.refused:
                w.refused = f"failed: {kill.error}"
                out.extend(self._close(w))
            elif w.heal_from_t is not None and not w.refused and _healed(w, state):
                w.healed_t = state.t
                out.extend(self._close(w))
        return out

    def tick(self, now: float, state: RoomState) -> list[ev.VerdictDecided]:
        """Decide whatever has run out of time by ``now``."""
        out: list[ev.VerdictDecided] = []
        run = self.run
        late = run is not None and run.start_t is not None and now >= run.start_t + run.expect_s
        if run is not None and not run.decided and late:
            run.decided = True
            joined = sum(1 for c in state.cloud_list() if c.status == "joined")
            out.append(
                _verdict(
                    "all_joined_within",
                    "run",
                    False,
                    f"{joined} of {len(state.cloud_order)} joined after {_s(run.expect_s)}",
                    f"<= {_s(run.expect_s)}",
                )
            )
        for w in list(self.windows):
            deadline = w.deadline
            if deadline is not None and now >= deadline:
                out.extend(self._close(w))
        return out

    def _judge_run(self, e: ev.Event, state: RoomState) -> list[ev.VerdictDecided]:
        run = self.run
        assert run is not None
        if isinstance(e, ev.CloudStarted) and run.start_t is None:
            run.start_t = e.t
        if run.start_t is None:
            return []
        clouds = state.cloud_list()
        if not isinstance(e, ev.CloudJoined | ev.StepFailed | ev.CloudCancelled):
            return []
        expected = f"<= {_s(run.expect_s)}"
        if all(c.status == "joined" for c in clouds):
            run.decided = True
            last = max(c.ended_t or e.t for c in clouds)
            took = last - run.start_t
            return [_verdict("all_joined_within", "run", took <= run.expect_s, _s(took), expected)]
        if not any(c.status == "running" for c in clouds):
            run.decided = True
            joined = sum(1 for c in clouds if c.status == "joined")
            measured = f"{joined} of {len(clouds)} joined"
            return [_verdict("all_joined_within", "run", False, measured, expected)]
        return []

    def _close(self, w: FaultWindow) -> list[ev.VerdictDecided]:
        """Decide every expectation of a fault window, once."""
        if w not in self.windows:
            return []
        self.windows.remove(w)
        x = w.cue.expect
        scope = w.cue.name
        out: list[ev.VerdictDecided] = []
        if w.refused:
            for name, expected in _listed(x):
                out.append(_verdict(name, scope, False, f"fault {w.refused}", expected))
            return out
        if x.unavailable_ranges is not None:
            seen = w.max_unavailable
            measured = "no cluster health seen" if seen is None else f"{seen} unavailable"
            ok = seen is not None and seen <= x.unavailable_ranges
            out.append(
                _verdict("unavailable_ranges", scope, ok, measured, f"<= {x.unavailable_ranges}")
            )
        if x.kv_error_rate_max is not None:
            if w.errors_first is None:
                ok, measured = False, "no workload seen"
            else:
                errors = max(0, w.errors_last - w.errors_first)
                rate = errors / max(1.0, w.ops + errors)
                ok = rate <= x.kv_error_rate_max
                measured = f"{rate * 100:.2f}% ({errors} errors)"
            out.append(
                _verdict(
                    "kv_error_rate_max",
                    scope,
                    ok,
                    measured,
                    f"<= {x.kv_error_rate_max * 100:g}%",
                )
            )
        if x.p99_max_ms is not None:
            p99 = w.max_p99_ms
            ok = p99 is not None and p99 <= x.p99_max_ms
            measured = "no workload seen" if p99 is None else f"{p99:.0f} ms"
            out.append(_verdict("p99_max_ms", scope, ok, measured, f"<= {x.p99_max_ms:g} ms"))
        if x.healed_within_s is not None:
            expected = f"<= {_s(x.healed_within_s)}"
            if w.healed_t is None or w.heal_from_t is None:
                measured = f"not healed after {_s(w.wait_s)}"
                out.append(_verdict("healed_within", scope, False, measured, expected))
            else:
                took = w.healed_t - w.heal_from_t
                ok = took <= x.healed_within_s
                out.append(_verdict("healed_within", scope, ok, _s(took), expected))
        return out


def expectations_of(cue: Cue) -> list[tuple[str, str]]:
    """A cue's expectations as (name, expected) pairs."""
    return _listed(cue.expect)


def _listed(x: Expectations) -> list[tuple[str, str]]:
    out = []
    if x.unavailable_ranges is not None:
        out.append(("unavailable_ranges", f"<= {x.unavailable_ranges}"))
    if x.kv_error_rate_max is not None:
        out.append(("kv_error_rate_max", f"<= {x.kv_error_rate_max * 100:g}%"))
    if x.p99_max_ms is not None:
        out.append(("p99_max_ms", f"<= {x.p99_max_ms:g} ms"))
    if x.healed_within_s is not None:
        out.append(("healed_within", f"<= {_s(x.healed_within_s)}"))
    return out


def _kill_of(w: FaultWindow, state: RoomState) -> KillRecord | None:
    for k in reversed(state.kills):
        if k.target == w.target and k.at_t >= w.start_t - 1e-6:
            return k
    return None


def _healed(w: FaultWindow, state: RoomState) -> bool:
    """Whether the fault of ``w`` is over and the cluster whole again (see module doc)."""
    kill = _kill_of(w, state)
    if kill is None:
        return False
    health = state.health
    if health.under_replicated or health.unavailable:
        return False
    if w.cue.for_s is None:
        # The fault undoes itself (a pod restart): over once seen down and back.
        return kill.back_t is not None or kill.healed_t is not None
    for name in kill.nodes:
        node = state.nodes.get(name)
        if node is None or node.liveness != "live" or node.killed_t is not None:
            return False
    return True


def _verdict(
    name: str, scope: str, passed: bool, measured: str, expected: str
) -> ev.VerdictDecided:
    return ev.VerdictDecided(
        name=name, scope=scope, passed=passed, measured=measured, expected=expected
    )


def _s(seconds: float) -> str:
    return f"{seconds:.1f}s"
