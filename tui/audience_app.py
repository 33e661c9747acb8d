"""The audience App: a read-only client of a running show, for a projector or a browser.

Run with ``crossroom attach --audience [RUN_ID]`` (a terminal) or through ``crossroom
serve`` (a browser per visitor). It folds the show's events like the control room does,
adds a caption per significant event (``engine.captions``) and shows ``AudienceScreen``.
It sends the engine nothing: its only keys are q and ctrl+c, which close this viewer and
never touch the show (an audience connection is refused every command by the engine
anyway).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches

from engine import events as ev
from engine.captions import caption_of
from engine.room_api import RoomCommands
from engine.state import RoomState, apply
from engine.terminal_text import shown
from themes.palette import DEFAULT_THEME, ROOM_VARIABLES, STAGE, THEMES
from tui.inbox import EventInbox
from tui.screens.audience import AudienceScreen
from tui.view import RoomView

RoomOpener = Callable[[], AbstractAsyncContextManager[RoomCommands]]
TICK_HZ = 4.0
"""Folds a second: a hall reads trends, and each frame is bytes to every browser."""
SLOW_EVERY = 4
"""Ticks between repaints of the load chart (about once a second)."""


class AudienceApp(App[int]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", show=False, priority=True),
        Binding("ctrl+c", "quit", show=False, priority=True, system=True),
    ]
    ENABLE_COMMAND_PALETTE = False
    TITLE = "crossroom audience"

    def __init__(
        self,
        open_room: RoomOpener,
        *,
        theme: str = DEFAULT_THEME,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        tick_hz: float = TICK_HZ,
    ) -> None:
        super().__init__()
        self._open_room = open_room
        self._wall = wall
        self._mono = monotonic
        self._tick_hz = tick_hz
        self.state = RoomState()
        self.caption: str | None = None
        self.gone: str = ""
        """Set when the engine went away: the last state stays on screen with this line."""
        self.inbox = EventInbox(on_full=self.fold_inbox)
        self._anchor = (0.0, monotonic())
        self._ticks = 0
        self._leave = asyncio.Event()
        for room_theme in THEMES:
            self.register_theme(room_theme)
        self.theme = theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {name: STAGE.variables[name] for name in ROOM_VARIABLES}

    def on_mount(self) -> None:
        self.push_screen(AudienceScreen())
        self.set_interval(1.0 / self._tick_hz, self._tick, name="fold")
        self.run_worker(self._hold_room(), name="room", exit_on_error=False)

    async def _hold_room(self) -> None:
        """Stay subscribed until the viewer quits; a room that cannot open is one line."""
        try:
            async with self._open_room() as room:
                unsubscribe = room.subscribe(self.inbox.put, replay=True)
                try:
                    await self._leave.wait()
                finally:
                    unsubscribe()
        except Exception as exc:  # shown, not raised: the terminal must be restored
            if not self._leave.is_set():
                self.exit(1, message=shown(f"crossroom: {type(exc).__name__}: {exc}"))

    def fold_inbox(self) -> None:
        events = self.inbox.drain()
        if not events:
            return
        state = self.state
        caption = self.caption
        for event in events:
            caption = caption_of(event, state) or caption
            if isinstance(event, ev.EngineGone):
                self.gone = event.run_id or state.run_id or "?"
            state = apply(state, event)
        if state.t != self.state.t:
            self._anchor = (state.t, self._mono())
        self.state = state
        self.caption = caption

    def demo_now(self) -> float:
        """The last event's time carried on at the show's pace (node ages move)."""
        t, at = self._anchor
        if self.gone:
            return t
        return t + min(60.0, self._mono() - at) * self.state.speed

    def _tick(self) -> None:
        if self._exit:
            return
        self.fold_inbox()
        self._ticks += 1
        self.refresh_view(slow=self._ticks % SLOW_EVERY == 1)

    def refresh_view(self, *, slow: bool = True) -> None:
        screen = self.screen
        if not isinstance(screen, AudienceScreen) or not screen.is_attached:
            return
        view = RoomView(
            state=self.state,
            now=self.demo_now(),
            wall=self._wall(),
            slow=slow,
            narrow=False,
            tick=self._ticks,
        )
        try:
            screen.show(view, self.caption)
        except NoMatches:  # the screen is being torn down (quitting)
            return

    async def action_quit(self) -> None:
        """Close this viewer only: the show goes on for everyone else."""
        self._leave.set()
        self.exit(0)


def run_audience(opener: RoomOpener, theme: str = DEFAULT_THEME) -> int:
    """Run the audience view on ``opener`` until the viewer quits; its exit code."""
    app = AudienceApp(opener, theme=theme)
    code = app.run(mouse=False)
    return int(code or 0)
