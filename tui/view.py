"""What every widget is given on a tick: the folded state plus the screen's own choices.

Widgets read only this; none of them folds events or calls the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from engine.state import NodeState, RoomState, _node_key
from tui.inbox import LogBook

SLOW_EVERY = 10
"""Ticks between slow frames (the App ticks at 10 Hz): pane logs and the sparkline
repaint once a second, panes taking turns (one tick each). A flood is read as motion,
not line by line, and these rows are most of the bytes."""


@dataclass(frozen=True)
class RoomView:
    state: RoomState
    now: float
    """Demo seconds for running timers: the last event's ``t``, carried forward while live."""
    wall: float
    """Unix time for the header clock (frozen in tests)."""
    focused: str | None = None
    armed: bool = False
    replay: str = ""
    """Replay status for the header ("▶ x2", "⏸ paused"); empty when live."""
    slow: bool = True
    """True on the ticks (about 1 Hz) when pane logs and the sparkline may repaint."""
    narrow: bool = False
    """The compact 80x24 layout is showing."""
    tick: int = 0
    """The App's tick count: panes take turns to repaint their logs (one slow frame a
    second would otherwise carry every pane's log rows at once)."""
    logs: LogBook | None = None
    """Each cloud's recent log lines (more than the state's short tail), for the panes."""

    @property
    def focused_index(self) -> int:
        order = self.state.cloud_order
        return order.index(self.focused) if self.focused in order else -1

    @cached_property
    def _nodes_by_cloud(self) -> dict[str, list[NodeState]]:
        """Every cloud's nodes, grouped once per view (600 nodes are walked once a tick,
        not once per cloud per widget)."""
        out: dict[str, list[NodeState]] = {}
        for node in self.state.nodes.values():
            out.setdefault(node.cloud, []).append(node)
        for nodes in out.values():
            nodes.sort(key=lambda n: _node_key(n.node))
        return out

    def nodes_of(self, cloud: str) -> list[NodeState]:
        """``RoomState.nodes_of``, in the same order, from the per-view grouping."""
        return self._nodes_by_cloud.get(cloud, [])
