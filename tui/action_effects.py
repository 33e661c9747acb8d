"""What each action of the table (``tui/actions.py``) does when its key is pressed.

Destructive ones ask on the prompt bar first (``ActionContext.confirm``), naming the
exact target and what will happen; every effect on the room is one ``RoomCommands``
call (``ActionContext.send``), so nothing here decides what the engine does.
"""

from __future__ import annotations

from functools import partial

from engine.targets import KIND_MEANINGS, KIND_TITLES, node_index, parse_target, server_name
from tui.action_record import ActionContext
from tui.look import counted
from tui.screens.quit import show_link
from tui.screens.quit_words import holdings_of, unasked_ending

# --- the show --------------------------------------------------------------------------------


async def start_all(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.start())


async def retry(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is not None:
        await ctx.send(lambda room: room.retry(c.name))


def cancel(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is None:
        return
    step = c.current.name if c.current else "its current step"
    ctx.confirm(
        f"CANCEL {c.label} at {step}? What it made stays (r retries, d tears down).",
        lambda: ctx.send(lambda room: room.cancel(c.name)),
    )


def teardown(ctx: ActionContext) -> None:
    count = sum(c.resources for c in ctx.state.cloud_list())
    ctx.confirm(
        f"TEAR DOWN run {ctx.state.run_id}: cancel every cloud and delete "
        f"{counted(count, 'resource', every=True)}?",
        lambda: ctx.send(lambda room: room.teardown()),
    )


async def check(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.check())
    ctx.host.open_check()


# --- chaos -------------------------------------------------------------------------------------


def kill(ctx: ActionContext, target: str, what: str) -> None:
    """Confirm (unless armed) naming the exact target, the fault and what it does."""
    kind = parse_target(target).kind
    ctx.confirm(
        f"KILL {target}: {KIND_TITLES[kind]} ({what})?",
        lambda: ctx.send(lambda room: room.kill(target)),
    )


def pick_node(ctx: ActionContext, kind: str) -> None:
    """Which node of the focused cloud: ``n2`` is node 2, the one on server 2."""
    c = ctx.focused
    if c is None:
        return
    choices = []
    for n in ctx.state.nodes_of(c.name)[:9]:
        index = node_index(n.node)
        if index is None:
            continue
        target = f"{c.name}/{kind}-{index}"
        what = f"node {n.node_id or '?'}: {KIND_MEANINGS[kind]}"
        choices.append((str(index), f"n{index} {n.liveness}", partial(kill, ctx, target, what)))
    if choices:
        ctx.host.questions.pick(
            f"{KIND_TITLES[kind].capitalize()}: which node of {c.label}?", choices
        )


def kill_server(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is None:
        return
    choices = []
    for i in range(1, min(9, c.expected_nodes) + 1):
        target = server_name(c.name, i)
        what = f"stop the VM and node-{i} on it; the cluster sees suspect, then dead"
        choices.append((str(i), f"server-{i}", partial(kill, ctx, target, what)))
    ctx.host.questions.pick(f"Stop which server of {c.label}?", choices)


def kill_cloud(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is not None:
        count = len(ctx.state.nodes_of(c.name))
        kill(ctx, c.name, f"stop every server, {counted(count, 'node', every=True)} at once")


def partition_cloud(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is not None:
        kill(
            ctx,
            f"{c.name}/partition",
            f"cut {c.label}'s nodes off from every other cloud; the venue still sees both sides",
        )


def revive_later(ctx: ActionContext, target: str) -> None:
    ctx.host.call_later(ctx.send, lambda room: room.revive(target))


def revive(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is None:
        return
    targets = ctx.state.killed_targets(c.name)
    if not targets:
        ctx.host.questions.say(f"nothing of {c.label} is killed")
        return
    ctx.host.questions.pick(
        f"Revive what in {c.label}?",
        [(str(i), t, partial(revive_later, ctx, t)) for i, t in enumerate(targets[:9], 1)],
    )


def toggle_armed(ctx: ActionContext) -> None:
    host = ctx.host
    host.armed = not host.armed
    host.questions.say(
        "ARMED: kill keys act without asking" if host.armed else "disarmed: kills ask first"
    )
    host.refresh_view()


# --- focus and screens ----------------------------------------------------------------------


def set_focus(ctx: ActionContext, index: int) -> None:
    order = ctx.state.cloud_order
    if order:
        ctx.host.focused_cloud = order[index % len(order)]
        ctx.host.refresh_view()


def focused_index(ctx: ActionContext) -> int:
    order = ctx.state.cloud_order
    focused = ctx.host.focused_cloud
    return order.index(focused) if focused in order else 0


def focus_move(delta: int, ctx: ActionContext) -> None:
    if ctx.state.cloud_order:
        set_focus(ctx, focused_index(ctx) + delta)


def focus_step(direction: str, ctx: ActionContext) -> None:
    cols = ctx.host.grid_columns()
    delta = {"left": -1, "right": 1, "up": -cols, "down": cols}[direction]
    if cols == 1 and direction in ("left", "right"):
        return
    order = ctx.state.cloud_order
    if order:
        i = focused_index(ctx)
        if 0 <= i + delta < len(order):
            set_focus(ctx, i + delta)


def focus_cloud(n: int, ctx: ActionContext) -> None:
    if n <= len(ctx.state.cloud_order):
        set_focus(ctx, n - 1)


def zoom(ctx: ActionContext) -> None:
    c = ctx.focused
    if c is not None and ctx.screen == "room":
        ctx.host.open_zoom(c.name)


def show_help(ctx: ActionContext) -> None:
    ctx.host.open_help()


def cycle_theme(ctx: ActionContext) -> None:
    ctx.host.questions.say(f"theme: {ctx.host.next_theme()}")


# --- replay -------------------------------------------------------------------------------------


async def replay_pause(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.toggle_pause())


async def replay_faster(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.faster())


async def replay_slower(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.slower())


async def replay_next_marker(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.next_marker())


async def replay_previous_marker(ctx: ActionContext) -> None:
    await ctx.send(lambda room: room.previous_marker())


# --- quitting -----------------------------------------------------------------------------------


async def quit_room(ctx: ActionContext) -> None:
    host = ctx.host
    if show_link(host.room) is not None and host.playback is None:
        await quit_show(ctx)
        return
    clouds = ctx.state.cloud_list()
    running = [c for c in clouds if c.status == "running"]
    tearing = [c for c in clouds if c.status == "tearing_down"]
    if not (running or tearing) or host.playback is not None:
        await host.leave(0)
        return
    busy: list[str] = []
    for group, doing in ((running, "still running"), (tearing, "still tearing down")):
        if group:
            names = ", ".join(c.label for c in group[:3]) + (" …" if len(group) > 3 else "")
            busy.append(f"{counted(len(group), 'cloud')} {doing} ({names})")
    stop = "stop where they are and keep their resources" if running else "stop deleting"
    ctx.confirm(
        f"QUIT? {'; '.join(busy)} {stop}; what is left is in the ledger: "
        f"crossroom teardown --run {ctx.state.run_id}",
        lambda: host.leave(0),
    )


async def quit_show(ctx: ActionContext) -> None:
    """A screen of an engine process: ask only when real clouds hold or are changing
    something; otherwise leave as ``unasked_ending`` says."""
    host = ctx.host
    holdings = holdings_of(ctx.state)
    if host.engine_gone:
        await host.leave(0)
    elif holdings.matters:
        host.ask_quit(holdings)
    else:
        await host.leave(0, ending=unasked_ending(holdings))
