"""The run-sheet's line above the prompt bar: the go-gate while it holds, the next cue
with its countdown (``space`` fires it when the presenter paces the show), and the
latest expectation decided, pass or fail, with its measured figure.

Shown only in a show that has a run-sheet, so a show without one keeps every row.
"""

from __future__ import annotations

from engine.terminal_text import shown
from tui.look import duration
from tui.view import RoomView
from tui.widgets.lines import Line, Part, RoomLines, fit


def next_cue_parts(view: RoomView) -> list[Part]:
    nxt = view.state.cue_next
    if nxt is None:
        if view.state.cues_fired:
            return [(" run-sheet done ", "$text-muted")]
        return []
    target = f" {shown(nxt.target, 40)}" if nxt.target else ""
    paced = nxt.paced and not view.replay  # a recording cannot be fired
    parts: list[Part] = [(f" NEXT {shown(nxt.cue, 40)}: {nxt.action}{target} ", "bold")]
    if nxt.due_t is None:
        when = "space fires it now" if paced else "waiting for its trigger"
        parts.append((f"({when}) ", "$text-muted"))
    elif nxt.due_t > view.now:
        left = f"in {duration(nxt.due_t - view.now)}"
        parts.append((f"{left}{', space fires it' if paced else ''} ", "bold $accent"))
    elif paced:
        parts.append(("due now: space fires it ", "bold reverse $warning"))
    else:
        parts.append(("firing ", "bold $accent"))
    return parts


def verdict_parts(view: RoomView) -> list[Part]:
    if not view.state.verdicts:
        return []
    v = view.state.verdicts[-1]
    failed = sum(1 for x in view.state.verdicts if not x.passed)
    word, style = ("✔ PASS", "bold $success") if v.passed else ("✖ FAIL", "bold $error")
    text = f" {word} {shown(v.scope, 30)}: {v.name} {shown(v.measured, 40)} ({v.expected})"
    tally = f"  {len(view.state.verdicts)} decided, {failed} failed "
    return [(text, style), (tally, "bold $error" if failed else "$text-muted")]


class CueBar(RoomLines):
    DEFAULT_CSS = """
    CueBar { height: 1; display: none; background: $panel; }
    CueBar.-active { display: block; }
    """

    def show(self, view: RoomView) -> None:
        if not self.is_attached:  # removed while the App closes: nothing to show on
            return
        s = view.state
        sheet = s.cue_next is not None or bool(s.cues_fired or s.verdicts) or bool(s.gate)
        self.set_class(sheet and not self.screen.has_class("-tiny"), "-active")
        super().show(view)

    def build(self, view: RoomView, width: int, height: int) -> list[Line]:
        s = view.state
        parts: list[Part] = []
        if s.gate == "held":
            parts.append(
                (f" ⏸ HELD before {s.gate_step}: g lets every cloud go ", "bold reverse $warning")
            )
            parts.append((" ", ""))
        parts.extend(next_cue_parts(view))
        verdict = verdict_parts(view)
        used = sum(len(t) for t, _ in parts)
        room = width - used
        if verdict and room > 20:
            text, style = verdict[0]
            parts.append((fit(text, room - len(verdict[1][0])), style))
            parts.append(verdict[1])
        return [tuple(parts) or ((" ", ""),)]
