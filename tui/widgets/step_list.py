"""A zoomed cloud's plan: every step with its glyph, word, attempt and time."""

from __future__ import annotations

from engine.plan import STEP_TITLES
from engine.terminal_text import shown
from tui.look import cloud_elapsed, cloud_look, duration, step_elapsed, step_look
from tui.view import RoomView
from tui.widgets.lines import Line, RoomLines, fit


class StepList(RoomLines):
    DEFAULT_CSS = "StepList { height: auto; }"

    def __init__(self, cloud: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cloud = cloud

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        cloud = view.state.clouds.get(self.cloud)
        if cloud is None:
            return []
        look = cloud_look(cloud)
        where = f" · {cloud.region}" if cloud.region else ""
        lines: list[Line] = [
            ((fit(f"{cloud.label}{where}", width), "bold $primary"),),
            (
                (f"{look.glyph} {look.word}", look.style),
                (f"   total {duration(cloud_elapsed(cloud, view.now))}", "bold"),
            ),
        ]
        for step in cloud.steps:
            sl = step_look(step)
            t = step_elapsed(step, view.now)
            timer = duration(t) if t is not None else ""
            tries = f" ×{step.attempt}" if step.attempt > 1 else ""  # noqa: RUF001
            title = STEP_TITLES.get(step.name, step.name) + tries
            lines.append(
                (
                    (f"{sl.glyph} ", sl.style),
                    (fit(title, width - 17).ljust(width - 17), sl.style),
                    (f" {sl.word:<8}", sl.style),
                    (f"{timer:>6}", "bold"),
                )
            )
            detail = step.error or step.message
            if detail and step.status in ("running", "failed"):
                lines.append(((fit(f"  {shown(detail)}", width), sl.style),))
        if cloud.error:
            lines.append(((fit(f"✖ {shown(cloud.error)}", width), "bold $step-failed"),))
        return lines
