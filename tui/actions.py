"""The one table of what the presenter can do: it makes the key bindings, the footer's
hints, the help screen and the command palette, so the four never disagree.

Each entry names an ``action_*`` method of the App (``tui/app.py``); which entries show
in the footer at a given moment is decided by ``RoomApp.check_action`` from the state.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class RoomAction:
    action: str
    """The App action to run, e.g. ``kill_node`` or ``focus_cloud(3)``."""
    keys: str
    """Textual key names, comma separated."""
    key_display: str
    description: str
    """A word or two for the footer."""
    help: str
    """A sentence for the help screen and the command palette."""
    group: str = "show"
    footer: bool = True
    palette: bool = True


ACTIONS: tuple[RoomAction, ...] = (
    RoomAction("start_all", "s", "s", "start", "Start every cloud that has not started yet"),
    RoomAction("retry", "r", "r", "retry", "Retry the focused cloud from the step that failed"),
    RoomAction("cancel", "c", "c", "cancel", "Cancel the focused cloud (asks first)"),
    RoomAction("zoom", "enter", "⏎", "zoom", "Zoom the focused cloud: full log, steps, resources"),
    RoomAction(
        "kill_node",
        "k",
        "k",
        "stop node",
        "Stop a node and keep it down (pick which): cordon + delete its pod; u revives",
        "chaos",
    ),
    RoomAction(
        "restart_pod",
        "b",
        "b",
        "restart pod",
        "Restart a node's pod (pick which): Kubernetes brings it back, same node ID",
        "chaos",
    ),
    RoomAction(
        "kill_server",
        "v",
        "v",
        "stop server",
        "Stop a server (VM) of the focused cloud (pick which); u starts it again",
        "chaos",
    ),
    RoomAction(
        "kill_cloud",
        "x",
        "x",
        "kill cloud",
        "Kill the focused cloud: stop every server; u starts them again",
        "chaos",
    ),
    RoomAction(
        "revive",
        "u",
        "u",
        "revive",
        "Revive what was stopped in the focused cloud (uncordon, start servers)",
        "chaos",
    ),
    RoomAction(
        "toggle_armed",
        "a",
        "a",
        "arm",
        "Armed show mode: kills happen without a confirm step (shown in the header)",
        "chaos",
    ),
    RoomAction(
        "check",
        "p",
        "p",
        "check",
        "Preflight every cloud: credentials, flavor, image, network, pool, quotas (read-only)",
        "show",
        footer=False,
    ),
    RoomAction(
        "teardown", "d", "d", "teardown", "Tear down every cloud's resources (asks first)", "show"
    ),
    RoomAction("replay_pause", "space", "space", "pause", "Pause or resume the replay", "replay"),
    RoomAction(
        "replay_faster", "plus,equals_sign", "+", "faster", "Replay twice as fast", "replay"
    ),
    RoomAction("replay_slower", "minus", "-", "slower", "Replay half as fast", "replay"),
    RoomAction("cycle_theme", "t", "t", "theme", "Next theme: stage, light, mono", "screen"),
    RoomAction("help", "question_mark,f1", "?", "help", "Show every key", "screen"),
    RoomAction("quit", "q", "q", "quit", "Quit (asks first while clouds are running)", "screen"),
    RoomAction("focus_move(1)", "tab", "tab", "next", "Focus the next cloud", "focus", False),
    RoomAction(
        "focus_move(-1)",
        "shift+tab",
        "⇧tab",
        "previous",
        "Focus the previous cloud",
        "focus",
        False,
    ),
    RoomAction(
        "focus_step('left')",
        "left",
        "←",
        "left",
        "Focus the cloud to the left",
        "focus",
        False,
        False,
    ),
    RoomAction(
        "focus_step('right')",
        "right",
        "→",
        "right",
        "Focus the cloud to the right",
        "focus",
        False,
        False,
    ),
    RoomAction("focus_step('up')", "up", "↑", "up", "Focus the cloud above", "focus", False, False),
    RoomAction(
        "focus_step('down')", "down", "↓", "down", "Focus the cloud below", "focus", False, False
    ),
    *(
        RoomAction(
            f"focus_cloud({n})",
            str(n % 10),
            str(n % 10),
            f"cloud {n}",
            f"Focus cloud {n}",
            "focus",
            False,
            False,
        )
        for n in range(1, 11)
    ),
)

GROUP_TITLES: dict[str, str] = {
    "show": "The show",
    "chaos": "Chaos",
    "replay": "Replay",
    "screen": "Screen",
    "focus": "Focus (arrows, tab, 1-9 and 0 for the tenth cloud)",
}


def bindings() -> list[Binding]:
    """Textual bindings for every action; the footer shows those marked ``footer``."""
    return [
        Binding(a.keys, a.action, a.description, show=a.footer, key_display=a.key_display)
        for a in ACTIONS
    ]


def action_name(action: str) -> str:
    """``focus_cloud(3)`` -> ``focus_cloud``: what ``check_action`` is asked about."""
    return action.split("(", 1)[0]
