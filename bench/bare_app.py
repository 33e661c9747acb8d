"""The baseline: a bare Textual app showing one static label."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("hello from a bare Textual app")


if __name__ == "__main__":
    BareApp().run(mouse=False)
