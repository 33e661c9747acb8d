"""The no-screen view: one line per step transition and chaos event, then summary tables.

Used by ``crossroom run`` and ``crossroom replay --headless``; it is an ``EventSink``
plus two table renderers, and holds no state of its own beyond the output stream.
"""

from __future__ import annotations

import sys
from typing import TextIO

from engine import events as ev
from engine import terminal_text as safe
from engine.plan import STEP_SHORT
from engine.state import CloudState, RoomState
from engine.targets import KIND_TITLES


def _fmt(s: float | None) -> str:
    return "-" if s is None else f"{s:.1f}s"


class HeadlessPrinter:
    """Prints ``  12.3s  vexxhost      servers         finished (4.1s)`` style lines."""

    def __init__(self, out: TextIO | None = None, *, logs: bool = False) -> None:
        self.out = out or sys.stdout
        self.logs = logs
        self._width = 12

    def _line(self, t: float, who: str, what: str) -> None:
        """Names and messages come from outside: ``shown`` (masked, capped, visible)."""
        self.out.write(f"{t:8.1f}s  {safe.shown(who, 64):<{self._width}}  {safe.shown(what)}\n")

    def __call__(self, e: ev.Event) -> None:
        if isinstance(e, ev.RunStarted):
            self._width = max([12, *(min(64, len(c.name)) for c in e.clouds)])
            mode = f"REHEARSAL (simulated, speed x{e.speed:g})" if e.simulated else "LIVE"
            self.out.write(
                f"crossroom: {safe.shown(e.demo)} - run {safe.shown(e.run_id)} - {mode}\n"
            )
        elif isinstance(e, ev.StepStarted):
            again = f" (attempt {e.attempt})" if e.attempt > 1 else ""
            self._line(e.t, e.cloud, f"{e.step:<15} started{again}")
        elif isinstance(e, ev.StepFinished):
            verb = "skipped" if e.skipped else f"finished ({e.duration_s:.1f}s)"
            self._line(e.t, e.cloud, f"{e.step:<15} {verb}")
        elif isinstance(e, ev.StepRetrying):
            self._line(e.t, e.cloud, f"{e.step:<15} retrying in {e.delay_s:.1f}s: {e.error}")
        elif isinstance(e, ev.StepFailed):
            self._line(e.t, e.cloud, f"{e.step:<15} FAILED after {e.duration_s:.1f}s: {e.error}")
        elif isinstance(e, ev.CloudJoined):
            self._line(e.t, e.cloud, f"JOINED in {e.time_to_join_s:.1f}s")
        elif isinstance(e, ev.CloudCancelled):
            self._line(e.t, e.cloud, f"cancelled during {e.step}")
        elif isinstance(e, ev.KillIssued):
            what = KIND_TITLES.get(e.target_kind, e.target_kind)
            self._line(e.t, "chaos", f"KILL {e.target} ({what}): {', '.join(e.nodes)}")
        elif isinstance(e, ev.ReviveIssued):
            self._line(e.t, "chaos", f"REVIVE {e.target}")
        elif isinstance(e, ev.CloudApiObserved):
            why = f" ({e.detail})" if e.detail else ""
            word = "answers again" if e.reachable else f"UNREACHABLE{why}: pods as last seen"
            self._line(e.t, e.cloud, f"Kubernetes API {word}")
        elif isinstance(e, ev.KillFailed):
            self._line(e.t, "chaos", f"kill of {e.target} failed: {e.error}")
        elif isinstance(e, ev.NodeObserved):
            self._line(e.t, "cluster", f"{e.node} {e.liveness}")
        elif isinstance(e, ev.PodObserved):
            ready = "ready" if e.ready else "not ready"
            self._line(e.t, e.cloud, f"pod {e.pod} {e.phase}, {ready}, restarts {e.restarts}")
        elif isinstance(e, ev.MonitorStatus):
            self._line(e.t, "monitor", f"{e.state} {e.address} {e.message}".rstrip())
        elif isinstance(e, ev.SettingApplied):
            verdict = "applied" if e.ok else f"refused: {e.message}"
            self._line(e.t, "cluster", f"SET CLUSTER SETTING {e.name} = {e.value}: {verdict}")
        elif isinstance(e, ev.TeardownStarted):
            self._line(e.t, e.cloud, "teardown started")
        elif isinstance(e, ev.TeardownFinished):
            left = f"; LEFT BEHIND: {'; '.join(e.leftovers)}" if e.leftovers else ": nothing left"
            self._line(e.t, e.cloud, f"teardown finished{left}")
        elif isinstance(e, ev.Notice):
            self._line(e.t, e.cloud or e.level, e.message)
        elif isinstance(e, ev.CueFired):
            words = f": {e.text}" if e.text else f" {e.target}" if e.target else ""
            self._line(e.t, "cue", f"{e.cue} ({e.action}){words}")
        elif isinstance(e, ev.GateHeld):
            self._line(e.t, "gate", f"every cloud held before {e.step}: waiting for the go")
        elif isinstance(e, ev.GateReleased):
            self._line(e.t, "gate", "released: every cloud goes")
        elif isinstance(e, ev.VerdictDecided):
            self._line(e.t, "expect", verdict_line(e))
        elif isinstance(e, ev.LogLines) and self.logs:
            for line in e.lines:
                self._line(e.t, e.cloud, f"| {line}")
        else:
            return
        self.out.flush()


