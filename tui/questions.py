"""The question open on the prompt bar and what its next key does.

Destructive keys ask here, naming the exact target and what will happen; ``y`` or enter
does it, any other key dismisses the question and does nothing. One key answers: a
confirm that took more keys was what k9s users complained about.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.css.query import QueryError
from textual.screen import Screen

from tui.widgets.prompt_bar import PromptBar

YES = ("y", "enter")
FLASH_S = 4.0
"""Seconds a short message (``say``) stays on the bar."""

Answer = Callable[[], Awaitable[object] | object]
"""What a key of the open question does; awaited when it returns an awaitable."""
Later = Callable[[Callable[[], Awaitable[None]]], object]
"""Run a callback after the current message (the App's ``call_later``)."""
Timer = Callable[[float, Callable[[], None]], object]
"""Run a callback once after a delay (the App's ``set_timer``)."""


@dataclass
class Prompt:
    """A question on the prompt bar: ``answers`` maps a key to what it does; any other
    key dismisses the question and does nothing."""

    question: str
    answers: dict[str, Answer] = field(default_factory=dict)
    danger: bool = False


def bar_of(screen: Screen[Any] | None) -> PromptBar | None:
    """The prompt bar of ``screen``, if it has one mounted."""
    if screen is None:
        return None
    try:
        return screen.query_one(PromptBar)
    except QueryError:
        return None


async def awaited(result: Awaitable[object]) -> None:
    await result


class Questions:
    """Holds the open question; the screens give it each key first (``answer``)."""

    def __init__(self, bar: Callable[[], PromptBar | None], later: Later, timer: Timer) -> None:
        self._bar = bar
        self._later = later
        self._timer = timer
        self.prompt: Prompt | None = None

    def ask(self, question: str, answers: dict[str, Answer], danger: bool = False) -> None:
        self.prompt = Prompt(question, answers, danger)
        bar = self._bar()
        if bar is not None:
            bar.ask(question, danger=danger)

    def confirm(self, question: str, do: Answer, danger: bool = True) -> None:
        self.ask(f"{question}  y/⏎ yes · other key no", {k: do for k in YES}, danger)

    def pick(self, question: str, choices: Sequence[tuple[str, str, Callable[[], None]]]) -> None:
        """Ask which one (key, label, what it does); a single choice is taken at once."""
        if len(choices) == 1:
            choices[0][2]()
            return
        text = "  ".join(f"[{key}] {label}" for key, label, _ in choices)
        self.ask(f"{question}  {text}  · other key: none", {k: f for k, _, f in choices})

    def say(self, text: str) -> None:
        """A short message on the bar that clears itself."""
        self.prompt = None
        bar = self._bar()
        if bar is not None:
            bar.ask(text)
            self._timer(FLASH_S, lambda: bar.ask("") if bar.question == text else None)

    def close(self) -> None:
        self.prompt = None
        bar = self._bar()
        if bar is not None:
            bar.ask("")

    def answer(self, key: str) -> bool:
        """Give ``key`` to the open question; True when it was taken."""
        prompt = self.prompt
        if prompt is None:
            return False
        self.close()
        do = prompt.answers.get(key)
        if do is not None:
            # At once, not later: a follow-up question (which node? -> kill it?) must be
            # open before the next key of the same burst arrives ("k2y" typed at once).
            result = do()
            if inspect.isawaitable(result):
                self._later(lambda: awaited(result))
        return True
