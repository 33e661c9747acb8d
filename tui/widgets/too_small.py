"""Shown instead of the room when the terminal cannot hold it: what size is needed."""

from __future__ import annotations

from textual.widgets import Static


class TooSmall(Static):
    DEFAULT_CSS = "TooSmall { width: 1fr; height: 1fr; content-align: center middle; }"

    def need(self, width: int, height: int, have_w: int, have_h: int) -> None:
        self.update(
            f"terminal too small: need {width}×{height}\n"  # noqa: RUF001
            f"(this one is {have_w}×{have_h})"  # noqa: RUF001
        )
