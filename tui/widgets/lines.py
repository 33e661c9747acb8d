"""A widget drawn as lines of (text, style) parts that repaints only the rows that changed.

Terminal bytes are the cost that hurts over SSH: a timer ticking in one row of a pane
should send that row, not the pane. Subclasses build their lines from a ``RoomView``;
this base diffs them against the last lines and refreshes just the changed rows.

Parts are plain text, never markup, and every part is made ``visible`` where it becomes
a segment: a control character in a label or a log line cannot reach the terminal,
whichever widget shows it. Outside text is also ``shown`` (masked and capped) by the
widget that picks it, before it is fitted to the width.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget

from engine.terminal_text import visible

if TYPE_CHECKING:
    from tui.view import RoomView

Part = tuple[str, str]
"""Text and a Content style (theme variables allowed, e.g. ``"bold $node-dead"``)."""
Line = tuple[Part, ...]
ELLIPSIS = "…"


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells, marking the cut with an ellipsis."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS


def line_len(line: Line) -> int:
    return sum(len(text) for text, _ in line)


def pad(line: Line, width: int) -> Line:
    """Cut or fill a line to exactly ``width`` cells (so an old longer row is overwritten)."""
    out: list[Part] = []
    cells_left = width
    for text, style in line:
        if cells_left <= 0:
            break
        if len(text) > cells_left:
            text = fit(text, cells_left)
        out.append((text, style))
        cells_left -= len(text)
    if cells_left > 0:
        out.append((" " * cells_left, ""))
    return tuple(out)


def _segments(text: str, style: RichStyle) -> tuple[Segment, ...]:
    """A part as segments, a cut's ellipsis on its own.

    The compositor crops a changed row at the content's edge, which is where a fitted
    part ends. Rich splits a segment that is not all plain Latin through a cache of 16,384
    entries (``Segment._split_cells``), even at its very end: under a flood every fitted
    log line became an entry, and the room held 2.7 MB more after 35 minutes, a step of
    it at 30:00 (``bench.rss``). With the ellipsis apart, the cut lands on ``"…"``: one
    entry per style."""
    if len(text) > 1 and text.endswith(ELLIPSIS):
        return Segment(text[:-1], style), Segment(ELLIPSIS, style)
    return (Segment(text, style),)


class RoomLines(Widget):
    """Base for the room's text widgets; ``show`` is called on every tick of the App."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[Line] = []
        self._view: RoomView | None = None
        self._strips: dict[Line, Strip] = {}
        self._styles: dict[str, RichStyle] = {}
        self._base: VisualStyle | None = None

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        """The lines to show; only called with a view, at the widget's content size."""
        raise NotImplementedError

    def show(self, view: RoomView) -> None:
        self._view = view
        if not self.display or not self.is_mounted:
            return
        size = self.content_size
        lines = [pad(line, size.width) for line in self.build(view, size.width, size.height)]
        old = self._lines
        if lines == old:
            return
        self._lines = lines
        if len(lines) != len(old):
            self.refresh(layout=self.styles.height is not None and self.styles.height.is_auto)
            return
        width = size.width
        for y, (new, was) in enumerate(zip(lines, old, strict=True)):
            if new != was:
                self.refresh(Region(0, y, width, 1))

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme: object = None) -> None:
        """Theme colours are baked into cached strips: drop them and repaint."""
        self._strips.clear()
        self._styles.clear()
        self.refresh()

    def on_resize(self) -> None:
        self._lines = []
        self._strips.clear()
        if self._view is not None:
            self.show(self._view)
        self.refresh()

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self._lines)

    def _rich(self, style: str) -> RichStyle:
        """A part's style on this widget's background, parsed once per theme."""
        base = self.visual_style
        if base != self._base:
            self._base = base
            self._styles.clear()
            self._strips.clear()
        rich = self._styles.get(style)
        if rich is None:
            rich = (base + VisualStyle.parse(style)).rich_style if style else base.rich_style
            self._styles[style] = rich
        return rich

    def render_line(self, y: int) -> Strip:
        """One line, from a cache keyed by the line's parts: unchanged rows cost nothing.

        Built straight from segments (the parts are already cut to the width), which is
        several times cheaper than laying out a ``Content`` for every changed row.
        """
        width = self.size.width
        if y >= len(self._lines):
            return Strip.blank(width, self.visual_style.rich_style)
        line = self._lines[y]
        strip = self._strips.get(line)
        if strip is None or self._base != self.visual_style:
            if len(self._strips) > 4 * max(8, len(self._lines)):
                self._strips.clear()
            segments = [
                segment
                for text, style in line
                if text
                for segment in _segments(visible(text), self._rich(style))
            ]
            # Not ``crop_extend``: on a strip already ``width`` long it caches the strip in
            # itself, a reference cycle only a full collection frees (rows that lived long
            # enough to reach the oldest generation piled up: the RSS creep under a flood).
            strip = Strip(segments).adjust_cell_length(width, self.visual_style.rich_style)
            self._strips[line] = strip
        return strip
