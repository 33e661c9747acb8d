"""The footer: the keys that can do something now, from the one action table.

A line widget rather than Textual's ``Footer``: that one re-mounts a widget per key each
time the bindings change (every focus move here, since what a key can do depends on the
focused cloud), which costs a layout and a full repaint per key press.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tui.actions import ACTIONS, action_name
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines

Allowed = Callable[[str], bool | None]


def hints(allowed: Allowed, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(key, description) for every footer action ``allowed`` does not rule out."""
    out = list(extra)
    for a in ACTIONS:
        if a.footer and allowed(action_name(a.action)) is not False:
            out.append((a.key_display, a.description))
    return out


class KeyHints(RoomLines):
    DEFAULT_CSS = "KeyHints { height: 1; }"

    def __init__(
        self,
        allowed: Allowed,
        extra: tuple[tuple[str, str], ...] = (),
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._allowed = allowed
        self._extra = extra

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        parts: list[Part] = []
        used = 0
        tail = " ^p palette "
        for key, description in hints(self._allowed, self._extra):
            cell = len(key) + len(description) + 3
            if used + cell > width - len(tail):
                break
            parts.append((f" {key} ", "bold $footer-key-foreground"))
            parts.append((f"{description} ", "$foreground"))
            used += cell
        parts.append((" " * max(0, width - used - len(tail)), ""))
        parts.append((tail, "$text-muted"))
        return [tuple(parts)]
