"""The latest significant event in words, for the back of a hall.

The audience view shows one large caption line: "EasyStack joined in 7m32s, 15th",
"canonical/node-1 suspect after 6.2 s, kv errors 0", "cluster healed 41.0 s after the
kill of canonical/node-1". Most events (log lines, progress, samples with nothing new)
say nothing worth a caption; ``caption_of`` answers ``None`` for them and the last
caption stays up.

Pure and engine-side, so the projector in a browser, a terminal attached with
``--audience`` and a report all tell the same story from the same events. Each caption
is a small function registered for one event class; a new event gets its caption by
adding one function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from engine import events as ev
from engine.config.durations import duration_words
from engine.state import KillRecord, RoomState, apply
from engine.targets import KIND_TITLES

ERROR_CHARS = 60
"""Characters of a failure's message a caption keeps (the presenter's screen has the rest)."""

E = TypeVar("E", bound=ev.Event)
Captioner = Callable[[Any, RoomState], "str | None"]
_CAPTIONERS: dict[type[ev.Event], Captioner] = {}
KindCaptioner = Callable[[dict[str, Any], RoomState], "str | None"]
_BY_KIND: dict[str, KindCaptioner] = {}
"""Captions for events known by their kind and fields (the run-sheet's), read from the
event's own JSON fields, so they work whichever version of ``engine.events`` is here."""


def _captions(cls: type[E]) -> Callable[[Callable[[E, RoomState], str | None]], Captioner]:
    def register(fn: Callable[[E, RoomState], str | None]) -> Captioner:
        _CAPTIONERS[cls] = fn
        return fn

    return register


def _captions_kind(kind: str) -> Callable[[KindCaptioner], KindCaptioner]:
    def register(fn: KindCaptioner) -> KindCaptioner:
        _BY_KIND[kind] = fn
        return fn

    return register


def caption_of(event: ev.Event, state: RoomState) -> str | None:
    """The caption ``event`` sets, or ``None`` when it changes nothing an audience follows.

    ``state`` is the fold of every event *before* this one: what changed is read by
    comparing the two (a node that was suspect and is live again, errors that grew).
    """
    captioner = _CAPTIONERS.get(type(event))
    if captioner is not None:
        return captioner(event, state)
    by_kind = _BY_KIND.get(event.kind)
    return None if by_kind is None else by_kind(ev.to_dict(event), state)


def latest_caption(events: list[ev.Event], state: RoomState | None = None) -> str | None:
    """The caption standing after ``events`` (folded on from ``state``)."""
    s = state if state is not None else RoomState()
    latest: str | None = None
    for event in events:
        latest = caption_of(event, s) or latest
        s = apply(s, event)
    return latest


# --- words -------------------------------------------------------------------------------------


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd``."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _first_line(text: str, limit: int = ERROR_CHARS) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _label(state: RoomState, cloud: str) -> str:
    c = state.clouds.get(cloud)
    return c.label if c is not None and c.label else cloud


def _open_kill(state: RoomState, node: str, t: float) -> KillRecord | None:
    """The latest kill that hit ``node`` and has not seen it back."""
    for k in reversed(state.kills):
        if node in k.nodes and k.at_t <= t and not k.error:
            return None if k.back_t is not None else k
    return None


# --- the run and the clouds --------------------------------------------------------------------


@_captions(ev.RunStarted)
def _run_started(e: ev.RunStarted, state: RoomState) -> str:
    n = len(e.clouds)
    clouds = "1 cloud" if n == 1 else f"{n} clouds"
    return f"{e.demo}: {clouds}, one CockroachDB cluster" if e.demo else clouds


@_captions(ev.CloudStarted)
def _cloud_started(e: ev.CloudStarted, state: RoomState) -> str | None:
    if e.from_step:
        return f"{_label(state, e.cloud)} retries from {e.from_step}"
    if any(c.status != "idle" for c in state.clouds.values()):
        return None  # only the first start is news; the rest is the grid's job
    n = len(state.clouds)
    return f"provisioning {n} cloud{'s' if n != 1 else ''}"


@_captions(ev.CloudJoined)
def _cloud_joined(e: ev.CloudJoined, state: RoomState) -> str:
    times = [
        c.time_to_join_s
        for c in state.clouds.values()
        if c.time_to_join_s is not None and c.name != e.cloud
    ]
    rank = 1 + sum(1 for t in times if t < e.time_to_join_s)
    text = f"{_label(state, e.cloud)} joined in {duration_words(e.time_to_join_s)}, {ordinal(rank)}"
    total = len(state.clouds)
    if total > 1 and len(times) + 1 == total:
        text += f": all {total} clouds joined"
    return text


@_captions(ev.StepFailed)
def _step_failed(e: ev.StepFailed, state: RoomState) -> str:
    error = _first_line(e.error)
    tail = f": {error}" if error else ""
    return f"{_label(state, e.cloud)} failed at {e.step}{tail}"


@_captions(ev.CloudCancelled)
def _cloud_cancelled(e: ev.CloudCancelled, state: RoomState) -> str:
    at = f" at {e.step}" if e.step else ""
    return f"{_label(state, e.cloud)} cancelled{at}"


@_captions(ev.RunFinished)
def _run_finished(e: ev.RunFinished, state: RoomState) -> str:
    total = len(state.clouds) or e.joined + e.failed + e.cancelled
    text = f"{e.joined} of {total} clouds joined"
    if e.failed:
        text += f", {e.failed} failed"
    return text


@_captions(ev.TeardownFinished)
def _teardown_finished(e: ev.TeardownFinished, state: RoomState) -> str:
    left = f", {len(e.leftovers)} left over" if e.leftovers else ""
    return f"{_label(state, e.cloud)} torn down{left}"


# --- chaos and the cluster ---------------------------------------------------------------------


@_captions(ev.KillIssued)
def _kill_issued(e: ev.KillIssued, state: RoomState) -> str:
    return f"{KIND_TITLES.get(e.target_kind, 'kill')}: {e.target}"


@_captions(ev.KillFailed)
def _kill_failed(e: ev.KillFailed, state: RoomState) -> str:
    return f"kill of {e.target} failed: {_first_line(e.error)}"


@_captions(ev.ReviveIssued)
def _revive_issued(e: ev.ReviveIssued, state: RoomState) -> str:
    return f"reviving {e.target}"


@_captions(ev.NodeObserved)
def _node_observed(e: ev.NodeObserved, state: RoomState) -> str | None:
    old = state.nodes.get(e.node)
    was = old.liveness if old is not None else "joining"
    if was == e.liveness:
        return None
    kill = _open_kill(state, e.node, e.t)
    errors = state.workload.errors_total
    if e.liveness in ("suspect", "dead"):
        if kill is not None:
            return f"{e.node} {e.liveness} after {e.t - kill.at_t:.1f} s, kv errors {errors}"
        return f"{e.node} {e.liveness}, kv errors {errors}"
    if e.liveness == "live":
        if kill is not None and was in ("suspect", "dead"):
            return f"{e.node} live again {e.t - kill.at_t:.1f} s after the kill"
        if was in ("suspect", "dead"):
            return f"{e.node} live again"
        return None  # a node joining is the grid's news, not the hall's
    return f"{e.node} {e.liveness}"


@_captions(ev.ClusterHealthObserved)
def _cluster_health(e: ev.ClusterHealthObserved, state: RoomState) -> str | None:
    before = state.health
    if e.unavailable and not before.unavailable:
        return f"{e.unavailable} ranges unavailable"
    if e.under_replicated and not before.under_replicated and not e.unavailable:
        if state.kills:
            return f"{e.under_replicated} ranges under-replicated: the cluster re-replicates"
        return f"{e.under_replicated} ranges under-replicated"
    troubled = before.under_replicated or before.unavailable
    if troubled and not e.under_replicated and not e.unavailable:
        last = next((k for k in reversed(state.kills) if k.at_t <= e.t), None)
        if last is not None:
            return f"cluster healed {e.t - last.at_t:.1f} s after the kill of {last.target}"
        return "every range fully replicated"
    return None


@_captions(ev.WorkloadSample)
def _workload(e: ev.WorkloadSample, state: RoomState) -> str | None:
    grew = e.errors_total - state.workload.errors_total
    if grew <= 0:
        return None
    return f"kv errors {e.errors_total} (+{grew}), {e.ops_per_s:,.0f} ops/s"


# --- the screen's own side ---------------------------------------------------------------------


@_captions(ev.EngineGone)
def _engine_gone(e: ev.EngineGone, state: RoomState) -> str:
    run = e.run_id or state.run_id
    return f"the engine of run {run} has gone; this is the show as last seen"


# --- the run-sheet (cues, the go-gate, expectations) -------------------------------------------


@_captions_kind("cue_fired")
def _cue_fired(e: dict[str, Any], state: RoomState) -> str | None:
    """A ``say`` cue's words are the caption, verbatim; other cues show as what they do
    (their kill or revive has its own event and caption)."""
    text = e.get("text")
    if e.get("action") == "say" and isinstance(text, str) and text:
        return text
    return None


@_captions_kind("gate_held")
def _gate_held(e: dict[str, Any], state: RoomState) -> str:
    return f"every cloud waits for the go before {e.get('step', 'the next step')}"


@_captions_kind("gate_released")
def _gate_released(e: dict[str, Any], state: RoomState) -> str:
    return "go: every cloud carries on"


@_captions_kind("verdict_decided")
def _verdict(e: dict[str, Any], state: RoomState) -> str:
    word = "PASS" if e.get("passed") else "FAIL"
    measured, expected = e.get("measured", ""), e.get("expected", "")
    return f"{word} {e.get('name', '')}: {measured} (expected {expected})"
