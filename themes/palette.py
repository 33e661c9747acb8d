"""The room's three themes and the check that their colours parse.

Textual accepts a theme with a bad colour and only crashes later, mid-show, with a
traceback that hides the cause (textual.md, experiment E6); so every colour is parsed
at start-up and a bad one stops the program with a line naming theme, field and value.

Besides Textual's own colours each theme sets the room's variables (``$node-live`` …)
used by ``room.tcss`` and by the widgets' markup. Mono sets every one of them to black,
white or grey: states must read from glyphs and words alone (TERM=vt100).
"""

from __future__ import annotations

from dataclasses import fields

from textual.color import Color, ColorParseError
from textual.theme import Theme

ROOM_VARIABLES: tuple[str, ...] = (
    "node-live",
    "node-suspect",
    "node-dead",
    "node-killed",
    "node-joining",
    "step-done",
    "step-running",
    "step-failed",
    "step-pending",
    "badge-rehearsal",
    "badge-armed",
    "pane-focus",
)
"""Variables every room theme must define; ``room.tcss`` and markup use them."""

STAGE = Theme(
    name="stage",
    primary="#4FC3F7",
    secondary="#82AAFF",
    accent="#FFB000",
    warning="#FFD000",
    error="#FF5555",
    success="#50FA7B",
    foreground="#FFFFFF",
    background="#000000",
    surface="#0B0B0B",
    panel="#1A1A1A",
    dark=True,
    variables={
        "node-live": "#50FA7B",
        "node-suspect": "#FFD000",
        "node-dead": "#FF5555",
        "node-killed": "#FF79C6",
        "node-joining": "#9E9E9E",
        "step-done": "#50FA7B",
        "step-running": "#4FC3F7",
        "step-failed": "#FF5555",
        "step-pending": "#8A8A8A",
        "badge-rehearsal": "#FFB000",
        "badge-armed": "#FF5555",
        "pane-focus": "#FFFFFF",
        "footer-key-foreground": "#FFB000",
    },
)
"""Dark and high contrast: the default, for a dark hall and a big screen."""

LIGHT = Theme(
    name="light",
    primary="#0046A8",
    secondary="#3F3FA0",
    accent="#A04000",
    warning="#8A5A00",
    error="#B00020",
    success="#00702A",
    foreground="#000000",
    background="#FFFFFF",
    surface="#F2F2F2",
    panel="#E0E0E0",
    dark=False,
    variables={
        "node-live": "#00702A",
        "node-suspect": "#8A5A00",
        "node-dead": "#B00020",
        "node-killed": "#7A0078",
        "node-joining": "#555555",
        "step-done": "#00702A",
        "step-running": "#0046A8",
        "step-failed": "#B00020",
        "step-pending": "#6A6A6A",
        "badge-rehearsal": "#A04000",
        "badge-armed": "#B00020",
        "pane-focus": "#000000",
        "footer-key-foreground": "#A04000",
    },
)
"""Dark ink on white: a projector in a bright room washes out dark themes."""

MONO = Theme(
    name="mono",
    primary="#FFFFFF",
    secondary="#FFFFFF",
    accent="#FFFFFF",
    warning="#FFFFFF",
    error="#FFFFFF",
    success="#FFFFFF",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#000000",
    boost="#000000",
    dark=True,
    luminosity_spread=0.0,
    variables={
        "node-live": "#FFFFFF",
        "node-suspect": "#FFFFFF",
        "node-dead": "#FFFFFF",
        "node-killed": "#FFFFFF",
        "node-joining": "#C0C0C0",
        "step-done": "#FFFFFF",
        "step-running": "#FFFFFF",
        "step-failed": "#FFFFFF",
        "step-pending": "#C0C0C0",
        "badge-rehearsal": "#FFFFFF",
        "badge-armed": "#FFFFFF",
        "pane-focus": "#FFFFFF",
        "footer-key-foreground": "#FFFFFF",
        "footer-key-background": "#000000",
        "footer-background": "#000000",
        "footer-description-background": "#000000",
        "block-cursor-background": "#FFFFFF",
        "block-cursor-foreground": "#000000",
        "input-selection-background": "#C0C0C0",
    },
)
"""No colour at all: glyphs, words, bold and reverse carry every state."""

THEMES: tuple[Theme, ...] = (STAGE, LIGHT, MONO)
THEME_NAMES: tuple[str, ...] = tuple(t.name for t in THEMES)
DEFAULT_THEME = "stage"


def theme_errors(theme: Theme) -> list[str]:
    """One line per colour that does not parse or room variable that is missing."""
    problems: list[str] = []
    for f in fields(theme):
        value = getattr(theme, f.name)
        if f.name in ("name", "variables", "dark", "ansi") or not isinstance(value, str):
            continue
        try:
            Color.parse(value)
        except ColorParseError:
            problems.append(f"theme {theme.name}: {f.name}: {value!r} is not a colour")
    for name, value in theme.variables.items():
        if not name.startswith(
            ("node-", "step-", "badge-", "pane-", "footer-", "block-", "input-")
        ):
            continue
        try:
            Color.parse(value)
        except ColorParseError:
            problems.append(f"theme {theme.name}: ${name}: {value!r} is not a colour")
    problems.extend(
        f"theme {theme.name}: ${name} is not set"
        for name in ROOM_VARIABLES
        if name not in theme.variables
    )
    return problems


def check_themes(themes: tuple[Theme, ...] = THEMES) -> list[str]:
    """Every problem in every theme; empty means the room may start."""
    return [line for theme in themes for line in theme_errors(theme)]


def next_theme(current: str) -> str:
    """The theme ``t`` switches to."""
    names = THEME_NAMES
    return names[(names.index(current) + 1) % len(names)] if current in names else names[0]
