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

from engine.targets import server_name
from themes.palette import next_theme
from tui.look import counted
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
            # At once, not later: a follow-up question (which node? -> kill it?) must be
            # open before the next key of the same burst arrives ("k2y" typed at once).
            result = do()
            if inspect.isawaitable(result):
                self.call_later(self._await_answer, result)
        return True

    async def _await_answer(self: Any, result: Awaitable[None]) -> None:
        await result

    async def _command(self: Any, call: Callable[[], Awaitable[None]]) -> None:
        """Run one room command; a refusal or failure reads as a line, never a crash."""
        if self.room is None:
            self.say("the engine is not ready yet")
            return
        try:
            await call()
        except Exception as exc:
            self.say(f"command failed: {type(exc).__name__}: {exc}")
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
            f"TEAR DOWN run {self.state.run_id}: cancel every cloud and delete "
            f"{counted(count, 'resource', every=True)}?",
            lambda: self._command(lambda: self.room.teardown()),
        )

    # --- chaos --------------------------------------------------------------------------------

    def _kill(self: Any, target: str, what: str) -> None:
        async def do() -> None:
            await self._command(lambda: self.room.kill(target))

        if self.armed:
            self.call_later(do)
        else:
            self.confirm(f"KILL {target} ({what})?", do)

    def _pick(self: Any, question: str, choices: list[tuple[str, str, Callable[[], Any]]]) -> None:
        """Ask which one; a single choice is taken at once."""
        if len(choices) == 1:
            choices[0][2]()
            return
        text = "  ".join(f"[{key}] {label}" for key, label, _ in choices)
        self.ask(f"{question}  {text}  · other key: none", {k: f for k, _, f in choices})

    def action_kill_node(self: Any) -> None:
        c = self.focused_state()
        if c is None:
            return
        nodes = self.state.nodes_of(c.name)
        choices = []
        for n in nodes[:9]:
            idx = n.node.rpartition("-")[2]
            what = f"node {n.node_id or '?'}: delete its pod"
            choices.append(
                (
                    idx,
                    f"n{idx} {n.liveness}",
                    lambda n=n.node, w=what: self._kill(n, w),
                )
            )
        if choices:
            self._pick(f"Kill which node of {c.label}?", choices)

    def action_kill_server(self: Any) -> None:
        c = self.focused_state()
        if c is None:
            return
        choices = []
        for i in range(1, min(9, c.expected_nodes) + 1):
            target = server_name(c.name, i)
            what = f"stop the VM and node-{i} on it"
            choices.append((str(i), f"server-{i}", lambda t=target, w=what: self._kill(t, w)))
        self._pick(f"Kill which server of {c.label}?", choices)

    def action_kill_cloud(self: Any) -> None:
        c = self.focused_state()
        if c is not None:
            count = len(self.state.nodes_of(c.name))
            self._kill(c.name, f"{counted(count, 'node', every=True)} at once")

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

    def action_replay_pause(self: Any) -> None:
        if self.replay_room is not None:
            self.replay_room.toggle_pause()
            self.refresh_view()

    def action_replay_faster(self: Any) -> None:
        if self.replay_room is not None:
            self.replay_room.faster()
            self.refresh_view()

    def action_replay_slower(self: Any) -> None:
        if self.replay_room is not None:
            self.replay_room.slower()
            self.refresh_view()

    # --- quitting -------------------------------------------------------------------------------

    async def action_quit(self: Any) -> None:
        clouds = self.state.cloud_list()
        running = [c for c in clouds if c.status == "running"]
        tearing = [c for c in clouds if c.status == "tearing_down"]
        if not (running or tearing) or self.replay_room is not None:
            await self.leave(0)
            return
        busy: list[str] = []
        for group, doing in ((running, "still running"), (tearing, "still tearing down")):
            if group:
                names = ", ".join(c.label for c in group[:3]) + (" …" if len(group) > 3 else "")
                busy.append(f"{counted(len(group), 'cloud')} {doing} ({names})")
        stop = "stop where they are and keep their resources" if running else "stop deleting"
        self.confirm(
            f"QUIT? {'; '.join(busy)} {stop}; what is left is in the ledger: "
            f"crossroom teardown --run {self.state.run_id}",
            lambda: self.leave(0),
        )
