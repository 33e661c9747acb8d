"""The one table of what the presenter can do: it makes the key bindings, the footer's
hints, the help screen and the command palette, and it answers the App's
``check_action``, so none of them can disagree.

Each entry is a ``RoomAction`` (``tui/action_record.py``): the key, the words, the
danger, when it is enabled (the functions below, of the folded state, the focused cloud
and the screen's mode) and what it does (``tui/action_effects.py``).
"""

from __future__ import annotations

from functools import partial

from textual.binding import Binding

from tui import action_effects as do
from tui.action_record import ActionContext, RoomAction

# --- when an action can do something -------------------------------------------------------


def commands_reach_a_room(ctx: ActionContext) -> bool:
    """Room commands need a live room (not a replay) and the room or zoom screen."""
    return not ctx.replay and ctx.screen != "none"


def can_start(ctx: ActionContext) -> bool:
    return commands_reach_a_room(ctx) and any(
        c.status in ("idle", "torn_down") for c in ctx.state.cloud_list()
    )


def can_retry(ctx: ActionContext) -> bool:
    c = ctx.focused
    return commands_reach_a_room(ctx) and c is not None and c.status in ("failed", "cancelled")


def can_cancel(ctx: ActionContext) -> bool:
    c = ctx.focused
    return commands_reach_a_room(ctx) and c is not None and c.status == "running"


def has_nodes(ctx: ActionContext) -> bool:
    c = ctx.focused
    return commands_reach_a_room(ctx) and c is not None and bool(ctx.state.nodes_of(c.name))


def has_killed(ctx: ActionContext) -> bool:
    c = ctx.focused
    return commands_reach_a_room(ctx) and c is not None and bool(ctx.state.killed_targets(c.name))


def has_resources(ctx: ActionContext) -> bool:
    return commands_reach_a_room(ctx) and any(
        c.status not in ("idle", "torn_down") for c in ctx.state.cloud_list()
    )


def on_room_screen(ctx: ActionContext) -> bool:
    return ctx.screen == "room"


def can_zoom(ctx: ActionContext) -> bool:
    return ctx.screen == "room" and ctx.focused is not None


def replaying(ctx: ActionContext) -> bool:
    return ctx.replay


def has_next_cue(ctx: ActionContext) -> bool:
    return commands_reach_a_room(ctx) and ctx.state.cue_next is not None


def gate_held(ctx: ActionContext) -> bool:
    return commands_reach_a_room(ctx) and ctx.state.gate == "held"


async def fire_next_cue(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.fire_next_cue())


async def release_gate(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.release_gate())


# --- the table ------------------------------------------------------------------------------------

