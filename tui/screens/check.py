"""The preflight check as a screen: is every cloud ready for the show?

It asks the room (``check``) and shows each cloud's answer as it arrives from the
folded state; it holds no check logic of its own. Any key closes it.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.state import RoomState
from engine.terminal_text import shown

REFRESH_S = 0.5


def markup_safe(text: str) -> str:
    """Cloud answers are free text: no secret, control character or Rich markup gets
    through (``shown``, then escaped)."""
    return escape(shown(text))


def check_text(state: RoomState) -> str:
    rows = state.cloud_list()
    answered = [c for c in rows if c.preflight_ok is not None]
    ready = sum(1 for c in answered if c.preflight_ok)
    lines = [
        f"[b]Preflight[/b]   {ready}/{len(rows)} ready, {len(rows) - len(answered)} still "
        "checking   (read-only; any key closes)",
        "",
    ]
    width = max((len(c.label) for c in rows), default=5)
    for c in rows:
        if c.preflight_ok is None:
            verdict, reason = "…  checking", ""
        elif c.preflight_ok:
            verdict, reason = "✔  ok      ", c.preflight
        else:
            verdict, reason = "✖  PROBLEM ", c.preflight
        lines.append(f"{markup_safe(c.label):<{width}}  {verdict}  {markup_safe(reason)}")
        lines.extend(f"{'':<{width}}      {markup_safe(q)}" for q in c.preflight_quotas)
    return "\n".join(lines)


class CheckScreen(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="check-box"):
            yield Static(check_text(self._state()), id="check-text")

    def _state(self) -> RoomState:
        app: Any = self.app
        state: RoomState = app.state
        return state

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self._refresh)

    def _refresh(self) -> None:
        self.query_one("#check-text", Static).update(check_text(self._state()))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(None)
