"""The control room: a compact table at 80x24, a grid of panes from about 120x40, and a
"terminal too small" notice below a fixed minimum, switched live as the terminal resizes.

Any number of clouds fits any size from the minimum up: the table shows a window that
follows the focused cloud; when the panes would be too small for the grid (more than
about 20 clouds at 160x48), the wide layout shows the table in the grid's place and
keeps its side panel (cluster, nodes, leaderboard).

Both layouts are mounted once and shown or hidden by a class on the screen; hidden
widgets are not updated, so the layout not on screen costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen

from tui.actions import bindings
from tui.room_host import room_host
from tui.view import RoomView
from tui.widgets.cloud_grid import CloudGrid, only_focus_moved
from tui.widgets.cloud_table import CloudTable
from tui.widgets.cluster_summary import ClusterSummary
from tui.widgets.cue_bar import CueBar
from tui.widgets.key_hints import KeyHints
from tui.widgets.leaderboard import Leaderboard, board_height
from tui.widgets.lines import RoomLines
from tui.widgets.node_grid import NodeGrid
from tui.widgets.prompt_bar import PromptBar
from tui.widgets.room_header import RoomHeader
from tui.widgets.too_small import TooSmall

WIDE_AT = (120, 40)
"""From this size on, the grid of panes; below it, the compact table."""
MIN_SIZE = (72, 14)
"""Below this the room does not fit (the header, the summary, three table rows and the
bars); the same for any number of clouds, since the table scrolls."""
PANE_MIN = (26, 7)
"""The smallest cloud pane: a label, a step line, a bar, two log lines."""
SIDE_MARGINS = 3
"""The side panel's children each keep one blank row below them."""


ROOM_CSS = str(Path(__file__).resolve().parents[2] / "themes" / "room.tcss")
"""The room's stylesheet; a screen that shows the room's widgets without the room screen
having been shown first lists it in its own ``CSS_PATH``."""


def min_size(clouds: int = 0) -> tuple[int, int]:
    """The smallest terminal the room fits, whatever the number of clouds."""
    return MIN_SIZE


def layout_for(width: int, height: int, clouds: int = 0) -> str:
    need_w, need_h = min_size(clouds)
    if width < need_w or height < need_h:
        return "tiny"
    if width >= WIDE_AT[0] and height >= WIDE_AT[1]:
        return "wide"
    return "narrow"


def side_width(width: int) -> int:
    return 36 if width < 160 else 44