def verdict_line(v: ev.VerdictDecided) -> str:
    """``PASS stop-node: healed_within 31.0s (expected <= 120.0s)``."""
    word = "PASS" if v.passed else "FAIL"
    return f"{word} {v.scope}: {v.name} {v.measured} (expected {v.expected})"


def verdict_table(state: RoomState) -> str:
    """Every decided expectation, one line each, and how many failed."""
    if not state.verdicts:
        return ""
    failed = sum(1 for v in state.verdicts if not v.passed)
    rows = [safe.shown(verdict_line(v)) for v in state.verdicts]
    rows.append(f"{len(state.verdicts)} expectations, {failed} failed")
    return "\n".join(rows) + "\n"


def join_table(state: RoomState) -> str:
    """Every cloud's time to join (fastest first) and its step times."""
    clouds = state.cloud_list()
    if not clouds:
        return "no clouds\n"
    steps = [s.name for s in clouds[0].steps]
    labels = {c.name: safe.shown(c.label, 64) for c in clouds}
    width = max(len(label) for label in labels.values())
    head = f"{'cloud':<{width}}  {'status':<10} {'join':>8}  " + " ".join(
        f"{safe.visible(STEP_SHORT.get(s, s)[:9]):>9}" for s in steps
    )
    rows = [head, "-" * len(head)]

    def order(c: CloudState) -> tuple[int, float]:
        """Joined clouds fastest first, then the rest in demo order."""
        t = c.time_to_join_s
        return (0, t) if t is not None else (1, 0.0)

    for c in sorted(clouds, key=order):
        by_name = {s.name: s for s in c.steps}
        cells = []
        for name in steps:
            s = by_name.get(name)
            if s is None or s.status == "pending":
                cells.append(f"{'.':>9}")
            elif s.status == "skipped":
                cells.append(f"{'skip':>9}")
            elif s.status == "failed":
                cells.append(f"{'FAIL':>9}")
            else:
                cells.append(f"{_fmt(s.duration_s):>9}")
        rows.append(
            f"{labels[c.name]:<{width}}  {safe.visible(c.status):<10} {_fmt(c.time_to_join_s):>8}  "
            + " ".join(cells)
        )
    return "\n".join(rows) + "\n"


def kill_table(state: RoomState) -> str:
    """Per kill: its kind and how long after it each reaction was seen ("-" never)."""
    if not state.kills:
        return ""
    head = (
        f"{'kill':<24} {'kind':<9} {'at':>8} {'probe down':>11} {'suspect':>9} {'dead':>9} "
        f"{'back':>9} {'healed':>9}"
    )
    rows = [head, "-" * len(head)]
    for k in state.kills:

        def after(t: float | None, at: float = k.at_t) -> str:
            return "-" if t is None else f"+{t - at:.1f}s"

        rows.append(
            f"{k.target:<24} {k.target_kind:<9} {k.at_t:>7.1f}s {after(k.probe_down_t):>11} "
            f"{after(k.suspect_t):>9} {after(k.dead_t):>9} {after(k.back_t):>9} "
            f"{after(k.healed_t):>9}"
        )
    return "\n".join(rows) + "\n"
