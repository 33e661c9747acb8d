"""One cloud in the grid layout: label and region, current step and its timer, the total
timer, a strip of every step, that cloud's nodes as liveness cells, and its latest log lines.

The pane is always mounted (one per cloud, made once): updates only change its lines,
and its border classes when the cloud's status or the focus changes.
"""

from __future__ import annotations

from dataclasses import replace

from textual.color import Color
from textual.content import Content

from engine.plan import STEP_TITLES
from engine.state import CloudState, NodeState
from engine.terminal_text import shown
from tui.look import (
    age,
    cloud_elapsed,
    cloud_look,
    duration,
    node_look,
    node_since,
    step_elapsed,
    step_look,
)
from tui.view import SLOW_EVERY, RoomView
from tui.widgets.cloud_table import eta_text
from tui.widgets.lines import Line, Part, RoomLines, fit

LOG_ROWS = 4
"""Log rows a pane shows at most: they change every second in a flood and are most of
the bytes sent to the terminal (the zoom view has the full log)."""
STATUS_CLASSES = (
    "-idle",
    "-running",
    "-joined",
    "-failed",
    "-cancelled",
    "-torn_down",
    "-tearing_down",
)


def node_cells(view: RoomView, nodes: list[NodeState], expected: int, width: int) -> Line:
    """``● n1 live 1m  ⊗ n2 killed 0.3s``, shortened until it fits; a node whose state is
    news (killed, suspect, dead) keeps its word and age longest."""
    missing = max(0, expected - len(nodes))
    if not nodes:
        return (("○ " * missing or "no nodes yet", "$node-joining"),)

    def cells(level: int) -> list[Part]:
        out: list[Part] = []
        for n in nodes:
            look = node_look(n)
            since = age(view.now - node_since(n))
            short = n.node.rpartition("/")[2].replace("node-", "n")
            news = look.word != "live"
            if level == 0:
                text = f"{look.glyph} {short} {look.word} {since}"
            elif level == 1 or (news and level < 5):
                text = f"{look.glyph}{look.word} {since}"
            elif level == 2:
                text = f"{look.glyph}{look.word}"
            elif level in (3, 4):
                text = look.glyph
            else:
                text = f"{look.glyph}{look.word[:4]}"
            out.append((text, look.style))
        out.extend(("○", "$node-joining") for _ in range(missing))
        return out

    for level in range(6):
        parts = cells(level)
        sep = "  " if level < 3 else " "
        if sum(len(t) for t, _ in parts) + len(sep) * (len(parts) - 1) <= width:
            break
    line: list[Part] = []
    for i, part in enumerate(parts):
        if i:
            line.append((sep, ""))
        line.append(part)
    return tuple(line)


def node_rows(view: RoomView, nodes: list[NodeState], width: int) -> list[Line]:
    """One row per node when the pane is tall: ``⊗ n2 killed 0.3s   id 7  203.0.113.7``."""
    rows: list[Line] = []
    for n in nodes:
        look = node_look(n)
        short = n.node.rpartition("/")[2].replace("node-", "n")
        head = f"{look.glyph} {short} {look.word} {age(view.now - node_since(n))}"
        where = f"id {n.node_id}" if n.node_id is not None else ""
        if n.address and width - len(head) - len(where) > 12:
            where += f"  {n.address.rpartition(':')[0]}"
        gap = max(1, width - len(head) - len(where))
        rows.append(
            (
                (head, look.style),
                (" " * gap, ""),
                (fit(where, width - len(head) - 1), "$text-muted"),
            )
        )
    return rows


def joined_order(view: RoomView) -> tuple[float, ...]:
    """Every joined cloud's time to join, fastest first (a joined pane shows its rank)."""
    return tuple(
        sorted(c.time_to_join_s for c in view.state.clouds.values() if c.time_to_join_s is not None)
    )


