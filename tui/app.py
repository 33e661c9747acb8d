"""The control room App: it holds the room, folds its events on a capped tick, and turns
the presenter's keys into room commands.

Run with ``crossroom`` (rehearsal fleet) or ``crossroom --config FILE``. The engine runs
on this App's event loop, entered in an async worker; its blocking calls run on its own
threads. Events land in a bounded inbox and are folded ``TICK_HZ`` times a second, so a
log flood costs one fold batch and one repaint per tick, however fast it arrives.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.widgets import Input

from engine.terminal_text import shown
from themes.palette import DEFAULT_THEME, ROOM_VARIABLES, STAGE, THEMES, next_theme
from tui.action_record import ActionContext, ScreenKind
from tui.actions import bindings, find_action
from tui.collector_schedule import collect_on_tick, start_schedule
from tui.inbox import EventInbox, LogBook
from tui.questions import Questions, bar_of
from tui.screens.opening import OpeningScreen
from tui.screens.quit import QuitScreen, ShowLink, show_link
from tui.screens.quit_words import Holdings, QuitChoice, farewell, holdings_of, unasked_ending

if TYPE_CHECKING:
    from textual.command import Provider

    from engine import events as ev
    from engine.room_api import Playback, RoomCommands
    from engine.state import CloudState, RoomState
    from tui.screens.room import RoomScreen
    from tui.screens.zoom import ZoomScreen
    from tui.view import RoomView

    RoomOpener = Callable[[], AbstractAsyncContextManager[RoomCommands]]
TICK_HZ = 10.0
TIMER_EVERY = 5
"""Every fifth tick (2 Hz) running timers move: each moved timer is a repainted row, and
at rehearsal speed whole demo seconds pass five or more times a second. (Panes take
their own turn on top of this, once a second each; see ``CloudPane``.)"""
LEAVE_TIMEOUT_S = 15.0


def room_actions_provider() -> type[Provider]:
    """The palette's room commands, imported when the palette first opens."""
    from tui.command_palette import RoomActionsProvider

    return RoomActionsProvider


