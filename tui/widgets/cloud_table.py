"""The compact layout's table (80x24): one row per cloud, every column a number or a glyph.

Columns: focus and key, status glyph, label, current step, step progress bar, step timer,
total timer, the cloud's nodes as glyphs with live/total, and a note (the last node
change, the error, or the step's latest progress) in whatever width is left.

With more clouds than rows (100 clouds at 80x24) the table shows a window that follows
the focused cloud, and its last row sums up the clouds out of sight (how many above and
below, and how many of those joined, run, failed), so nothing happens unseen.
"""

from __future__ import annotations

from engine.plan import STEP_TITLES
from engine.state import CloudState
from engine.terminal_text import shown
from tui.look import (
    CLOUD_LOOKS,
    age,
    bar,
    cloud_elapsed,
    cloud_look,
    counted,
    duration,
    node_look,
    node_since,
    progress_fraction,
    step_elapsed,
)
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines, fit

LABEL_W = 12
STEP_W = 12
BAR_W = 8


def cloud_key(index: int) -> str:
    """The digit that focuses the cloud at ``index`` (0-based): 1-9, then 0; none after."""
    return str((index + 1) % 10) if index < 10 else " "


def step_text(cloud: CloudState) -> str:
    if cloud.status == "joined":
        return "joined"
    if cloud.status in ("torn_down", "tearing_down", "idle"):
        return cloud_look(cloud).word
    cur = cloud.current
    return cur.name if cur is not None else cloud_look(cloud).word


def node_note(view: RoomView, cloud: CloudState) -> tuple[str, str] | None:
    """The cloud's most recent node change, e.g. ``n2 killed 0.3s``, while it is news."""
    nodes = view.nodes_of(cloud.name)
    if not nodes:
        return None
    latest = max(nodes, key=node_since)
    look = node_look(latest)
    if look.word == "live" and latest.killed_t is None:
        return None
    short = latest.node.rpartition("/")[2].replace("node-", "n")
    return f"{look.glyph} {short} {look.word} {age(view.now - node_since(latest))}", look.style


def eta_left(view: RoomView, cloud: CloudState) -> tuple[float, float] | None:
    """``(seconds left, lead)`` for a running cloud with a history (``engine.eta``): what
    its remaining steps took by the median, less the running step's time so far; the lead
    is > 0 ahead of that pace, < 0 behind."""
    eta = view.state.eta.get(cloud.name)
    if eta is None or cloud.status != "running":
        return None
    done = sum(s.duration_s or 0.0 for s in cloud.steps if s.status == "done")
    cur = cloud.current
    running = (step_elapsed(cur, view.now) or 0.0) if cur is not None else 0.0
    left = eta.expected_total_s - eta.ahead_s - done - running
    return max(0.0, left), eta.ahead_s


def eta_text(view: RoomView, cloud: CloudState, *, short: bool = False) -> str:
    """``~1m05s left, 12s ahead`` (``short``: ``~1m05s left +12s``); empty without one."""
    known = eta_left(view, cloud)
    if known is None:
        return ""
    left, lead = known
    if short:
        return f"~{duration(left)} left {'+' if lead >= 0 else '-'}{duration(abs(lead))}"
    pace = (
        "on pace" if abs(lead) < 1 else f"{duration(abs(lead))} {'ahead' if lead > 0 else 'behind'}"
    )
    return f"~{duration(left)} left, {pace}"


def cloud_note(view: RoomView, cloud: CloudState) -> tuple[str, str]:
    note = node_note(view, cloud)
    if note is not None:
        return note
    if cloud.status == "failed":
        return shown(cloud.error), "$step-failed"
    cur = cloud.current
    if cur is not None and cur.message:
        return shown(cur.message), "$text-muted"
    if cloud.status == "running" and cur is not None:
        return STEP_TITLES.get(cur.name, cur.name), "$text-muted"
    return "", ""


RESTS: tuple[tuple[str, str], ...] = (
    ("joined", "joined"),
    ("running", "running"),
    ("failed", "failed"),
    ("cancelled", "cancelled"),
    ("tearing_down", "tearing down"),
    ("torn_down", "torn down"),
    ("idle", "idle"),
)