def step_strip(cloud: CloudState) -> list[Part]:
    return [(step_look(s).glyph, step_look(s).style) for s in cloud.steps]


class CloudPane(RoomLines):
    DEFAULT_CSS = "CloudPane { height: 1fr; }"

    def __init__(self, cloud: str, index: int) -> None:
        super().__init__(id=f"pane-{cloud}", classes="cloud-pane")
        self.cloud = cloud
        self.index = index
        self._log: tuple[str, ...] = ()
        self._now = 0.0
        self._shape: tuple[object, ...] = ()
        self._status = ""
        self._focused = False
        self._title = ""
        self._inputs: tuple[object, ...] = ()
        self._next_inputs: tuple[object, ...] = ()

    def _frame(self, view: RoomView, cloud: CloudState) -> None:
        """Border title and classes; they change rarely, so they are set only on change."""
        focused = cloud.name == view.focused
        if focused != self._focused:
            self._focused = focused
            self._show_focus()
        look = cloud_look(cloud)
        total = duration(cloud_elapsed(cloud, view.now)) if cloud.status != "idle" else ""
        key = str((self.index + 1) % 10) if self.index < 10 else ""
        title = f"{key} {cloud.label}" + (f" · {cloud.region}" if cloud.region else "")
        if title != self._title:
            self._title = title
            self.border_title = Content(shown(title, 200))  # plain text: never markup
        if cloud.status != self._status:
            for cls in STATUS_CLASSES:
                self.remove_class(cls)
            self.add_class(f"-{cloud.status}")
            self._status = cloud.status
        subtitle = f"{look.glyph} {look.word}"
        if cloud.status == "joined":
            ranked = joined_order(view)
            subtitle += f" #{ranked.index(cloud.time_to_join_s or 0.0) + 1}"
        elif eta_text(view, cloud):  # the total is on the pane's own line
            subtitle = f"{look.glyph} {eta_text(view, cloud, short=True)}"
        elif total:
            subtitle += f" {total}"
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def _show_focus(self) -> None:
        """The focus border (double, the theme's ``$pane-focus``, the title reversed), set
        as this pane's own style rather than a CSS class: a class change restyles the
        pane against every rule of the stylesheet (~0.75 ms, twice per focus key), an
        inline border only repaints it (~0.13 ms). Cleared, the status border of
        room.tcss shows again."""
        if self._focused:
            colour = self.app.theme_variables.get("pane-focus", "white")
            self.styles.border = ("double", Color.parse(colour))
            self.styles.border_title_style = "bold reverse"
        else:
            self.styles.border = None
            self.styles.border_title_style = None

    def _restyle(self, _theme: object = None) -> None:
        if self._focused:
            self._show_focus()  # the focus colour is the theme's
        super()._restyle(_theme)

    def show(self, view: RoomView) -> None:
        """Skip the pane when nothing it shows can have changed: not its turn (its timers
        and log rows move then) and the same cloud facts, nodes, focus and size as last
        time. Under a log flood every cloud's state changes every tick (its log tail),
        but a pane's lines change about once a second."""
        cloud = view.state.clouds.get(self.cloud)
        if cloud is None or not self.is_mounted:
            super().show(view)
            return
        inputs = (
            self.content_size,
            cloud.name == view.focused,
            cloud.status,
            cloud.steps,
            cloud.error,
            cloud.label,
            cloud.region,
            cloud.expected_nodes,
            cloud.api_stale_since_t,
            cloud.time_to_join_s,
            tuple(view.nodes_of(cloud.name)),
            joined_order(view) if cloud.status == "joined" else (),
            min(cloud.log_count, LOG_ROWS),  # a pane with free log rows shows new lines
        )
        turn = view.tick % SLOW_EVERY == self.index % SLOW_EVERY
        same = inputs == self._inputs and view.now >= self._now and bool(self._lines)
        if same and not turn:
            self._view = view
            return
        self._next_inputs = inputs  # kept by ``build``: only what was drawn counts
        super().show(view)

    @staticmethod
    def _tail(view: RoomView, cloud: CloudState, log_rows: int) -> tuple[str, ...]:
        """The last ``log_rows`` log lines, ``shown``: a pane shows what fits, from the ring."""
        if not log_rows:
            return ()
        lines: tuple[str, ...] = cloud.log_tail
        if view.logs is not None and log_rows > len(lines):
            ring = view.logs.get(cloud.name).lines
            lines = tuple(ring[i] for i in range(max(0, len(ring) - log_rows), len(ring)))
        return tuple(shown(line) for line in lines[-log_rows:])

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        self._inputs, self._next_inputs = self._next_inputs, ()
        cloud = view.state.clouds.get(self.cloud)
        if cloud is None:
            return []
        # Timers move on this pane's turn (once a second, panes in turn) or when its plan
        # moves: a frame then touches one pane, not a crop across the whole grid.
        turn = view.tick % SLOW_EVERY == self.index % SLOW_EVERY
        shape = (cloud.status, tuple(s.status for s in cloud.steps), cloud.error)
        if turn or shape != self._shape or not self._now or view.now < self._now:
            self._now = view.now
            self._shape = shape
        view = replace(view, now=self._now)
        self._frame(view, cloud)
        cur = cloud.current
        lines: list[Line] = []
        if cloud.api_stale_since_t is not None:
            stale = age(view.now - cloud.api_stale_since_t)
            text = (
                f"⚠ no k8s API {stale}: stale"
                if width < 40
                else (f"⚠ Kubernetes API unreachable {stale}: pods as last seen")
            )
            lines.append(((fit(text, width), "bold $node-suspect"),))
        elif cloud.status == "joined":
            lines.append(((f"✔ joined in {duration(cloud.time_to_join_s)}", "bold $step-done"),))
        elif cur is not None:
            look = step_look(cur)
            t = step_elapsed(cur, view.now)
            timer = duration(t) if t is not None else ""
            title = STEP_TITLES.get(cur.name, cur.name)
            if cur.attempt > 1:
                title += f" (try {cur.attempt})"
            lines.append(
                (
                    (f"{look.glyph} ", look.style),
                    (fit(title, width - len(timer) - 3).ljust(width - len(timer) - 3), look.style),
                    (f" {timer}", "bold"),
                )
            )
        else:
            look = cloud_look(cloud)
            lines.append(((f"{look.glyph} {look.word}", look.style),))
        done = sum(1 for s in cloud.steps if s.status in ("done", "skipped"))
        total = duration(cloud_elapsed(cloud, view.now)) if cloud.started_t is not None else "-"
        strip = step_strip(cloud)
        count = f" {done}/{len(cloud.steps)}"
        clock = f"total {total}"
        gap = width - len(strip) - len(count) - len(clock)
        if gap < 1:
            count, clock = "", total
            gap = width - len(strip) - len(clock)
        lines.append((*strip, (count, "$text-muted"), (" " * max(1, gap), ""), (clock, "bold")))
        nodes = view.state.nodes_of(cloud.name)
        if nodes and height >= len(lines) + len(nodes) + 2 + LOG_ROWS:
            lines.extend(node_rows(view, nodes, width))  # space for a row per node
        else:
            lines.append(node_cells(view, nodes, cloud.expected_nodes, width))
        if cloud.status == "failed":
            lines.append(((fit(f"✖ {shown(cloud.error)}", width), "bold $step-failed"),))
        elif cur is not None and cur.message:
            lines.append(((fit(shown(cur.message), width), "$text-muted"),))
        log_rows = max(0, min(LOG_ROWS, height - len(lines)))
        if turn or len(self._log) < min(log_rows, cloud.log_count):
            self._log = self._tail(view, cloud, log_rows)
        for text in self._log[-log_rows:] if log_rows else ():
            lines.append(((fit(text, width), "$text-muted"),))
        return lines
