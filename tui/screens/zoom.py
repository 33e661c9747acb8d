"""One cloud, zoomed: its full recent log (scrollback and search), its steps with their
times, and the resources it holds. Escape goes back to the room.

The log is a ``Log`` widget fed in batches (``write_lines`` once per tick: textual.md
measured it ~70x cheaper than a write per line), capped at the ``LogBook``'s size.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Log

from engine.terminal_text import shown
from tui.inbox import LOG_KEEP, LogBook
from tui.room_host import room_host
from tui.view import RoomView
from tui.widgets.key_hints import KeyHints
from tui.widgets.prompt_bar import PromptBar
from tui.widgets.resource_list import ResourceList
from tui.widgets.room_header import RoomHeader
from tui.widgets.step_list import StepList


class ZoomScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "back", key_display="esc", show=False),
        Binding("slash", "search", "search", key_display="/", show=False),
    ]

    def __init__(self, cloud: str) -> None:
        super().__init__(id="zoom")
        self.cloud = cloud
        self._seen = 0
        self._filter = ""

    def compose(self) -> ComposeResult:
        yield RoomHeader(id="zoom-header")
        with Horizontal(id="zoom-body"):
            with VerticalScroll(id="zoom-side"):
                yield StepList(self.cloud, id="zoom-steps")
                yield ResourceList(self.cloud, id="zoom-resources")
            yield Log(max_lines=LOG_KEEP, id="zoom-log", auto_scroll=True)
        yield Input(placeholder="search the log (enter: filter, esc: clear)", id="zoom-search")
        yield PromptBar(id="prompt")
        yield KeyHints(
            lambda name: self.app.check_action(name, ()),
            (("esc", "back"), ("/", "search")),
            id="keys",
        )

    def on_mount(self) -> None:
        self.query_one("#zoom-log", Log).border_title = Content(shown(f"log of {self.cloud}"))
        self.query_one(Input).display = False

    def action_back(self) -> None:
        self.dismiss(None)

    def action_search(self) -> None:
        search = self.query_one(Input)
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._filter = event.value.strip()
        self._reload()
        self.query_one(Log).focus()
        if not self._filter:
            self.query_one(Input).display = False

    def on_input_changed(self, event: Input.Changed) -> None:
        if not event.value and self._filter:
            self._filter = ""
            self._reload()

    def _reload(self) -> None:
        """Refill the log from the ring, keeping only lines that match the search."""
        log_widget = self.query_one(Log)
        log_widget.clear()
        self._seen = 0
        title = f"log of {self.cloud}"
        log_widget.border_title = Content(
            shown(f"{title}, lines matching {self._filter!r}" if self._filter else title)
        )
        host = room_host(self.app)
        self.show(host.view, host.logs)

    def show(self, view: RoomView, logs: LogBook) -> None:
        self.query_one(RoomHeader).show(view)
        self.query_one(PromptBar).show(view)
        self.query_one(KeyHints).show(view)
        self.query_one(StepList).show(view)
        self.query_one(ResourceList).show(view)
        cloud_log = logs.get(self.cloud)
        new = [shown(line) for line in cloud_log.since(self._seen)]
        self._seen = cloud_log.total
        if self._filter:
            needle = self._filter.lower()
            new = [line for line in new if needle in line.lower()]
        if new:
            self.query_one(Log).write_lines(new)
