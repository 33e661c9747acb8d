"""What a zoomed cloud has made and not yet deleted: what teardown will delete."""

from __future__ import annotations

from tui.view import RoomView
from tui.widgets.lines import Line, RoomLines, fit


class ResourceList(RoomLines):
    DEFAULT_CSS = "ResourceList { height: auto; }"

    def __init__(self, cloud: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cloud = cloud

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        cloud = view.state.clouds.get(self.cloud)
        if cloud is None:
            return []
        lines: list[Line] = [
            (("Resources", "bold $primary"), (f"  {len(cloud.resource_list)}", "$text-muted"))
        ]
        prefix = f"{view.state.run_id}-{cloud.name}-"
        for r in cloud.resource_list:
            label = r.name or r.resource_id
            if label.startswith(prefix):  # every name starts with the run id: show the rest
                label = "…" + label[len(prefix) :]
            lines.append(
                (
                    (f"{r.resource_type:<15} ", "$text-muted"),
                    (fit(label, max(4, width - 16)), ""),
                )
            )
        for left in cloud.leftovers:
            lines.append(((fit(f"LEFT BEHIND {left}", width), "bold $step-failed"),))
        if len(lines) == 1:
            lines.append((("none", "$text-muted"),))
        return lines
