"""Every key, made from the same action table as the bindings, footer and palette."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.actions import ACTIONS, GROUP_TITLES


def help_text() -> str:
    lines: list[str] = ["[b]crossroom keys[/b]   (any key closes)", ""]
    for group, title in GROUP_TITLES.items():
        members = [a for a in ACTIONS if a.group == group]
        if not members:
            continue
        lines.append(f"[b $primary]{title}[/]")
        if group == "focus":
            members = [a for a in members if not a.name.startswith("focus_cloud")]
            lines.append(f"  {'1-9, 0':<12} focus cloud 1-9, 0 the tenth")
        for a in members:
            # A key such as ``[`` is text, not the start of a markup tag.
            lines.append(f"  {a.key_display:<12} {a.help}".replace("[", "\\["))
        lines.append("")
    lines.append("[b $primary]Zoom[/]")
    lines.append(f"  {'esc':<12} back to the room")
    lines.append(f"  {'/':<12} search the cloud's log")
    lines.append("")
    lines.append("Destructive keys ask on the bar above the footer: y or enter does it,")
    lines.append("any other key does not. In armed mode (a) kills do not ask.")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), id="help-text")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(None)
