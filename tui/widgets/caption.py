"""One large line telling the hall the latest significant event (``engine.captions``).

The caption is built from outside text (cloud labels, node names, error messages), so it
is shown as data: plain ``Content``, never markup, masked and made ``visible`` first.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from engine.terminal_text import shown

WAITING = "waiting for the show…"
CAPTION_CHARS = 200
"""Characters a caption keeps at most; it is read from across a hall, not studied."""


class CaptionLine(Static):
    DEFAULT_CSS = """
    CaptionLine {
        height: 3;
        padding: 0 2;
        content-align: center middle;
        text-align: center;
        text-style: bold;
        background: $primary-background;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Content(WAITING), id=id)
        self.text = WAITING

    def show(self, text: str | None) -> None:
        """Show ``text`` (``None``: keep the caption standing); repaints only on change."""
        if text is None or text == self.text:
            return
        self.text = text
        self.update(Content(shown(text, CAPTION_CHARS)))