class RoomApp(App[int]):
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())
    COMMANDS = App.COMMANDS | {room_actions_provider}
    TITLE = "crossroom"

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
        self._theme_name = theme
        self._wall = wall
        self._mono = monotonic
        self._tick_hz = tick_hz
        self.room: RoomCommands | None = None
        self._state: RoomState | None = None
        self._view: RoomView | None = None
        self.logs = LogBook()
        self.inbox = EventInbox(on_full=self.fold_inbox)
        self.focused_cloud: str | None = None
        self.armed = False
        self.questions = Questions(
            lambda: bar_of(self.base_screen()), self.call_later, self.set_timer
        )
        self._leave = asyncio.Event()
        self._room_closed = asyncio.Event()
        self._room_opening = False
        self._anchor = (0.0, monotonic())
        self._now = 0.0
        self._ticks = 0
        self._ending: QuitChoice | None = None
        self.farewell: list[str] = []
        """Lines for the terminal once the screen has closed (``crossroom`` prints them)."""
        self.engine_gone = False
        """The engine process this screen was attached to has gone (the last state stays)."""
        self._quit_when_gone = False
        self._quit_before_open = False
        self.ticks_with_events = 0
        for room_theme in THEMES:
            self.register_theme(room_theme)
        self.theme = theme

    # --- what the screen shows: made on first use -------------------------------------------

    @property
    def state(self) -> RoomState:
        """The folded state. Made when first read (the room's first frame), as the view is:
        the first frame (``OpeningScreen``) comes before the engine's types are imported."""
        if self._state is None:
            from engine.state import RoomState

            self._state = RoomState()
        return self._state

    @state.setter
    def state(self, state: RoomState) -> None:
        self._state = state

    @property
    def view(self) -> RoomView:
        """What the widgets were last given (``refresh_view``)."""
        if self._view is None:
            from tui.view import RoomView

            self._view = RoomView(state=self.state, now=0.0, wall=self._wall())
        return self._view

    # --- life cycle --------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The room's own variables (``$node-live`` …) for CSS parsed before a theme is set."""
        return {name: STAGE.variables[name] for name in ROOM_VARIABLES}

    def on_mount(self) -> None:
        # The first frame is one line (``OpeningScreen``); the room replaces it right after.
        self.push_screen(OpeningScreen())
        if self.sigterm_leaves:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._terminated)
        self.call_after_refresh(self._show_room)

    def _show_room(self) -> None:
        """After the first frame: build the room screen (its widgets and their styles),
        then, after its first frame, open the engine."""
        from tui.screens.room import RoomScreen  # its widgets too: after the first frame

        self.switch_screen(RoomScreen())
        self.set_interval(1.0 / self._tick_hz, self._tick, name="fold")
        self.call_after_refresh(self._open_after_first_frame)

    def _open_after_first_frame(self) -> None:
        """Paint first, then open the engine: entering the room imports and starts the
        engine (its modules, anyio's backend, the run directory, the fleet), which would
        otherwise all come before the presenter sees anything."""
        self._room_opening = True
        self.run_worker(self._hold_room(), name="room", exit_on_error=False)
        self.call_after_refresh(start_schedule)

    async def _hold_room(self) -> None:
        """Enter the room on this loop, stay subscribed until asked to leave."""
        try:
            async with self._open_room() as room:
                self.room = room
                unsubscribe = room.subscribe(self.inbox.put, replay=True)
                try:
                    await self._leave.wait()
                    await self._end_show(room)
                finally:
                    unsubscribe()
                    self.room = None
        except Exception as exc:  # shown, not raised: the terminal must be restored
            self.exit(
                1, message=shown(f"crossroom: the engine stopped: {type(exc).__name__}: {exc}")
            )
        finally:
            self._room_closed.set()

    async def leave(self, code: int = 0, ending: QuitChoice | None = None) -> None:
        """Close the room (its workers stop; resources stay in the ledger), then exit.

        A screen attached to an engine process (``ShowLink``) ends by ``ending``: leave the
        show running (detach) or stop it; the lines that say what was left behind are kept
        for the terminal (``farewell``)."""
        if self.playback is None and self.state.run_id:
            self.farewell = farewell(ending, holdings_of(self.state), engine_gone=self.engine_gone)
        self._ending = ending
        self._quit_before_open = self.room is None
        self._leave.set()
        if self._room_opening:
            try:
                async with asyncio.timeout(LEAVE_TIMEOUT_S):
                    await self._room_closed.wait()
            except TimeoutError:
                pass
        self.exit(code)

    # --- a show in its own engine process ------------------------------------------------------

    sigterm_leaves: bool = False
    """``crossroom`` sets it: SIGTERM closes the screen as an unasked quit does (a rehearsal
    detaches and its engine stops; a real show goes on), instead of cutting the socket,
    which the engine takes for a hang-up. Off in tests: a handler is process-wide."""

    def _terminated(self) -> None:
        ending = None
        if show_link(self.room) is not None and self.playback is None and not self.engine_gone:
            ending = unasked_ending(holdings_of(self.state))
        self.call_later(self.leave, 0, ending)

    async def _end_show(self, room: RoomCommands) -> None:
        """Tell the engine how this screen leaves: detach (the show goes on) or stop it."""
        link = show_link(room)
        if link is None or self.engine_gone:
            return
        if self._ending is None and self._quit_before_open:  # asked nothing: the show's rule
            self._ending = unasked_ending(holdings_of(room.state))
        if self._ending not in ("leave", "stop"):
            return
        try:
            async with asyncio.timeout(LEAVE_TIMEOUT_S):
                if self._ending == "leave":
                    await link.detach()
                else:
                    reply = await link.stop()
                    if not reply.accepted:
                        self.farewell.append(f"crossroom: stop refused: {shown(reply.reason)}")
        except (TimeoutError, OSError) as exc:  # the engine went meanwhile: nothing to end
            self.farewell.append(f"crossroom: the engine did not answer: {shown(str(exc))}")

    def ask_quit(self, holdings: Holdings) -> None:
        """Leave running, stop, or tear down first (``QuitScreen``); any other key stays."""
        if isinstance(self.screen, QuitScreen):  # ctrl+q while it asks: asked already
            return
        self.questions.close()
        self.push_screen(QuitScreen(holdings), self._quit_chosen)

    async def _quit_chosen(self, choice: QuitChoice | None) -> None:
        link = show_link(self.room)
        if choice is None:
            return
        if choice != "teardown" or link is None or self.engine_gone:
            await self.leave(0, ending=choice)
            return
        # Stay and show the teardown; the screen closes when the engine has gone.
        self._quit_when_gone = True
        self.questions.say(
            f"tearing down run {self.state.run_id}; the screen closes when the engine has stopped"
        )
        self.run_worker(self._stop_after_teardown(link), name="teardown", exit_on_error=False)

    async def _stop_after_teardown(self, link: ShowLink) -> None:
        """The answer comes once the teardown has run (minutes on real clouds)."""
        reply = await link.stop(teardown=True)
        if not reply.accepted and not self.engine_gone:
            self._quit_when_gone = False
            self.questions.say(reply.reason)

    def _engine_went(self, state: RoomState, gone: ev.EngineGone) -> RoomState:
        """Keep the last state; one line (run id, teardown command) on the notice bar."""
        from engine.events import Notice
        from engine.state import apply

        self.engine_gone = True
        if self._quit_when_gone:
            self.call_later(self.leave, 0, "teardown")
        why = f" ({gone.reason})" if gone.reason else ""
        # The command names the run; the reason goes last (a narrow bar cuts the end).
        line = f"the engine has gone; what it made stays: {gone.teardown_command}{why}"
        return apply(state, Notice(level="error", message=line, t=state.t))

    # --- the tick ------------------------------------------------------------------------------

    def fold_inbox(self) -> None:
        """Fold what waits in the inbox (also called when it is full)."""
        from engine import events as ev
        from engine.state import apply

        events = self.inbox.drain()
        if not events:
            return
        state = self.state
        for event in events:
            state = apply(state, event)
            if isinstance(event, ev.LogLines):
                self.logs.add(event.cloud, event.lines)
            elif isinstance(event, ev.RunStarted):
                self.logs.clear()
            elif isinstance(event, ev.EngineGone):
                state = self._engine_went(state, event)
        if state.run_id != self.state.run_id or self.focused_cloud not in state.clouds:
            self.focused_cloud = state.cloud_order[0] if state.cloud_order else None
        if state.t != self.state.t:
            self._anchor = (state.t, self._mono())
        self.state = state
        self.ticks_with_events += 1

    def demo_now(self) -> float:
        """Demo time for running timers: the last event's time, carried on at the show's
        pace (the replay's while replaying) so timers move between events."""
        t, at = self._anchor
        playback = self.playback
        rate = playback.rate if playback is not None else self.state.speed
        if self.room is None or self.engine_gone:
            rate = 0.0
        self._now = max(self._now if self._now <= t + 3600 else t, t + (self._mono() - at) * rate)
        return self._now

    def _on_key(self, event: events.Key) -> None:  # type: ignore[override]
        """An open prompt takes the next key, whatever it is (one key to answer).

        Answered here, where the App meets every key in the order it was typed, right
        before the bindings: a key that opens a question and the key that answers it may
        arrive in one read ("k2y" pasted), and the answer must see the question.
        """
        typing = isinstance(self.focused, Input)
        if self.questions.prompt is not None and not typing and self.answer_prompt(event.key):
            event.stop()
            event.prevent_default()  # Textual then skips ``App._on_key`` (the bindings)

    def _tick(self) -> None:
        """Fold and show, also while a palette, help or check screen is on top: the room
        behind a modal keeps moving (its clock, timers and nodes)."""
        from tui.view import SLOW_EVERY

        base = self.base_screen()
        if self._exit or base is None or not base.is_attached:
            return
        collect_on_tick(self._ticks)  # the last frames' garbage, before this one's work
        self.fold_inbox()
        self._ticks += 1
        self.refresh_view(slow=self._ticks % SLOW_EVERY == 0, timers=self._ticks % TIMER_EVERY == 2)

    def refresh_view(self, *, slow: bool = False, timers: bool = False) -> None:
        """Show the current state; ``timers`` moves running timers, ``slow`` lets pane logs
        and the sparkline repaint. A key press shows its effect with neither."""
        from tui.screens.room import RoomScreen
        from tui.screens.zoom import ZoomScreen
        from tui.view import RoomView

        screen = self.base_screen()
        narrow = screen.narrow if isinstance(screen, RoomScreen) else False
        now = self.demo_now() if timers or not self.view.now else self.view.now
        self._view = view = RoomView(
            state=self.state,
            now=now,
            wall=self._wall(),
            focused=self.focused_cloud,
            armed=self.armed,
            replay=self._replay_status(),
            slow=slow,
            narrow=narrow,
            logs=self.logs,
            tick=self._ticks,
        )
        try:
            if isinstance(screen, RoomScreen):
                screen.show(view)
            elif isinstance(screen, ZoomScreen):
                screen.show(view, self.logs)
        except (NoMatches, NoScreen):  # the screen is being torn down (quitting)
            return

    def _replay_status(self) -> str:
        playback = self.playback
        if playback is None:
            return ""
        if playback.finished:
            return f"■ ended x{playback.speed:g}"
        return f"{'⏸ paused' if playback.paused else '▶'} x{playback.speed:g}"

    # --- what the footer shows -------------------------------------------------------------

    def base_screen(self) -> RoomScreen | ZoomScreen | None:
        """The room or zoom screen under any palette or help on top (what keys act on)."""
        from tui.screens.room import RoomScreen
        from tui.screens.zoom import ZoomScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, RoomScreen | ZoomScreen):
                return screen
        return None

    @property
    def playback(self) -> Playback | None:
        """How the recording plays, when the room is a replay (the protocol says so)."""
        return self.room.playback if self.room is not None else None

    def focused_state(self) -> CloudState | None:
        return self.state.clouds.get(self.focused_cloud or "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that cannot do anything now, so the footer lists what matters."""
        record = find_action(action, parameters)
        return True if record is None else record.enabled(self.action_context())

    # --- what the action table is given (``RoomHost``, tui/room_host.py) -------------------

    def action_context(self) -> ActionContext:
        from tui.screens.room import RoomScreen

        base = self.base_screen()
        screen: ScreenKind = (
            "room" if isinstance(base, RoomScreen) else "zoom" if base is not None else "none"
        )
        return ActionContext(
            host=self,
            state=self.state,
            focused=self.focused_state(),
            screen=screen,
            replay=self.playback is not None,
            armed=self.armed,
        )

    async def action_room(self, name: str) -> None:
        """Run one record of the action table (every binding and palette entry)."""
        record = find_action(name)
        if record is None:
            return
        ctx = replace(self.action_context(), danger=record.danger)
        result = record.run(ctx)
        if result is not None:
            await result

    async def action_quit(self) -> None:
        """Textual's own quit key (ctrl+q) asks first too, like ``q``."""
        await self.action_room("quit")

    def answer_prompt(self, key: str) -> bool:
        return self.questions.answer(key)

    def grid_columns(self) -> int:
        from tui.screens.room import RoomScreen

        screen = self.base_screen()
        return screen.grid_columns() if isinstance(screen, RoomScreen) else 1

    def next_theme(self) -> str:
        self.theme = next_theme(self.theme)
        return self.theme

    def open_zoom(self, cloud: str) -> None:
        from tui.screens.zoom import ZoomScreen

        self.push_screen(ZoomScreen(cloud), lambda _: self.refresh_view())
        self.call_later(self.refresh_view)

    def open_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def open_check(self) -> None:
        from tui.screens.check import CheckScreen

        self.push_screen(CheckScreen())
