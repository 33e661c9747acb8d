"""Every CockroachDB node, grouped by cloud (its locality), as glyph and word.

A kill shows here at once (``⊗ killed 0.3s``) from ``KillIssued``, before the cluster
reports the node suspect and then dead; the age is the time since the shown state began.
"""

from __future__ import annotations

from tui.look import age, node_look, node_since
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines, fit


class NodeGrid(RoomLines):
    DEFAULT_CSS = "NodeGrid { height: auto; }"

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        s = view.state
        lines: list[Line] = [
            (("Nodes by cloud", "bold $primary"), (f"  {len(s.nodes)} seen", "$text-muted"))
        ]
        label_w = 10 if width >= 40 else 9
        for cloud in s.cloud_list():
            nodes = s.nodes_of(cloud.name)
            cells = max(1, cloud.expected_nodes, len(nodes))
            word_w = max(0, min(8, (width - label_w - 6) // cells - 2))
            parts: list[Part] = [
                (
                    fit(cloud.label, label_w).ljust(label_w),
                    "bold" if cloud.name == view.focused else "",
                )
            ]
            for n in nodes:
                look = node_look(n)
                parts.append((f" {look.glyph}{look.word[:word_w]:<{word_w}}", look.style))
            for _ in range(max(0, cloud.expected_nodes - len(nodes))):
                parts.append((" ○", "$node-joining"))
            if nodes:
                latest = max(nodes, key=node_since)
                parts.append((f" {age(view.now - node_since(latest))}", "$text-muted"))
            lines.append(tuple(parts))
        return lines
