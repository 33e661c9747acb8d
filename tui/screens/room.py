"""The control room: a compact table at 80x24, a grid of panes from about 120x40, and a
"terminal too small" notice below the minimum, switched live as the terminal resizes.

Both layouts are mounted once and shown or hidden by a class on the screen; hidden
widgets are not updated, so the layout not on screen costs nothing.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen

from tui.actions import bindings
from tui.view import RoomView
from tui.widgets.cloud_grid import CloudGrid
from tui.widgets.cloud_table import CloudTable
from tui.widgets.cluster_summary import ClusterSummary
from tui.widgets.key_hints import KeyHints
from tui.widgets.leaderboard import Leaderboard
from tui.widgets.lines import RoomLines
from tui.widgets.node_grid import NodeGrid
from tui.widgets.prompt_bar import PromptBar
from tui.widgets.room_header import RoomHeader
from tui.widgets.too_small import TooSmall

WIDE_AT = (120, 40)
"""From this size on, the grid of panes; below it, the compact table."""
MIN_WIDTH = 72
CHROME_ROWS = 7
"""Header, two summary lines, table head, prompt bar, footer, one spare."""


def min_size(clouds: int) -> tuple[int, int]:
    """The smallest terminal the compact layout fits: every cloud needs its own row."""
    return MIN_WIDTH, max(16, clouds + CHROME_ROWS)


def layout_for(width: int, height: int, clouds: int) -> str:
    need_w, need_h = min_size(clouds)
    if width < need_w or height < need_h:
        return "tiny"
    if width >= WIDE_AT[0] and height >= WIDE_AT[1]:
        return "wide"
    return "narrow"


class RoomScreen(Screen[None]):
    """The main screen; keys go to the App's bindings, or to an open prompt first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(b.key, f"app.{b.action}", b.description, show=False)
        for b in bindings()
        if b.key in ("tab", "shift+tab")
    ]
    """Textual's screen binds tab to widget focus; here (from the action table) it moves
    the focused cloud."""

    def __init__(self) -> None:
        super().__init__(id="room")
        self.layout_name = ""
        self._clouds = 15

    def compose(self) -> ComposeResult:
        yield RoomHeader(id="header")
        with Container(id="wide"):
            yield CloudGrid(id="grid")
            with Vertical(id="side"):
                yield ClusterSummary(id="summary-wide")
                yield NodeGrid(id="nodes")
                yield Leaderboard(id="leaderboard")
        with Vertical(id="narrow"):
            yield ClusterSummary(id="summary-narrow")
            yield CloudTable(id="table")
            yield Leaderboard(id="leaderboard-narrow")
        yield TooSmall(id="too-small")
        yield PromptBar(id="prompt")
        yield KeyHints(lambda name: self.app.check_action(name, ()), id="keys")

    def on_mount(self) -> None:
        self._choose_layout(self.app.size.width, self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._choose_layout(event.size.width, event.size.height)

    def _choose_layout(self, width: int, height: int) -> None:
        name = layout_for(width, height, self._clouds)
        try:
            side = self.query_one("#side")
        except NoMatches:  # not composed (the App is already leaving)
            return
        side_width = 36 if width < 160 else 44
        if side.styles.width is None or side.styles.width.value != side_width:
            side.styles.width = side_width
        if name == "tiny":
            need_w, need_h = min_size(self._clouds)
            self.query_one(TooSmall).need(need_w, need_h, width, height)
        if name != self.layout_name:
            for old in ("wide", "narrow", "tiny"):
                self.set_class(old == name, f"-{old}")
            self.layout_name = name
            self.app.call_later(self._reshow)

    def _reshow(self) -> None:
        view = getattr(self.app, "view", None)
        if isinstance(view, RoomView):
            self.show(view)

    def grid_columns(self) -> int:
        return self.query_one(CloudGrid).columns

    @property
    def narrow(self) -> bool:
        return self.layout_name != "wide"

    def show(self, view: RoomView) -> None:
        clouds = len(view.state.cloud_order) or 15
        if clouds != self._clouds:
            self._clouds = clouds
            self._choose_layout(self.size.width, self.size.height)
        self.query_one(RoomHeader).show(view)
        self.query_one(PromptBar).show(view)
        self.query_one(KeyHints).show(view)
        if self.layout_name == "wide":
            self.query_one(CloudGrid).show(view)
            for widget in self.query("#side > *").results(RoomLines):
                widget.show(view)
        elif self.layout_name == "narrow":
            self.query_one("#summary-narrow", ClusterSummary).show(view)
            self.query_one(CloudTable).show(view)
            self.query_one("#leaderboard-narrow", Leaderboard).show(view)
