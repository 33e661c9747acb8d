"""The compact layout's table (80x24): one row per cloud, every column a number or a glyph.

Columns: focus and key, status glyph, label, current step, step progress bar, step timer,
total timer, the cloud's nodes as glyphs with live/total, and a note (the last node
change, the error, or the step's latest progress) in whatever width is left.
"""

from __future__ import annotations

from engine.plan import STEP_TITLES
from engine.state import CloudState
from engine.terminal_text import shown
from tui.look import (
    age,
    bar,
    cloud_elapsed,
    cloud_look,
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
    nodes = view.state.nodes_of(cloud.name)
    if not nodes:
        return None
    latest = max(nodes, key=node_since)
    look = node_look(latest)
    if look.word == "live" and latest.killed_t is None:
        return None
    short = latest.node.rpartition("/")[2].replace("node-", "n")
    return f"{look.glyph} {short} {look.word} {age(view.now - node_since(latest))}", look.style


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


class CloudTable(RoomLines):
    DEFAULT_CSS = "CloudTable { height: auto; }"

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        head: Line = (
            (
                f"     {'cloud':<{LABEL_W}} {'step':<{STEP_W}} {'progress':<{BAR_W}} "
                f"{'step':>5} {'total':>6}  nodes   note",
                "bold $text-muted",
            ),
        )
        lines = [head]
        for i, cloud in enumerate(view.state.cloud_list()):
            lines.append(self._row(view, i, cloud, width))
        return lines

    def _row(self, view: RoomView, i: int, cloud: CloudState, width: int) -> Line:
        focused = cloud.name == view.focused
        look = cloud_look(cloud)
        cur = cloud.current
        step_t = step_elapsed(cur, view.now) if cur is not None else None
        nodes = view.state.nodes_of(cloud.name)
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
        used = sum(len(t) for t, _ in parts)
        parts.append((fit(note, width - used), note_style))
        if focused:
            parts = [(t, f"{s} on $boost" if s else "on $boost") for t, s in parts]
        return tuple(parts)
