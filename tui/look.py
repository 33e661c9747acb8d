"""How each state reads on screen: a glyph and a word beside the colour.

Colour alone fails on a washed-out projector, in the mono theme and for colour-blind
viewers, so every state has a distinct glyph and a word; the colour is a theme variable
(``$node-dead`` …) so a theme switch recolours without touching this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.config.durations import duration_words

if TYPE_CHECKING:
    from engine.state import CloudState, NodeState, StepState


@dataclass(frozen=True)
class Look:
    glyph: str
    word: str
    style: str
    """Content markup style: a theme variable, maybe with text attributes."""


NODE_LOOKS: dict[str, Look] = {
    "joining": Look("○", "joining", "$node-joining"),
    "live": Look("●", "live", "$node-live"),
    "suspect": Look("◐", "suspect", "bold $node-suspect"),
    "dead": Look("✖", "dead", "bold $node-dead"),
    "draining": Look("◒", "draining", "$node-suspect"),
    "decommissioning": Look("◌", "decomm.", "$node-joining"),
    "decommissioned": Look("◌", "decomm'd", "$node-joining"),
}
KILLED = Look("⊗", "killed", "bold reverse $node-killed")
"""A node the presenter just killed, before the cluster has noticed."""
KILLED_LOOKS: dict[str, Look] = {
    "pod": Look("↻", "restarting", "bold reverse $node-killed"),
    "server": Look("⊗", "VM off", "bold reverse $node-killed"),
    "cloud": Look("⊗", "VM off", "bold reverse $node-killed"),
    "crash": Look("↻", "crashed", "bold reverse $node-killed"),
    "freeze": Look("❄", "frozen", "bold reverse $node-killed"),
    "partition": Look("✂", "cut off", "bold reverse $node-killed"),
}
"""What each kind of fault reads as until the cluster reacts (a stopped node: ``KILLED``)."""

CLOUD_LOOKS: dict[str, Look] = {
    "idle": Look("○", "idle", "$step-pending"),
    "running": Look("▶", "running", "$step-running"),
    "joined": Look("✔", "joined", "bold $step-done"),
    "failed": Look("✖", "FAILED", "bold reverse $step-failed"),
    "cancelled": Look("⊘", "cancelled", "$step-failed"),
    "tearing_down": Look("▼", "tearing down", "$step-running"),
    "torn_down": Look("▽", "torn down", "$step-pending"),
}

STEP_LOOKS: dict[str, Look] = {
    "pending": Look("·", "pending", "$step-pending"),
    "running": Look("▸", "running", "bold $step-running"),
    "done": Look("■", "done", "$step-done"),
    "skipped": Look("-", "skipped", "$step-pending"),
    "failed": Look("✖", "failed", "bold reverse $step-failed"),
    "cancelled": Look("⊘", "cancelled", "$step-failed"),
}

UNKNOWN = Look("?", "?", "$foreground")


def node_look(node: NodeState) -> Look:
    """A killed node reads "killed" until the cluster calls it suspect or dead."""
    if node.killed_t is not None and node.liveness not in ("suspect", "dead"):
        return KILLED_LOOKS.get(node.killed_kind, KILLED)
    return NODE_LOOKS.get(node.liveness, Look("?", node.liveness, "$foreground"))


def node_since(node: NodeState) -> float:
    """When the node's shown state began: the kill, or the cluster's last change."""
    if node.killed_t is not None and node.liveness not in ("suspect", "dead"):
        return node.killed_t
    return node.since_t


def cloud_look(cloud: CloudState) -> Look:
    return CLOUD_LOOKS.get(cloud.status, UNKNOWN)


def step_look(step: StepState) -> Look:
    return STEP_LOOKS.get(step.status, UNKNOWN)


def duration(seconds: float | None) -> str:
    """Whole seconds on screen (sub-second digits would repaint ten times a second)."""
    return "-" if seconds is None else duration_words(seconds)


def age(seconds: float) -> str:
    """Time since a change: tenths under ten seconds, so a kill reads "0.3s" at once;
    whole minutes past one minute, so a quiet cluster does not repaint every second."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h"


def cloud_elapsed(cloud: CloudState, now: float) -> float | None:
    """The cloud's total timer: frozen when it ends (joined, failed, cancelled)."""
    if cloud.started_t is None:
        return None
    if cloud.time_to_join_s is not None:
        return cloud.time_to_join_s
    end = cloud.ended_t if cloud.ended_t is not None else now
    return end - cloud.started_t


def step_elapsed(step: StepState, now: float) -> float | None:
    if step.status == "running" and step.started_t is not None:
        return now - step.started_t
    return step.duration_s


def progress_fraction(cloud: CloudState) -> float:
    """Steps finished, plus the running step's own done/total, over all steps."""
    if not cloud.steps:
        return 0.0
    finished = sum(1 for s in cloud.steps if s.status in ("done", "skipped"))
    partial = 0.0
    cur = cloud.current
    if cur is not None and cur.status == "running" and cur.total:
        partial = min(1.0, (cur.done or 0) / cur.total)
    return min(1.0, (finished + partial) / len(cloud.steps))


def bar(fraction: float, width: int) -> str:
    """A bar in eighths, so it moves smoothly without colour."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest] if rest else ""
    return ("█" * full + partial).ljust(width, "░")[:width]


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: tuple[float, ...], width: int) -> str:
    """The last ``width`` values as block characters scaled to their own maximum."""
    tail = values[-width:]
    if not tail:
        return " " * width
    top = max(tail) or 1.0
    chars = "".join(SPARK[min(7, int(v / top * 7.999))] for v in tail)
    return chars.rjust(width)


def counted(n: int, noun: str, *, every: bool = False) -> str:
    """``1 resource``, ``3 resources``; with ``every``: ``the 1 resource``, ``all 3
    resources`` (never "all 1 resources")."""
    words = f"{n} {noun}" if n == 1 else f"{n} {noun}s"
    if not every:
        return words
    return f"the {words}" if n == 1 else f"all {words}"