def window(count: int, rows: int, focus: int, top: int) -> int:
    """The first row shown: ``top`` moved as little as needed to show ``focus``."""
    if count <= rows:
        return 0
    if focus < top:
        top = focus
    elif focus >= top + rows:
        top = focus - rows + 1
    return max(0, min(top, count - rows))


def rest_line(view: RoomView, above: list[CloudState], below: list[CloudState]) -> Line:
    """The clouds out of sight, counted by status, e.g. ``↑ 4 ↓ 81 more: ✔ 60 joined …``."""
    parts: list[Part] = [(f" ↑ {len(above)} ↓ {len(below)} more:", "bold $text-muted")]
    hidden = [*above, *below]
    for status, word in RESTS:
        n = sum(1 for c in hidden if c.status == status)
        if n:
            look = CLOUD_LOOKS[status]
            parts.append((f"  {look.glyph} {n} {word}", look.style))
    killed = sum(
        1 for c in hidden for n in view.nodes_of(c.name) if node_look(n).word in ("killed", "dead")
    )
    if killed:
        parts.append((f"  ✖ {counted(killed, 'node')} down", "bold $node-dead"))
    return tuple(parts)


class CloudTable(RoomLines):
    DEFAULT_CSS = "CloudTable { height: auto; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._top = 0

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        head: Line = (
            (
                f"     {'cloud':<{LABEL_W}} {'step':<{STEP_W}} {'progress':<{BAR_W}} "
                f"{'step':>5} {'total':>6}  nodes   note",
                "bold $text-muted",
            ),
        )
        lines = [head]
        clouds = view.state.cloud_list()
        rows = height - 1 if height > 1 else len(clouds)
        if len(clouds) > rows:
            rows = max(1, rows - 1)  # the last row sums up the rest
        self._top = window(len(clouds), rows, max(0, view.focused_index), self._top)
        shown = clouds[self._top : self._top + rows]
        for i, cloud in enumerate(shown, self._top):
            lines.append(self._row(view, i, cloud, width))
        if len(shown) < len(clouds):
            lines.append(rest_line(view, clouds[: self._top], clouds[self._top + rows :]))
        return lines

    def _row(self, view: RoomView, i: int, cloud: CloudState, width: int) -> Line:
        focused = cloud.name == view.focused
        look = cloud_look(cloud)
        cur = cloud.current
        step_t = step_elapsed(cur, view.now) if cur is not None else None
        nodes = view.nodes_of(cloud.name)
        live = sum(1 for n in nodes if n.liveness == "live" and n.killed_t is None)
        glyphs: list[Part] = [(node_look(n).glyph, node_look(n).style) for n in nodes]
        glyphs.extend(("○", "$node-joining") for _ in range(cloud.expected_nodes - len(nodes)))
        note, note_style = cloud_note(view, cloud)
        parts: list[Part] = [
            ("▌" if focused else " ", "bold $accent"),
            (cloud_key(i), "$text-muted"),
            (" ", ""),
            (look.glyph, look.style),
            (" ", ""),
            (fit(cloud.label, LABEL_W).ljust(LABEL_W), "bold" if focused else ""),
            (" ", ""),
            (fit(step_text(cloud), STEP_W).ljust(STEP_W), look.style),
            (" ", ""),
            (bar(progress_fraction(cloud), BAR_W), look.style),
            (" ", ""),
            (f"{duration(step_t) if step_t is not None else '':>5}", ""),
            (" ", ""),
            (
                f"{duration(cloud_elapsed(cloud, view.now)):>6}",
                "bold" if cloud.time_to_join_s else "",
            ),
            ("  ", ""),
            *glyphs,
            (f" {live}/{cloud.expected_nodes}", ""),
            ("  ", ""),
        ]
        eta = eta_text(view, cloud, short=True)
        if eta and note_style in ("", "$text-muted"):  # news (a node, an error) stays first
            note, note_style = (f"{eta} · {note}" if note else eta), "$text-muted"
        elif eta:
            note = f"{note} · {eta}"
        used = sum(len(t) for t, _ in parts)
        parts.append((fit(note, width - used), note_style))
        if focused:
            parts = [(t, f"{s} on $boost" if s else "on $boost") for t, s in parts]
        return tuple(parts)
