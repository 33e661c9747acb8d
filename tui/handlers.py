"""What each entry of the action table does: prompts, confirmations and room commands.

A mixin of ``RoomApp`` (``tui/app.py``). Destructive keys ask on the prompt bar, naming
the exact target and what will happen; ``y`` or enter does it, any other key does not.
In armed mode kills skip the question (teardown always asks). Nothing here decides what
the engine does: every effect is one ``RoomCommands`` call.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from engine.room_api import Reply
from engine.targets import KIND_MEANINGS, KIND_TITLES, node_index, parse_target, server_name
from themes.palette import next_theme
from tui.screens.check import CheckScreen
from tui.screens.help import HelpScreen
from tui.screens.room import RoomScreen
from tui.screens.zoom import ZoomScreen
from tui.widgets.prompt_bar import PromptBar

YES = ("y", "enter")
FLASH_S = 4.0


Answer = Callable[[], Awaitable[None] | None]


@dataclass
class Prompt:
    """A question on the prompt bar: ``answers`` maps a key to what it does; any other
    key dismisses the question and does nothing."""

    question: str
    answers: dict[str, Answer] = field(default_factory=dict)
    danger: bool = False


class RoomActionHandlers:
    """``action_*`` methods for the App; they expect the App's attributes (see app.py)."""

    prompt: Prompt | None = None

    # --- the prompt bar ------------------------------------------------------------------

    def _bar(self: Any) -> PromptBar | None:
        try:
            return self.base_screen().query_one(PromptBar)  # type: ignore[no-any-return]
        except Exception:
            return None

    def ask(
        self: Any, question: str, answers: dict[str, Callable[[], Any]], danger: bool = False
    ) -> None:
        self.prompt = Prompt(question, answers, danger)
        bar = self._bar()
        if bar is not None:
            bar.ask(question, danger=danger)

    def confirm(self: Any, question: str, do: Callable[[], Any], danger: bool = True) -> None:
        self.ask(f"{question}  y/⏎ yes · other key no", {k: do for k in YES}, danger)

    def say(self: Any, text: str) -> None:
        """A short message on the bar that clears itself."""
        self.prompt = None
        bar = self._bar()
        if bar is not None:
            bar.ask(text)
            self.set_timer(FLASH_S, lambda: bar.ask("") if bar.question == text else None)

    def _close_prompt(self: Any) -> None:
        self.prompt = None
        bar = self._bar()
        if bar is not None:
            bar.ask("")

    def answer_prompt(self: Any, key: str) -> bool:
        """Give ``key`` to the open question; True when it was taken."""
        prompt: Prompt | None = self.prompt
        if prompt is None:
            return False
        self._close_prompt()
        do = prompt.answers.get(key)
        if do is not None:
            self.call_later(self._run_answer, do)
        return True

    async def _run_answer(self: Any, do: Callable[[], Any]) -> None:
        result = do()
        if inspect.isawaitable(result):
            await result

    async def _command(self: Any, call: Callable[[], Awaitable[Reply]]) -> None:
        """Run one room command; a refusal or failure reads as a line, never a crash."""
        if self.room is None:
            self.say("the engine is not ready yet")
            return
        try:
            reply = await call()
        except Exception as exc:
            self.say(f"command failed: {type(exc).__name__}: {exc}")
        else:
            if not reply.accepted:
                self.say(reply.reason)
        self.refresh_view()

    # --- the show ---------------------------------------------------------------------------

    async def action_start_all(self: Any) -> None:
        await self._command(lambda: self.room.start())

    async def action_retry(self: Any) -> None:
        c = self.focused_state()
        if c is not None:
            await self._command(lambda: self.room.retry(c.name))

    def action_cancel(self: Any) -> None:
        c = self.focused_state()
        if c is None:
            return
        step = c.current.name if c.current else "its current step"
        self.confirm(
            f"CANCEL {c.label} at {step}? What it made stays (r retries, d tears down).",
            lambda: self._command(lambda: self.room.cancel(c.name)),
        )

    def action_teardown(self: Any) -> None:
        count = sum(c.resources for c in self.state.cloud_list())
        self.confirm(
            f"TEAR DOWN run {self.state.run_id}: cancel every cloud and delete all "
            f"{count} resources?",
            lambda: self._command(lambda: self.room.teardown()),
        )

    # --- chaos --------------------------------------------------------------------------------

    def _kill(self: Any, target: str, what: str) -> None:
        """Confirm (unless armed) naming the exact target, the fault and what it does."""
        kind = parse_target(target).kind

        async def do() -> None:
            await self._command(lambda: self.room.kill(target))

        if self.armed:
            self.call_later(do)
        else:
            self.confirm(f"KILL {target}: {KIND_TITLES[kind]} ({what})?", do)

    def _pick(self: Any, question: str, choices: list[tuple[str, str, Callable[[], Any]]]) -> None:
        """Ask which one; a single choice is taken at once."""
        if len(choices) == 1:
            choices[0][2]()
            return
        text = "  ".join(f"[{key}] {label}" for key, label, _ in choices)
        self.ask(f"{question}  {text}  · other key: none", {k: f for k, _, f in choices})

    def _pick_node(self: Any, kind: str) -> None:
        """Which node of the focused cloud: ``n2`` is node 2, the one on server 2."""
        c = self.focused_state()
        if c is None:
            return
        choices = []
        for n in self.state.nodes_of(c.name)[:9]:
            index = node_index(n.node)
            if index is None:
                continue
            target = f"{c.name}/{kind}-{index}"
            what = f"node {n.node_id or '?'}: {KIND_MEANINGS[kind]}"
            choices.append(
                (str(index), f"n{index} {n.liveness}", lambda t=target, w=what: self._kill(t, w))
            )
        if choices:
            self._pick(f"{KIND_TITLES[kind].capitalize()}: which node of {c.label}?", choices)

    def action_restart_pod(self: Any) -> None:
        self._pick_node("pod")

    def action_kill_node(self: Any) -> None:
        self._pick_node("node")

    def action_kill_server(self: Any) -> None:
        c = self.focused_state()
        if c is None:
            return
        choices = []
        for i in range(1, min(9, c.expected_nodes) + 1):
            target = server_name(c.name, i)
            what = f"stop the VM and node-{i} on it; the cluster sees suspect, then dead"
            choices.append((str(i), f"server-{i}", lambda t=target, w=what: self._kill(t, w)))
        self._pick(f"Stop which server of {c.label}?", choices)

    def action_kill_cloud(self: Any) -> None:
        c = self.focused_state()
        if c is not None:
            count = len(self.state.nodes_of(c.name))
            self._kill(c.name, f"stop every server, all {count} nodes at once")

    def action_revive(self: Any) -> None:
        c = self.focused_state()
        if c is None:
            return
        targets = self._killed_targets(c.name)
        if not targets:
            self.say(f"nothing of {c.label} is killed")
            return

        def revive(t: str) -> Callable[[], Any]:
            return lambda: self.call_later(self._command, lambda: self.room.revive(t))

        self._pick(
            f"Revive what in {c.label}?",
            [(str(i), t, revive(t)) for i, t in enumerate(targets[:9], 1)],
        )

    def action_toggle_armed(self: Any) -> None:
        self.armed = not self.armed
        self.say(
            "ARMED: kill keys act without asking" if self.armed else "disarmed: kills ask first"
        )
        self.refresh_view()

    # --- focus and screens ----------------------------------------------------------------

    def _set_focus(self: Any, index: int) -> None:
        order = self.state.cloud_order
        if order:
            self.focused_cloud = order[index % len(order)]
            self.refresh_view()

    def action_focus_move(self: Any, delta: int) -> None:
        order = self.state.cloud_order
        if order:
            i = order.index(self.focused_cloud) if self.focused_cloud in order else 0
            self._set_focus(i + delta)

    def action_focus_step(self: Any, direction: str) -> None:
        screen = self.base_screen()
        cols = 1
        if isinstance(screen, RoomScreen) and not screen.narrow:
            cols = screen.grid_columns()
        delta = {"left": -1, "right": 1, "up": -cols, "down": cols}[direction]
        if cols == 1 and direction in ("left", "right"):
            return
        order = self.state.cloud_order
        if order:
            i = order.index(self.focused_cloud) if self.focused_cloud in order else 0
            if 0 <= i + delta < len(order):
                self._set_focus(i + delta)

    def action_focus_cloud(self: Any, n: int) -> None:
        if n <= len(self.state.cloud_order):
            self._set_focus(n - 1)

    def action_zoom(self: Any) -> None:
        c = self.focused_state()
        if c is not None and isinstance(self.base_screen(), RoomScreen):
            self.push_screen(ZoomScreen(c.name), lambda _: self.refresh_view())
            self.call_later(self.refresh_view)

    def action_help(self: Any) -> None:
        self.push_screen(HelpScreen())

    async def action_check(self: Any) -> None:
        await self._command(lambda: self.room.check())
        self.push_screen(CheckScreen())

    def action_cycle_theme(self: Any) -> None:
        self.theme = next_theme(self.theme)
        self.say(f"theme: {self.theme}")

    # --- replay -------------------------------------------------------------------------------

    async def action_replay_pause(self: Any) -> None:
        await self._command(lambda: self.room.toggle_pause())

    async def action_replay_faster(self: Any) -> None:
        await self._command(lambda: self.room.faster())

    async def action_replay_slower(self: Any) -> None:
        await self._command(lambda: self.room.slower())

    # --- quitting -------------------------------------------------------------------------------

    async def action_quit(self: Any) -> None:
        running = [c for c in self.state.cloud_list() if c.status in ("running", "tearing_down")]
        if not running or self.replay_room is not None:
            await self.leave(0)
            return
        names = ", ".join(c.label for c in running[:3]) + (" …" if len(running) > 3 else "")
        some = f"{len(running)} cloud{'s' if len(running) > 1 else ''}"
        self.confirm(
            f"QUIT? {some} still running ({names}) stop where they are and keep their "
            f"resources; clean up later: crossroom teardown --run {self.state.run_id}",
            lambda: self.leave(0),
        )
