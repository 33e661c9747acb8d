"""On screen, outside text is data: never markup, never terminal control.

A property test puts arbitrary text (escape sequences, C1 controls, BEL, CR, newlines,
bidi overrides, lone surrogates, Rich markup) into every field the room shows from
outside (demo name, cloud labels and regions, step names, progress, errors, log lines,
notices, node addresses, resource names, preflight answers) and looks at the screens
that show them: the grid (160x48), the compact table (80x24), the zoom and the check
screen. For each it renders the frame Textual would send to the terminal and asserts
(1) every segment's text is free of control characters (so nothing but the app's own
styling and cursor sequences is sent), (2) the terminal bytes hold no escape sequence
but SGR and cursor moves, and (3) each field appears literally, as ``visible`` shows it
(markup brackets included).

One App is kept for all examples (started in its own event loop thread); each example
is a new ``RunStarted`` plus the fields' events, folded as a new show.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot

from engine import events as ev
from engine.plan import STEPS
from engine.terminal_text import visible
from tui.app import RoomApp
from tui.screens.check import CheckScreen
from tui.screens.room import RoomScreen

CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028-\u202e\ud800-\udfff]")
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mHABCDJK]")
"""What the app itself sends in a frame: colours and styles (SGR) and cursor moves."""
PIECES = ["\x1b]0;pwned\x07", "\x1b[31;1m", "\x9b2J", "\r", "\n", "\x00", "\u202e", "[/b]"]
outside = st.lists(
    st.one_of(
        st.sampled_from([*PIECES, "[reverse]", "[b]x[/]", "\ud800"]),
        st.text(alphabet=st.sampled_from(list("ab[]/\\;0 é\x1b\x9b\x07\r\n\t\u2028")), max_size=4),
    ),
    min_size=1,
    max_size=3,
).map(lambda parts: "X" + "".join(parts) + "Z")
"""Hostile text that redaction leaves alone (no key words), so it must appear as is."""
SHOWN = 7
"""Characters of each field looked for (fields are cut to the width in the table)."""


class LiveApp:
    """One App under ``run_test`` in its own event loop thread, for many examples.

    Every job runs inside the one task that opened the App (Textual keeps the active
    App in a context variable of that task)."""

    def __init__(self) -> None:
        self.room = ScriptedRoom([])
        self.app: RoomApp = frozen_app(self.room)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._jobs: asyncio.Queue[tuple[Any, Future[Any]]] | None = None
        self._opened: Future[Pilot[Any]] = Future()
        self._closed = asyncio.run_coroutine_threadsafe(self._session(), self.loop)
        self.pilot = self._opened.result(timeout=60)

    async def _session(self) -> None:
        self._jobs = asyncio.Queue()
        async with self.app.run_test(size=(160, 48)) as pilot:
            self._opened.set_result(pilot)
            while True:
                work, done = await self._jobs.get()
                if work is None:
                    break
                try:
                    done.set_result(await work)
                except BaseException as exc:  # handed to the test thread
                    done.set_exception(exc)

    def run(self, work: Coroutine[Any, Any, Any] | None) -> Any:
        done: Future[Any] = Future()
        assert self._jobs is not None
        self.loop.call_soon_threadsafe(self._jobs.put_nowait, (work, done))
        return None if work is None else done.result(timeout=120)

    def close(self) -> None:
        self.run(None)
        self._closed.result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def live() -> Any:
    app = LiveApp()
    yield app
    app.close()


def _show(text: str, n: int) -> list[ev.Event]:
    """Show ``n``: every outside field carries ``text`` behind a one-letter mark. (New
    cloud names each time, so the panes are new and show their log at once.)"""
    c1, c2, c3 = (f"s{n}c{i}" for i in (1, 2, 3))
    clouds = tuple(
        # The second cloud's label is short, so its pane title has room for the region.
        ev.CloudInfo(
            name=name, label=f"L{i}{text}" if i != 2 else "L2", region=f"R{text}", steps=STEPS
        )
        for i, name in enumerate((c1, c2, c3), 1)
    )
    t = 100.0 * n
    return [
        ev.RunStarted(run_id="r", demo=f"D{text}", simulated=True, clouds=clouds, t=t),
        *(ev.CloudStarted(cloud=c.name, t=t) for c in clouds),
        ev.StepStarted(cloud=c1, step=f"S{text}", t=t + 0.1),
        ev.StepProgress(cloud=c1, step=f"S{text}", message=f"P{text}", t=t + 0.2),
        ev.LogLines(cloud=c1, lines=(f"G{text}",), t=t + 0.3),
        ev.NodeObserved(
            node=f"{c1}/node-1", cloud=c1, liveness="live", address=f"A{text}:26257", t=t + 0.4
        ),
        ev.NodeObserved(node=f"{c1}/pod{text}", cloud=c1, liveness="suspect", t=t + 0.4),
        ev.ResourceRecorded(cloud=c1, resource_type="server", resource_id="i", name=f"W{text}"),
        ev.PreflightChecked(cloud=c1, ok=False, reason=f"Q{text}", quotas=(f"U{text}",)),
        ev.StepStarted(cloud=c2, step="resolve", t=t + 0.5),
        ev.StepFailed(cloud=c2, step="resolve", error=f"F{text}", duration_s=1.0, t=t + 0.6),
        ev.CloudJoined(cloud=c3, time_to_join_s=9.0, t=t + 0.7),
        ev.Notice(level="warning", message=f"N{text}", t=t + 0.8),
    ]


def _frame(app: RoomApp) -> tuple[list[str], str]:
    """The rows' text and the terminal bytes of a full frame of the current screen."""
    screen = app.screen
    update = screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert update is not None
    rows: list[str] = []
    for line in getattr(update, "strips", []):  # each row: the strips of its widgets
        text = ""
        for strip in line:
            for segment in strip:
                assert segment.control is None
                bad = CONTROLS.search(segment.text)
                assert bad is None, f"{bad.group()!r} in a segment: {segment.text!r}"
                text += segment.text
        rows.append(text)
    return rows, update.render_segments(app.console)


