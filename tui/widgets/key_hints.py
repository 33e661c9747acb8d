"""The footer: the keys that can do something now, from the one action table.

A line widget rather than Textual's ``Footer``: that one re-mounts a widget per key each
time the bindings change (every focus move here, since what a key can do depends on the
focused cloud), which costs a layout and a full repaint per key press.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tui.actions import ACTIONS
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines

Allowed = Callable[[str], bool | None]
ALWAYS = ("help", "quit")
"""Hints kept however narrow the terminal: the way out and the way to everything else."""


def hints(allowed: Allowed, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(key, description) for every footer action ``allowed`` does not rule out."""
    out = list(extra)
    for a in ACTIONS:
        if a.footer and allowed(a.name) is not False:
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
        tail = " ^p palette "
        every = hints(self._allowed, self._extra)

        def cost(hint: tuple[str, str]) -> int:
            return len(hint[0]) + len(hint[1]) + 3

        budget = width - len(tail) - sum(cost(h) for h in every if h[1] in ALWAYS)
        chosen: list[tuple[str, str]] = []
        for hint in every:
            if hint[1] in ALWAYS:
                chosen.append(hint)
            elif cost(hint) <= budget:
                chosen.append(hint)
                budget -= cost(hint)
        parts: list[Part] = []
        for key, description in chosen:
            parts.append((f" {key} ", "bold $footer-key-foreground"))
            parts.append((f"{description} ", "$foreground"))
        used = sum(cost(h) for h in chosen)
        parts.append((" " * max(0, width - used - len(tail)), ""))
        parts.append((tail, "$text-muted"))
        return [tuple(parts)]
