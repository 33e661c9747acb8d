"""The command palette's room commands, from the same action table as the keys."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.actions import ACTIONS


class RoomActionsProvider(Provider):
    """Offers every palette action the App would allow right now (``check_action``)."""

    def _allowed(self) -> list[tuple[str, str, str]]:
        app = self.app
        out = []
        for a in ACTIONS:
            if not a.palette:
                continue
            if app.check_action(a.name, ()) is False:
                continue
            out.append((f"{a.help} ({a.key_display})", a.action, a.help))
        return out

    async def discover(self) -> Hits:
        for title, action, help_text in self._allowed():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in self._allowed():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
