"""The audience view: the show for a projector, read from the back of a hall.

Read-only and quiet: no key hints, no prompts, no focus. Big digits for the figures the
hall follows (clouds joined, nodes live, ranges under-replicated, kv ops/s), one large
caption line for the latest event, the time-to-join board, every node by cloud, and the
load chart. It reuses the control room's own board, node grid and header, so the
projector and the presenter's screen never disagree on what a state looks like.

Sizes: from 80x24 (figures on one line of text, the chart one row) up to a browser
window (figures in three-row digits, a taller chart); any number of clouds, since the
board sums up the clouds past its rows and the node grid packs or sums clouds.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Digits, Label, Sparkline

from engine.state import RoomState
from tui.view import RoomView
from tui.widgets.caption import CaptionLine
from tui.widgets.leaderboard import BOARD_ROWS, Leaderboard
from tui.widgets.lines import Line
from tui.widgets.node_grid import NodeGrid
from tui.widgets.room_header import RoomHeader

BIG_AT = (100, 34)
"""From this size on, figures in three-row digits and a taller load chart."""
FIGURE_ROWS_BIG = 4
"""Three rows of digits and a label."""
CHART_MIN_BIG = 4
"""Rows the load chart keeps at least on a big screen."""
CHART_POINTS = 120
"""Seconds of ops/s the chart shows (the state keeps this many)."""


@dataclass(frozen=True)
class FigureText:
    value: str
    """What the big digits show."""
    note: str = ""
    """Under the digits, after the label (``of 15, 1 failed``)."""
    small: str = ""
    """The figure as one bold line on a small screen (``11/15 joined``)."""
    more: str = ""
    """Added to the small line where it fits (``, 1 failed``)."""


class Figure(Vertical):
    """One key figure: big digits over a label, or one bold line when the screen is small."""

    DEFAULT_CSS = """
    Figure { width: 1fr; height: auto; padding: 0 1; }
    Figure Digits { width: auto; text-style: bold; }
    Figure .small { text-style: bold; }
    Figure .label { color: $text-muted; }
    """

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(id=id)
        self._label = label
        self._text: tuple[FigureText, int] | None = None

    def compose(self) -> ComposeResult:
        yield Digits("0")
        yield Label(Content(f"0 {self._label}"), classes="small")
        yield Label(Content(self._label), classes="label")

    def show(self, text: FigureText) -> None:
        width = self.content_size.width
        if (text, width) == self._text:
            return
        self._text = (text, width)
        small = text.small + text.more if len(text.small + text.more) <= width else text.small
        self.query_one(Digits).update(text.value)
        self.query_one(".small", Label).update(Content(small))
        words = f"{self._label} {text.note}" if text.note else self._label
        self.query_one(".label", Label).update(Content(words))


class AudienceBoard(Leaderboard):
    """The time-to-join board cut to the rows it has, the rest summed on its last row."""

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        lines = super().build(view, width, height)
        if height <= 0 or len(lines) <= height:
            return lines
        rows = max(1, height - 1)
        clouds = view.state.cloud_list()
        joined = sum(1 for c in clouds if c.time_to_join_s is not None)
        shown_joined = min(joined, rows - 1)
        rest = len(clouds) - (rows - 1)
        more = f" + {rest} more, {joined - shown_joined} of them joined"
        return [*lines[:rows], ((more, "$text-muted"),)]


def figures(state: RoomState) -> dict[str, FigureText]:
    """Each figure's words, from the folded state."""
    clouds = state.cloud_list()
    joined = sum(1 for c in clouds if c.status == "joined")
    failed = sum(1 for c in clouds if c.status == "failed")
    live = state.count("live")
    down = state.count("suspect") + state.count("dead")
    h = state.health
    w = state.workload
    failed_words = f", {failed} failed" if failed else ""
    down_words = f", {down} down" if down else ""
    unavailable = f", {h.unavailable} unavailable" if h.unavailable else ""
    return {
        "joined": FigureText(
            str(joined),
            f"of {len(clouds)}{failed_words}",
            f"{joined}/{len(clouds)} joined",
            failed_words,
        ),
        "live": FigureText(str(live), down_words[2:], f"{live} nodes live", down_words),
        "under": FigureText(
            str(h.under_replicated),
            unavailable[2:],
            f"{h.under_replicated} under-repl.",
            unavailable,
        ),
        "ops": FigureText(
            f"{w.ops_per_s:.0f}",
            f"errors {w.errors_total}",
            f"{w.ops_per_s:.0f} ops/s",
            f", {w.errors_total} err",
        ),
    }