def grid_columns(grid_width: int, clouds: int) -> int:
    """Columns of panes for ``clouds`` in ``grid_width`` cells (as ``CloudGrid`` lays them)."""
    n = max(1, clouds)
    cols = min(max(2, min(6, grid_width // PANE_MIN[0])), n)
    rows = -(-n // cols)
    return -(-n // rows)


def panes_fit(width: int, height: int, clouds: int) -> bool:
    """Whether every cloud gets a pane of at least ``PANE_MIN`` in the wide layout."""
    grid_w = width - side_width(width) - 1
    grid_h = height - 3  # header, prompt bar, footer
    cols = grid_columns(grid_w, clouds)
    rows = -(-max(1, clouds) // cols)
    return grid_w // cols >= PANE_MIN[0] and grid_h // rows >= PANE_MIN[1]


@dataclass(frozen=True)
class Parts:
    """The screen's widgets, found once: a query walks the DOM (~0.4 ms for the panes
    alone), and ``show`` runs on every tick and every key."""

    header: RoomHeader
    cues: CueBar
    prompt: PromptBar
    keys: KeyHints
    grid: CloudGrid
    wide_table: CloudTable
    nodes: NodeGrid
    side: Vertical
    summary_wide: ClusterSummary
    side_lines: tuple[RoomLines, ...]
    summary_narrow: ClusterSummary
    table: CloudTable
    board_narrow: Leaderboard


class RoomScreen(Screen[None]):
    """The main screen; keys go to the App's bindings, or to an open prompt first."""

    CSS_PATH = [ROOM_CSS]
    """The room's styles (every screen's after it), read when the room is first shown:
    not parsed before the first frame, which is the one-line opening screen."""

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
        self.many = False
        """The wide layout shows the table: too many clouds for panes."""
        self._clouds = 15
        self._parts: Parts | None = None
        self._last: RoomView | None = None
        self._rest_due = False

    @property
    def parts(self) -> Parts:
        if self._parts is None:
            side = self.query_one("#side", Vertical)
            self._parts = Parts(
                header=self.query_one(RoomHeader),
                cues=self.query_one(CueBar),
                prompt=self.query_one(PromptBar),
                keys=self.query_one(KeyHints),
                grid=self.query_one(CloudGrid),
                wide_table=self.query_one("#wide-table", CloudTable),
                nodes=self.query_one(NodeGrid),
                side=side,
                summary_wide=self.query_one("#summary-wide", ClusterSummary),
                side_lines=tuple(self.query("#side > *").results(RoomLines)),
                summary_narrow=self.query_one("#summary-narrow", ClusterSummary),
                table=self.query_one("#table", CloudTable),
                board_narrow=self.query_one("#leaderboard-narrow", Leaderboard),
            )
        return self._parts

    def compose(self) -> ComposeResult:
        yield RoomHeader(id="header")
        with Container(id="wide"):
            yield CloudGrid(id="grid")
            yield CloudTable(id="wide-table")
            with Vertical(id="side"):
                yield ClusterSummary(id="summary-wide")
                yield NodeGrid(id="nodes")
                yield Leaderboard(id="leaderboard")
        with Vertical(id="narrow"):
            yield ClusterSummary(id="summary-narrow")
            yield CloudTable(id="table")
            yield Leaderboard(id="leaderboard-narrow")
        yield TooSmall(id="too-small")
        yield CueBar(id="cues")
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
        side_w = side_width(width)
        if side.styles.width is None or side.styles.width.value != side_w:
            side.styles.width = side_w
        if name == "tiny":
            need_w, need_h = min_size(self._clouds)
            self.query_one(TooSmall).need(need_w, need_h, width, height)
        many = name == "wide" and not panes_fit(width, height, self._clouds)
        if name != self.layout_name or many != self.many:
            for old in ("wide", "narrow", "tiny"):
                self.set_class(old == name, f"-{old}")
            self.set_class(many, "-many")
            self.layout_name = name
            self.many = many
            self.app.call_later(self._reshow)

    def _reshow(self) -> None:
        self.show(room_host(self.app).view)

    def grid_columns(self) -> int:
        """Clouds per row of what shows them (1 for the table), for the arrow keys."""
        if self.layout_name != "wide" or self.many:
            return 1
        return self.parts.grid.columns

    @property
    def narrow(self) -> bool:
        return self.layout_name != "wide"

    def show(self, view: RoomView) -> None:
        """Show ``view``. A focus key (a view that differs from the last only in the
        focused cloud) is drawn in two frames: first what shows the focus (two panes, or
        the table's rows), then, right after that frame, the rest that mentions it (the
        node grid's label, the footer's keys). One frame would span the screen from the
        pane to the side panel and bottom row, and Textual renders every widget in the
        rectangle around what changed (~20 of them, most of a key's time)."""
        last, self._last = self._last, view
        clouds = len(view.state.cloud_order) or 15
        if clouds != self._clouds:
            self._clouds = clouds
            self._choose_layout(self.size.width, self.size.height)
        parts = self.parts
        focus_key = (
            last is not None and last.focused != view.focused and only_focus_moved(last, view)
        )
        if self.layout_name == "wide":
            if self.many:
                parts.wide_table.show(view)
            else:
                parts.grid.show(view)
        elif self.layout_name == "narrow":
            parts.table.show(view)
        if focus_key:
            if not self._rest_due:
                self._rest_due = True
                self.call_after_refresh(self._show_rest)
            return
        self._show_rest_of(view)

    def _show_rest(self) -> None:
        """The rest of a focus key's view, or of whatever came after it."""
        self._rest_due = False
        if self._last is not None and self.is_attached:
            self._show_rest_of(self._last)

    def _show_rest_of(self, view: RoomView) -> None:
        parts = self.parts
        parts.header.show(view)
        parts.cues.show(view)
        parts.prompt.show(view)
        parts.keys.show(view)
        if self.layout_name == "wide":
            side = parts.side.content_size.height
            summary = parts.summary_wide.outer_size.height
            clouds = self._clouds
            parts.nodes.rows = max(3, side - summary - board_height(clouds) - SIDE_MARGINS)
            for widget in parts.side_lines:
                widget.show(view)
        elif self.layout_name == "narrow":
            parts.summary_narrow.show(view)
            parts.board_narrow.show(view)
