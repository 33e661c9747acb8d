"""One record per thing the presenter can do: its key, its words, how dangerous it is,
when it can do anything, and what it does (the table is ``tui/actions.py``).

Learnt from k9s (``internal/ui/action.go``: a key is one record saying what it does,
whether it shows, whether it is dangerous) and harlequin (``actions.py``: actions as
data). ``enabled`` and ``run`` are given an ``ActionContext``: the folded state, the
focused cloud and the screen's mode, plus the App as a typed ``RoomHost``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# Types only: the key table is read before the first frame, the engine's modules after it.
if TYPE_CHECKING:
    from engine.room_api import Reply, RoomCommands
    from engine.state import CloudState, RoomState
    from tui.room_host import RoomHost

    RoomCall = Callable[[RoomCommands], Awaitable[Reply]]
    """One call of the room's command API."""

Danger = Literal["safe", "asks", "kill"]
"""``asks``: the prompt bar asks first, every time (cancel, teardown, quit while clouds
run). ``kill``: asks first unless the presenter armed the room (show mode)."""
ScreenKind = Literal["room", "zoom", "none"]
"""The screen keys act on (under any palette or help on top): the room, one cloud
zoomed, or neither (the App is starting or leaving)."""


@dataclass(frozen=True)
class ActionContext:
    """What an action sees when it is asked whether it is enabled, or run."""

    host: RoomHost
    state: RoomState
    focused: CloudState | None
    """The focused cloud's state (``None`` before the run has clouds)."""
    screen: ScreenKind
    replay: bool
    """A recording is playing: nothing reaches an engine, only the replay keys act."""
    armed: bool
    danger: Danger = "safe"
    """The danger of the action being run: how ``confirm`` asks."""

    async def send(self, call: RoomCall) -> None:
        """Run one room command; a refusal or failure reads as a line, never a crash."""
        room = self.host.room
        if room is None:
            self.host.questions.say("the engine is not ready yet")
            return
        try:
            reply = await call(room)
        except Exception as exc:
            self.host.questions.say(f"command failed: {type(exc).__name__}: {exc}")
        else:
            if not reply.accepted:
                self.host.questions.say(reply.reason)
        self.host.refresh_view()

    def confirm(self, question: str, do: Callable[[], Awaitable[None]]) -> None:
        """Ask on the prompt bar before ``do``, except a kill while the room is armed
        (read when the question would open: a pick may come first)."""
        if self.danger == "kill" and self.host.armed:
            self.host.call_later(do)
        else:
            self.host.questions.confirm(question, do)


Enabled = Callable[[ActionContext], bool]
Run = Callable[[ActionContext], Awaitable[None] | None]


def always(ctx: ActionContext) -> bool:
    return True


@dataclass(frozen=True)
class RoomAction:
    name: str
    """Unique; the App runs it as ``room('<name>')`` (see ``action``)."""
    keys: str
    """Textual key names, comma separated."""
    key_display: str
    description: str
    """A word or two for the footer."""
    help: str
    """A sentence for the help screen and the command palette."""
    run: Run
    enabled: Enabled = always
    """Whether the key can do anything now; the footer and the palette show only those
    that can, and Textual does not run the others."""
    group: str = "show"
    danger: Danger = "safe"
    footer: bool = True
    palette: bool = True

    @property
    def action(self) -> str:
        """The Textual action string that runs this record (bindings, palette)."""
        return f"room({self.name!r})"