class AudienceScreen(Screen[None]):
    DEFAULT_CSS = """
    AudienceScreen { background: $background; color: $foreground; }
    AudienceScreen RoomHeader { height: 1; background: $panel; }
    #figures { height: auto; }
    #body { height: 16; }
    #board { width: 1fr; height: 1fr; padding: 0 1; }
    #audience-nodes { width: 1fr; height: 1fr; padding: 0 1; }
    #load { height: 1fr; padding: 0 1; }
    #load-label { color: $text-muted; }
    #chart { height: 1fr; min-height: 1; }
    AudienceScreen Figure Digits, AudienceScreen Figure .label { display: none; }
    AudienceScreen.-big Figure Digits, AudienceScreen.-big Figure .label { display: block; }
    AudienceScreen.-big Figure .small { display: none; }
    """

    def __init__(self) -> None:
        super().__init__(id="audience")
        self.big = False
        self._clouds = -1

    def compose(self) -> ComposeResult:
        yield RoomHeader(id="audience-header")
        with Horizontal(id="figures"):
            yield Figure("joined", id="fig-joined")
            yield Figure("nodes live", id="fig-live")
            yield Figure("under-replicated", id="fig-under")
            yield Figure("ops/s", id="fig-ops")
        yield CaptionLine(id="caption")
        with Horizontal(id="body"):
            yield AudienceBoard(id="board")
            yield NodeGrid(id="audience-nodes")
        with Vertical(id="load"):
            yield Label(Content("kv load, ops/s"), id="load-label")
            yield Sparkline([], id="chart")

    def on_mount(self) -> None:
        self._size_class(self.app.size.width, self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._size_class(event.size.width, event.size.height)

    def _size_class(self, width: int, height: int) -> None:
        big = width >= BIG_AT[0] and height >= BIG_AT[1]
        if big != self.big:
            self.big = big
            self.set_class(big, "-big")
        self._fit_body(height)

    def _fit_body(self, height: int) -> None:
        """The board and the node grid take the rows the clouds need, the chart the rest
        (a height change is a layout pass: only when the size or the clouds change)."""
        clouds = max(0, self._clouds)
        fixed = (
            1 + (FIGURE_ROWS_BIG if self.big else 1) + 3 + 1 + (CHART_MIN_BIG if self.big else 1)
        )
        need = 1 + min(clouds, BOARD_ROWS) + (1 if clouds > BOARD_ROWS else 0)
        rows = max(3, min(need, height - fixed))
        body = self.query_one("#body")
        if body.styles.height is None or body.styles.height.value != rows:
            body.styles.height = rows

    def show(self, view: RoomView, caption: str | None) -> None:
        clouds = len(view.state.cloud_order)
        if clouds != self._clouds:
            self._clouds = clouds
            self._fit_body(self.size.height)
        self.query_one(RoomHeader).show(view)
        for name, text in figures(view.state).items():
            self.query_one(f"#fig-{name}", Figure).show(text)
        self.query_one(CaptionLine).show(caption)
        board = self.query_one(AudienceBoard)
        board.show(view)
        nodes = self.query_one(NodeGrid)
        nodes.rows = max(2, nodes.content_size.height)
        nodes.show(view)
        if view.slow:
            chart = self.query_one(Sparkline)
            history = list(view.state.workload.history[-CHART_POINTS:])
            if history != list(chart.data or []):
                chart.data = history
