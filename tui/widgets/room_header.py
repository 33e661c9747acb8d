"""The top line: demo name, REHEARSAL (with its speed), ARMED, replay state, run id, clock.

ARMED is loud on purpose: in armed mode a kill key acts without asking.
"""

from __future__ import annotations

import time

from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines, fit


def _speed(x: float) -> str:
    return f"×{x:g}"  # noqa: RUF001


class RoomHeader(RoomLines):
    DEFAULT_CSS = "RoomHeader { height: 1; }"

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        s = view.state
        right: list[Part] = []
        if s.run_id and width >= 100:
            right.append((f" run {s.run_id} ", "$text-muted"))
        right.append((f" {time.strftime('%H:%M:%S', time.localtime(view.wall))} ", "bold"))
        badges: list[Part] = []
        if s.simulated:
            badges.append((f" REHEARSAL {_speed(s.speed)} ", "bold reverse $badge-rehearsal"))
            badges.append((" ", ""))
        if view.armed:
            # The long form where it fits with the clock (the short one still says ARMED).
            armed = " ⚠ ARMED: kills do not ask " if width >= 80 else " ⚠ ARMED "
            badges.append((armed, "bold reverse $badge-armed"))
            badges.append((" ", ""))
        if view.replay:
            badges.append((f" REPLAY {view.replay} ", "bold reverse $primary"))
            badges.append((" ", ""))
        fixed = sum(len(t) for t, _ in badges) + sum(len(t) for t, _ in right) + 14
        # The demo name gives way first: the clock and the badges must stay whole.
        name = fit(s.demo or "waiting for the engine…", width - fixed)
        left: list[Part] = [(" crossroom ", "bold reverse $primary")]
        if name:
            left.append((f" {name} ", "bold"))
        used = sum(len(t) for t, _ in (*left, *badges, *right))
        gap = max(1, width - used)
        return [(*left, *badges, (" " * gap, ""), *right)]
