"""The cluster at a glance: node liveness counts, range health, the kv load and its errors.

The under-replicated count is the number the audience watches: it jumps when a node dies
and falls back to 0 when the cluster has healed. Ops/s and its sparkline repaint only on
slow ticks (about 1 Hz): they change every second and are read as a trend.
"""

from __future__ import annotations

from tui.look import KILLED, NODE_LOOKS, sparkline
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines

Load = tuple[float, tuple[float, ...], int, float, str]


def _counts(view: RoomView, words: bool = True) -> list[Part]:
    s = view.state
    parts: list[Part] = []
    for liveness in ("live", "suspect", "dead"):
        look = NODE_LOOKS[liveness]
        n = s.count(liveness)
        word = f" {look.word}" if words else f"{look.word[:4]}"
        parts.append(
            (
                f"{look.glyph} {n}{word}" if words else f"{look.glyph}{n} {word}",
                look.style if n else "$text-muted",
            )
        )
        parts.append(("  " if words else " ", ""))
    return parts


def _killed(view: RoomView) -> list[Part]:
    killed = sum(
        1
        for n in view.state.nodes.values()
        if n.killed_t is not None and n.liveness not in ("suspect", "dead")
    )
    return [(f"{KILLED.glyph} {killed} killed ", KILLED.style)] if killed else []


def _ranges(view: RoomView, short: bool = False) -> list[Part]:
    h = view.state.health
    under = "bold reverse $node-suspect" if h.under_replicated else "$node-live"
    unavail = "bold reverse $node-dead" if h.unavailable else "$node-live"
    return [
        (f"{'under-repl' if short else 'under-replicated'} {h.under_replicated}", under),
        ("  ", ""),
        (f"{'unavail' if short else 'unavailable'} {h.unavailable}", unavail),
    ]


class ClusterSummary(RoomLines):
    DEFAULT_CSS = "ClusterSummary { height: auto; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._load: Load | None = None

    def _sampled(self, view: RoomView) -> Load:
        """Load figures, refreshed only on slow ticks (they are read as a trend)."""
        w = view.state.workload
        if view.slow or self._load is None:
            self._load = (w.ops_per_s, w.history, w.errors_total, w.p99_ms, view.state.monitor)
        return self._load

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        ops, history, errors, p99, monitor = self._sampled(view)
        err_style = "bold $node-dead" if errors else ""
        monitor_part: list[Part] = []
        if monitor and monitor != "connected":
            monitor_part = [(f"monitor {monitor} ", "bold reverse $node-suspect")]
        if view.narrow:
            head: list[Part] = [("nodes ", "bold"), *_counts(view, words=False), *_killed(view)]
            head += [("│ ", "$text-muted"), *_ranges(view, short=True)]
            left = f"load {ops:,.0f} ops/s "
            tail = f" errors {errors}  p99 {p99:.1f}ms  {view.state.health.ranges} ranges "
            spark = max(4, min(24, width - len(left) - len(tail) - 20))
            return [
                tuple(head),
                (
                    (left, "bold"),
                    (sparkline(history, spark), "$primary"),
                    (f" errors {errors}", err_style),
                    (f"  p99 {p99:.1f}ms  {view.state.health.ranges} ranges ", ""),
                    *monitor_part,
                ),
            ]
        ops_text = f"{ops:,.0f} ops/s "
        return [
            (("Cluster ", "bold $primary"), *_killed(view), *monitor_part),
            tuple(_counts(view)),
            tuple(_ranges(view, short=width < 36)),
            ((ops_text, "bold"), (sparkline(history, max(4, width - len(ops_text))), "$primary")),
            (
                (f"errors {errors}", err_style),
                (f"  p99 {p99:.1f} ms  {view.state.health.ranges} ranges", ""),
            ),
        ]
