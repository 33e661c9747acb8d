"""What the control room's App offers its screens and its action table, as a type.

Screens see ``self.app`` as a plain ``App``; they reach the room's App only through
``room_host`` (``RoomHost``), so mypy checks every use instead of a ``getattr`` that
hides a misspelt name. ``RoomApp`` satisfies it (``tui/app.py`` hands itself to the
action table as one, which is where mypy holds it to this shape).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App

    from engine.room_api import Playback, RoomCommands
    from engine.state import RoomState
    from tui.inbox import LogBook
    from tui.questions import Questions
    from tui.screens.quit_words import Holdings, QuitChoice
    from tui.view import RoomView


class RoomHost(Protocol):
    state: RoomState
    """The folded state as of the last tick."""

    @property
    def view(self) -> RoomView:
        """What the widgets were last given."""
        ...

    logs: LogBook
    """Each cloud's recent log lines (the zoom view's full log)."""
    room: RoomCommands | None
    """The room's commands; ``None`` until the engine is up, and again once it closed."""
    focused_cloud: str | None
    armed: bool
    """Show mode: kills act without a confirm step."""
    questions: Questions
    """The question open on the prompt bar."""
    engine_gone: bool
    """The engine process the screen was attached to has gone."""

    @property
    def playback(self) -> Playback | None:
        """How the recording plays when the room is a replay; ``None`` for a live show."""
        ...

    def answer_prompt(self, key: str) -> bool:
        """Give a key to the open question first; True when it was taken."""
        ...

    def refresh_view(self, *, slow: bool = False, timers: bool = False) -> None: ...

    def call_later(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool: ...

    def leave(self, code: int = 0, ending: QuitChoice | None = None) -> Awaitable[None]:
        """Close the room, then exit; a show in an engine process is left running or
        stopped (``ending``)."""
        ...

    def ask_quit(self, holdings: Holdings) -> None:
        """Ask how to quit a show that holds real resources (leave, stop, tear down)."""
        ...

    def grid_columns(self) -> int:
        """Clouds per row on the screen keys act on (1 in the compact table)."""
        ...

    def next_theme(self) -> str:
        """Switch to the next theme; its name."""
        ...

    def open_zoom(self, cloud: str) -> None: ...

    def open_help(self) -> None: ...

    def open_check(self) -> None: ...


def room_host(app: App[Any]) -> RoomHost:
    """The App a room screen runs in: only ``RoomApp`` hosts these screens."""
    return cast("RoomHost", app)
