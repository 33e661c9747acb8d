"""Time to join, fastest first, as the 2017 stage dashboard showed for each cloud.

The board has a fixed height (a height change is a layout pass and a full repaint):
one row per cloud up to ``BOARD_ROWS``; with more clouds, the fastest ``BOARD_ROWS`` and
one row that sums up the rest.
"""

from __future__ import annotations

from tui.look import cloud_look, duration
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines, fit

BOARD_ROWS = 15


def board_height(clouds: int) -> int:
    """Rows the wide board takes for ``clouds`` clouds (title, clouds, maybe the rest)."""
    return 1 + min(clouds, BOARD_ROWS) + (1 if clouds > BOARD_ROWS else 0)


class Leaderboard(RoomLines):
    DEFAULT_CSS = "Leaderboard { height: auto; }"

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        clouds = view.state.cloud_list()
        joined = sorted(
            (c for c in clouds if c.time_to_join_s is not None),
            key=lambda c: (c.time_to_join_s, c.name),
        )
        if view.narrow:
            parts: list[Part] = [(f"time to join {len(joined)}/{len(clouds)}: ", "bold $primary")]
            for rank, c in enumerate(joined[:5], 1):
                parts.append((f"{rank} {c.label} ", "bold" if rank <= 3 else ""))
                parts.append((f"{duration(c.time_to_join_s)}  ", "$step-done"))
            return [tuple(parts)]
        lines: list[Line] = [
            (("Time to join", "bold $primary"), (f"  {len(joined)}/{len(clouds)}", "$text-muted"))
        ]
        slowest = max((c.time_to_join_s or 0.0 for c in joined), default=1.0) or 1.0
        label_w = max(6, min(18, width - 18))
        bar_w = max(0, width - label_w - 12)
        ranked = joined[:BOARD_ROWS]
        for rank, c in enumerate(ranked, 1):
            t = c.time_to_join_s or 0.0
            size = max(1, round(bar_w * t / slowest)) if bar_w else 0
            lines.append(
                (
                    (f"{rank:>2} ", "bold" if rank <= 3 else "$text-muted"),
                    (
                        fit(c.label, label_w).ljust(label_w),
                        "bold" if c.name == view.focused else "",
                    ),
                    (f" {duration(t):>6} ", "$step-done"),
                    ("▆" * size, "$step-done"),
                )
            )
        # Clouds still on their way keep their rows, so the board never changes height
        # (a height change is a layout pass and a full repaint).
        waiting = [c for c in clouds if c.time_to_join_s is None]
        rows_left = min(len(clouds), BOARD_ROWS) - len(ranked)
        for c in waiting[:rows_left]:
            look = cloud_look(c)
            lines.append(
                (
                    ("   ", ""),
                    (fit(c.label, label_w).ljust(label_w), "$text-muted"),
                    (f" {look.glyph} {look.word}", look.style),
                )
            )
        if len(clouds) > BOARD_ROWS:
            rest = [*joined[BOARD_ROWS:], *waiting[rows_left:]]
            done = sum(1 for c in rest if c.time_to_join_s is not None)
            failed = sum(1 for c in rest if c.status == "failed")
            more: list[Part] = [(f" + {len(rest)} more: {done} joined", "$text-muted")]
            if failed:
                more.append((f", {failed} failed", "bold $step-failed"))
            lines.append(tuple(more))
        return lines
