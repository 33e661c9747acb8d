"""The first frame: the header line and "opening the room…", while the room is built.

The room screen mounts some twenty-five widgets and styles them (tens of milliseconds);
this screen has one line, so the presenter sees crossroom at once and the room replaces
it right after that first frame. It needs nothing of the engine's.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

OPENING = "opening the room…"


class OpeningScreen(Screen[None]):
    DEFAULT_CSS = """
    OpeningScreen #opening { height: 1; }
    """

    def compose(self) -> ComposeResult:
        # Plain text (``markup=False``): nothing here is parsed as markup.
        yield Static(f" crossroom   {OPENING}", id="opening", markup=False)
