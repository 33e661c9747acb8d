"""The quit question, when quitting matters: real clouds hold resources, or are still
making or deleting them.

A modal, not the one-line prompt bar: the answer decides whether servers keep running
in fifteen clouds, so the question names how many resources, in which clouds, and the
exact teardown command, which does not fit on a bar. One key answers (``l``, ``s``,
``t``); any other key goes back to the show and does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.quit_words import CHOICES, Holdings, QuitChoice, question_lines

if TYPE_CHECKING:
    from engine.room_api import Reply


@runtime_checkable
class ShowLink(Protocol):
    """A room that is a show in an engine process of its own (``engine.room_client``'s
    ``RemoteRoom``): a screen can leave it running or stop it. An in-process room has
    neither: closing it stops the show."""

    async def detach(self) -> None: ...

    async def stop(self, teardown: bool = False) -> Reply: ...


def show_link(room: object) -> ShowLink | None:
    return room if isinstance(room, ShowLink) else None


def quit_text(h: Holdings) -> Content:
    """Labels are outside text, already ``shown``: plain ``Content``, never markup."""
    lines = [Content.assemble(("QUIT?", "bold"), "  What happens to the show?"), Content("")]
    lines.extend(Content(line) for line in question_lines(h))
    lines.append(Content(""))
    lines.extend(
        Content.assemble((f" {key} ", "bold reverse"), f"  {words}") for key, _, words in CHOICES
    )
    lines.append(Content(""))
    lines.append(Content("any other key: back to the show"))
    return Content("\n").join(lines)


class QuitScreen(ModalScreen[QuitChoice | None]):
    """Dismissed with the choice, or ``None`` to stay."""

    DEFAULT_CSS = """
    QuitScreen {
        align: center middle;
        background: $background 60%;
    }
    #quit-box {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $error;
        background: $surface;
        padding: 0 2;
    }
    """

    def __init__(self, holdings: Holdings) -> None:
        super().__init__()
        self.holdings = holdings

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Static(quit_text(self.holdings), id="quit-text")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        choice = {key: choice for key, choice, _ in CHOICES}.get(event.key)
        self.dismiss(choice)