# Kept by hand, a record a few lines, so the table reads as one (the formatter would
# give every field its own line).
# fmt: off
ACTIONS: tuple[RoomAction, ...] = (
    RoomAction(
        "start_all", "s", "s", "start", "Start every cloud that has not started yet",
        run=do.start_all, enabled=can_start,
    ),
    RoomAction(
        "retry", "r", "r", "retry", "Retry the focused cloud from the step that failed",
        run=do.retry, enabled=can_retry,
    ),
    RoomAction(
        "cancel", "c", "c", "cancel", "Cancel the focused cloud (asks first)",
        run=do.cancel, enabled=can_cancel, danger="asks",
    ),
    RoomAction(
        "zoom", "enter", "⏎", "zoom", "Zoom the focused cloud: full log, steps, resources",
        run=do.zoom, enabled=can_zoom,
    ),
    RoomAction(
        "kill_node", "k", "k", "stop node",
        "Stop a node and keep it down (pick which): cordon + delete its pod; u revives",
        run=partial(do.pick_node, kind="node"), enabled=has_nodes, group="chaos", danger="kill",
    ),
    RoomAction(
        "restart_pod", "b", "b", "restart pod",
        "Restart a node's pod (pick which): Kubernetes brings it back, same node ID",
        run=partial(do.pick_node, kind="pod"), enabled=has_nodes, group="chaos", danger="kill",
    ),
    RoomAction(
        "kill_server", "v", "v", "stop server",
        "Stop a server (VM) of the focused cloud (pick which); u starts it again",
        run=do.kill_server, enabled=has_nodes, group="chaos", danger="kill",
    ),
    RoomAction(
        "kill_cloud", "x", "x", "kill cloud",
        "Kill the focused cloud: stop every server; u starts them again",
        run=do.kill_cloud, enabled=has_nodes, group="chaos", danger="kill",
    ),
    RoomAction(
        "crash_process", "h", "h", "crash",
        "Crash a node's CockroachDB process over SSH (pick which): SIGKILL, the kubelet "
        "restarts it, same node ID",
        run=partial(do.pick_node, kind="crash"), enabled=has_nodes, group="chaos",
        danger="kill", footer=False,
    ),
    RoomAction(
        "freeze_process", "f", "f", "freeze",
        "Freeze a node's CockroachDB process over SSH (pick which): SIGSTOP; u sends SIGCONT",
        run=partial(do.pick_node, kind="freeze"), enabled=has_nodes, group="chaos",
        danger="kill", footer=False,
    ),
    RoomAction(
        "partition_cloud", "i", "i", "partition",
        "Isolate the focused cloud: cut its nodes off from every other cloud; u heals",
        run=do.partition_cloud, enabled=has_nodes, group="chaos", danger="kill", footer=False,
    ),
    RoomAction(
        "revive", "u", "u", "revive",
        "Revive what was stopped in the focused cloud (uncordon, start servers, SIGCONT, heal)",
        run=do.revive, enabled=has_killed, group="chaos",
    ),
    RoomAction(
        "toggle_armed", "a", "a", "arm",
        "Armed show mode: kills happen without a confirm step (shown in the header)",
        run=do.toggle_armed, enabled=commands_reach_a_room, group="chaos",
    ),
    RoomAction(
        "check", "p", "p", "check",
        "Preflight every cloud: credentials, flavor, image, network, pool, quotas (read-only)",
        run=do.check, enabled=commands_reach_a_room, footer=False,
    ),
    RoomAction(
        "teardown", "d", "d", "teardown", "Tear down every cloud's resources (asks first)",
        run=do.teardown, enabled=has_resources, danger="asks",
    ),
    RoomAction(
        "fire_cue", "space", "space", "fire cue", "Fire the run-sheet's next cue now",
        run=fire_next_cue, enabled=has_next_cue, group="cues",
    ),
    RoomAction(
        "release_gate", "g", "g", "go", "Release the go-gate: every held cloud goes at once",
        run=release_gate, enabled=gate_held, group="cues",
    ),
    RoomAction(
        "replay_pause", "space", "space", "pause", "Pause or resume the replay",
        run=do.replay_pause, enabled=replaying, group="replay",
    ),
    RoomAction(
        "replay_faster", "plus,equals_sign", "+", "faster", "Replay twice as fast",
        run=do.replay_faster, enabled=replaying, group="replay",
    ),
    RoomAction(
        "replay_slower", "minus", "-", "slower", "Replay half as fast",
        run=do.replay_slower, enabled=replaying, group="replay",
    ),
    RoomAction(
        "replay_next_marker", "right_square_bracket", "]", "next mark",
        "Jump to the next cue, join, fault or revive",
        run=do.replay_next_marker, enabled=replaying, group="replay",
    ),
    RoomAction(
        "replay_previous_marker", "left_square_bracket", "[", "prev mark",
        "Jump back to the previous cue, join, fault or revive",
        run=do.replay_previous_marker, enabled=replaying, group="replay",
    ),
    RoomAction(
        "cycle_theme", "t", "t", "theme", "Next theme: stage, light, mono",
        run=do.cycle_theme, group="screen",
    ),
    RoomAction(
        "help", "question_mark,f1", "?", "help", "Show every key",
        run=do.show_help, group="screen",
    ),
    RoomAction(
        "quit", "q", "q", "quit", "Quit (asks first while clouds are running)",
        run=do.quit_room, group="screen", danger="asks",
    ),
    RoomAction(
        "focus_next", "tab", "tab", "next", "Focus the next cloud",
        run=partial(do.focus_move, 1), enabled=on_room_screen, group="focus", footer=False,
    ),
    RoomAction(
        "focus_previous", "shift+tab", "⇧tab", "previous", "Focus the previous cloud",
        run=partial(do.focus_move, -1), enabled=on_room_screen, group="focus", footer=False,
    ),
    *(
        RoomAction(
            f"focus_{direction}", direction, arrow, direction, f"Focus the cloud {where}",
            run=partial(do.focus_step, direction), enabled=on_room_screen, group="focus",
            footer=False, palette=False,
        )
        for direction, arrow, where in (
            ("left", "←", "to the left"),
            ("right", "→", "to the right"),
            ("up", "↑", "above"),
            ("down", "↓", "below"),
        )
    ),
    *(
        RoomAction(
            f"focus_cloud_{n}", str(n % 10), str(n % 10), f"cloud {n}", f"Focus cloud {n}",
            run=partial(do.focus_cloud, n), enabled=on_room_screen, group="focus",
            footer=False, palette=False,
        )
        for n in range(1, 11)
    ),
)
# fmt: on

ACTION_BY_NAME: dict[str, RoomAction] = {a.name: a for a in ACTIONS}

GROUP_TITLES: dict[str, str] = {
    "show": "The show",
    "chaos": "Chaos",
    "cues": "The run-sheet",
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


def find_action(action: str, parameters: tuple[object, ...] = ()) -> RoomAction | None:
    """The record behind a Textual action: ``room('retry')`` as Textual parses it, or
    the bare name ``retry`` (how the footer and palette ask)."""
    if action == "room" and parameters:
        return ACTION_BY_NAME.get(str(parameters[0]))
    return ACTION_BY_NAME.get(action)
