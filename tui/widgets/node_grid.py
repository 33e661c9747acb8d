"""Every CockroachDB node, grouped by cloud (its locality), as glyph and word.

A kill shows here at once (``⊗ killed 0.3s``) from ``KillIssued``, before the cluster
reports the node suspect and then dead; the age is the time since the shown state began.

The grid fits the rows the side panel leaves it (``rows``): a line per cloud when they
fit (words shrink to glyphs as nodes get more), else several clouds to a line, else one
glyph per cloud (its worst node) with the node counts summed and the focused cloud's
nodes spelled out, so 600 nodes of 200 clouds fit a 36x12 corner.
"""

from __future__ import annotations

from engine.state import CloudState, NodeState
from tui.look import KILLED, NODE_LOOKS, Look, age, node_look, node_since
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines, fit

WORST_FIRST = ("killed", "dead", "suspect", "draining", "decomm.", "decomm'd", "joining")
"""Which node speaks for its cloud when a cloud is one glyph: the one in most trouble."""
NO_NODES = Look("·", "none yet", "$text-muted")


def worst(nodes: list[NodeState]) -> Look:
    looks = [node_look(n) for n in nodes]
    for word in WORST_FIRST:
        for look in looks:
            if look.word == word:
                return look
    return looks[0] if looks else NO_NODES


class NodeGrid(RoomLines):
    DEFAULT_CSS = "NodeGrid { height: auto; }"

    rows: int = 0
    """Lines the grid may take (title included); 0: as many as it needs."""

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        s = view.state
        title: Line = (
            ("Nodes by cloud", "bold $primary"),
            (f"  {len(s.nodes)} seen", "$text-muted"),
        )
        clouds = s.cloud_list()
        budget = self.rows or len(clouds) + 1
        if len(clouds) + 1 <= budget:
            return [title, *(self._cloud_line(view, c, width) for c in clouds)]
        packed = self._packed(view, clouds, width)
        if len(packed) + 1 <= budget:
            return [title, *packed]
        return [title, *self._summed(view, clouds, width, budget - 1)]

    def _cloud_line(self, view: RoomView, cloud: CloudState, width: int) -> Line:
        label_w = 10 if width >= 40 else 9
        nodes = view.nodes_of(cloud.name)
        cells = max(1, cloud.expected_nodes, len(nodes))
        word_w = max(0, min(8, (width - label_w - 6) // cells - 2))
        glyph_w = 2 if word_w or (width - label_w - 6) >= 2 * cells else 1
        parts: list[Part] = [
            (
                fit(cloud.label, label_w).ljust(label_w),
                "bold" if cloud.name == view.focused else "",
            )
        ]
        for n in nodes:
            look = node_look(n)
            cell = f" {look.glyph}" if glyph_w == 2 else look.glyph
            parts.append((f"{cell}{look.word[:word_w]:<{word_w}}", look.style))
        for _ in range(max(0, cloud.expected_nodes - len(nodes))):
            parts.append((" ○" if glyph_w == 2 else "○", "$node-joining"))
        if nodes:
            latest = max(nodes, key=node_since)
            parts.append((f" {age(view.now - node_since(latest))}", "$text-muted"))
        return tuple(parts)

    def _packed(self, view: RoomView, clouds: list[CloudState], width: int) -> list[Line]:
        """Several clouds to a line: a short label and a glyph per node."""
        lines: list[Line] = []
        line: list[Part] = []
        used = 0
        for cloud in clouds:
            nodes = view.nodes_of(cloud.name)
            glyphs: list[Part] = [(node_look(n).glyph, node_look(n).style) for n in nodes]
            missing = max(0, cloud.expected_nodes - len(nodes))
            glyphs.extend(("○", "$node-joining") for _ in range(missing))
            label = fit(cloud.label, 6).ljust(6)
            size = len(label) + 1 + len(glyphs) + 1
            if line and used + size > width:
                lines.append(tuple(line))
                line, used = [], 0
            focus = "bold reverse" if cloud.name == view.focused else ""
            line.extend([(label, focus), (" ", ""), *glyphs, (" ", "")])
            used += size
        if line:
            lines.append(tuple(line))
        return lines

    def _summed(
        self, view: RoomView, clouds: list[CloudState], width: int, rows: int
    ) -> list[Line]:
        """One glyph per cloud (its worst node), the totals, the focused cloud in words."""
        per_cell = 2 if -(-len(clouds) // max(1, width // 2)) <= rows - 2 else 1
        per_line = max(1, width // per_cell)
        lines: list[Line] = []
        for start in range(0, len(clouds), per_line):
            parts: list[Part] = []
            for cloud in clouds[start : start + per_line]:
                look = worst(view.nodes_of(cloud.name))
                style = f"reverse {look.style}" if cloud.name == view.focused else look.style
                parts.append((look.glyph, style))
                if per_cell == 2:
                    parts.append((" ", ""))
            lines.append(tuple(parts))
        lines = lines[: max(0, rows - 2)]
        totals: list[Part] = []
        for liveness in ("live", "suspect", "dead"):
            look = NODE_LOOKS[liveness]
            n = view.state.count(liveness)
            totals.append((f"{look.glyph}{n} ", look.style if n else "$text-muted"))
        killed = sum(1 for n in view.state.nodes.values() if node_look(n) is KILLED)
        if killed:
            totals.append((f"{KILLED.glyph}{killed} ", KILLED.style))
        lines.append(tuple(totals))
        focused = view.state.clouds.get(view.focused or "")
        if focused is not None and rows >= 2:
            lines.append(self._cloud_line(view, focused, width))
        return lines
