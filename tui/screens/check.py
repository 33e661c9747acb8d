"""The preflight check as a screen: is every cloud ready for the show?

It asks the room (``check``) and shows each cloud's answer as it arrives from the
folded state; it holds no check logic of its own. Any key closes it.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.state import RoomState
from engine.terminal_text import shown
from tui.room_host import room_host

REFRESH_S = 0.5


def check_text(state: RoomState) -> Content:
    """Cloud answers are free text: they are ``shown`` (no secret, no control character)
    and put into plain ``Content``, never into markup (escaping markup is not enough:
    ``[`` before a capital letter is left unescaped and swallows what follows)."""
    rows = state.cloud_list()
    answered = [c for c in rows if c.preflight_ok is not None]
    ready = sum(1 for c in answered if c.preflight_ok)
    head = Content.assemble(
        ("Preflight", "bold"),
        f"   {ready}/{len(rows)} ready, {len(rows) - len(answered)} still "
        "checking   (read-only; any key closes)",
    )
    lines = [head, Content("")]
    labels = {c.name: shown(c.label, 64) for c in rows}
    width = max((len(label) for label in labels.values()), default=5)
    for c in rows:
        if c.preflight_ok is None:
            verdict, reason = "…  checking", ""
        elif c.preflight_ok:
            verdict, reason = "✔  ok      ", c.preflight
        else:
            verdict, reason = "✖  PROBLEM ", c.preflight
        lines.append(Content(f"{labels[c.name]:<{width}}  {verdict}  {shown(reason)}"))
        lines.extend(Content(f"{'':<{width}}      {shown(q)}") for q in c.preflight_quotas)
    return Content("\n").join(lines)


class CheckScreen(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="check-box"):
            yield Static(check_text(self._state()), id="check-text")

    def _state(self) -> RoomState:
        return room_host(self.app).state

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self._refresh)

    def _refresh(self) -> None:
        self.query_one("#check-text", Static).update(check_text(self._state()))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(None)