def _assert_frame(app: RoomApp, text: str, marks: str, where: str) -> None:
    rows, sent = _frame(app)
    leftover = OWN_SEQUENCES.sub("", sent).replace("\n", "")  # rows end in the app's newline
    bad = CONTROLS.search(leftover)
    assert bad is None, f"{where}: {bad.group()!r} sent: {leftover[bad.start() :][:60]!r}"
    screen = "\n".join(rows)
    for mark in marks:
        want = visible(f"{mark}{text}")[:SHOWN]
        assert want in screen, f"{where}: {want!r} not shown literally\n{screen}"


async def _settle(app: RoomApp, pilot: Pilot[Any], t: float) -> None:
    for _ in range(100):
        if app.state.t >= t and not len(app.inbox):
            break
        await pilot.pause(0.02)
    app.refresh_view(slow=True, timers=True)
    await pilot.pause()
    app.refresh_view(slow=True, timers=True)
    await pilot.pause()


async def _example(live: LiveApp, text: str, n: int) -> None:
    app, pilot = live.app, live.pilot
    while not isinstance(app.screen, RoomScreen):  # start from the room, whatever was left
        if any(isinstance(s, RoomScreen) for s in app.screen_stack):
            app.pop_screen()
        # else: the room replaces the opening screen right after the first frame
        await pilot.pause()
    t0 = 100.0 * n
    show = _show(text, n)
    for event in show:
        live.room.publish(event)
    await pilot.resize_terminal(160, 48)
    await _settle(app, pilot, t0 + 0.8)
    # The grid: pane titles (label, region), step, progress, log, error, notice, header.
    _assert_frame(app, text, "DRSGFN", "grid 160x48")
    for i in (1, 3):
        assert visible(f"L{i}{text}")[:SHOWN] in "\n".join(_frame(app)[0]), f"label {i}"
    await pilot.resize_terminal(80, 24)
    await _settle(app, pilot, t0 + 0.8)
    _assert_frame(app, text, "N", "table 80x24")  # labels are cut to 12 there
    assert visible(f"L1{text}")[:SHOWN] in "\n".join(_frame(app)[0]), "table label"
    await pilot.resize_terminal(160, 48)
    await _settle(app, pilot, t0 + 0.8)
    await pilot.press("1", "enter")
    await _settle(app, pilot, t0 + 0.8)
    _assert_frame(app, text, "GPW", "zoom")
    await pilot.press("escape")
    await pilot.press("p")
    for _ in range(100):
        if isinstance(app.screen, CheckScreen):
            break
        await pilot.pause(0.02)
    await _settle(app, pilot, t0 + 0.8)
    _assert_frame(app, text, "QU", "check screen")


_counter = iter(range(1, 1_000_000))


@given(text=outside)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_outside_text_reaches_the_screen_literally_and_inert(live: LiveApp, text: str) -> None:
    live.run(_example(live, text, next(_counter)))
