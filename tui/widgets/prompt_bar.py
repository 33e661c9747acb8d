"""The one-line bar above the footer: a one-key confirm naming the exact target, or a
pick ("kill which node?"), or else the latest notice.

Not a modal screen: a modal costs a full repaint (~70 KB at 200x60, textual.md E8); this
line costs a few hundred bytes to show and hide, and the show never leaves the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.terminal_text import shown
from tui.widgets.lines import Line, RoomLines, fit

if TYPE_CHECKING:
    from tui.view import RoomView


def wrap(text: str, width: int, rows: int) -> list[str]:
    """Words into at most ``rows`` lines of ``width`` (a question must be read whole)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    if len(lines) > rows:
        lines = [*lines[: rows - 1], " ".join(lines[rows - 1 :])]
    return [fit(row, width).ljust(width) for row in lines]


NOTICE_STYLES = {"info": "$text-muted", "warning": "bold $warning", "error": "bold $error"}


class PromptBar(RoomLines):
    DEFAULT_CSS = "PromptBar { height: auto; max-height: 3; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.question = ""
        self.danger = False

    def ask(self, question: str, *, danger: bool = False) -> None:
        """Show a question; the App routes the next key to its answer."""
        self.question = question
        self.danger = danger
        self.set_class(bool(question), "-asking")
        if self._view is not None:
            self.show(self._view)

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        if self.question:
            style = "bold reverse $error" if self.danger else "bold reverse $primary"
            return [((row, style),) for row in wrap(f" {self.question} ", width, 3)]
        notices = view.state.notices
        if notices:
            n = notices[-1]
            text = f" {shown(n.message)}"
            return [((fit(text, width), NOTICE_STYLES.get(n.level, "")),)]
        return [((" ", ""),)]
