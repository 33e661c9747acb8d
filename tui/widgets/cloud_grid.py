"""The grid layout's panes, one per cloud, in as many columns as the width allows.

Panes are mounted once, when the run's cloud list is known, never per event. A view that
differs from the last only in which cloud is focused (a focus key between ticks) is
shown to the two panes it concerns, not rebuilt in all of them.
"""

from __future__ import annotations

from textual.containers import Container

from tui.view import RoomView
from tui.widgets.cloud_pane import CloudPane

PANE_MIN_WIDTH = 26


class CloudGrid(Container):
    DEFAULT_CSS = "CloudGrid { layout: grid; grid-gutter: 0 0; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._order: tuple[str, ...] = ()
        self._panes: tuple[CloudPane, ...] = ()
        self._last: RoomView | None = None

    @property
    def columns(self) -> int:
        return max(1, self.styles.grid_size_columns or 1)

    def set_clouds(self, order: tuple[str, ...]) -> None:
        """Mount one pane per cloud; only when the run (its cloud list) changes."""
        if order == self._order:
            return
        self._order = order
        self.remove_children()
        self._panes = tuple(CloudPane(name, i) for i, name in enumerate(order))
        self.mount_all(self._panes)
        self._arrange()

    def on_resize(self) -> None:
        self._arrange()

    def _arrange(self) -> None:
        n = max(1, len(self._order))
        cols = max(2, min(6, self.size.width // PANE_MIN_WIDTH)) if self.size.width else 3
        cols = min(cols, n)
        rows = -(-n // cols)
        cols = -(-n // rows)  # as few columns as the same rows need: no half-empty last row
        if self.styles.grid_size_columns != cols or self.styles.grid_size_rows != rows:
            self.styles.grid_size_columns = cols
            self.styles.grid_size_rows = rows

    def show(self, view: RoomView) -> None:
        self.set_clouds(view.state.cloud_order)
        last, self._last = self._last, view
        only: set[str | None] | None = None
        if last is not None and only_focus_moved(last, view):
            only = {last.focused, view.focused}
        for pane in self._panes:  # kept, not queried: a query walks the DOM on every tick
            if only is None or pane.cloud in only:
                pane.show(view)


def only_focus_moved(last: RoomView, view: RoomView) -> bool:
    """Whether ``view`` is ``last`` with another cloud focused (and nothing else new)."""
    return (
        last.state is view.state
        and last.now == view.now
        and last.tick == view.tick
        and last.slow == view.slow
        and last.logs is view.logs
        and last.narrow == view.narrow
        and last.replay == view.replay
    )
