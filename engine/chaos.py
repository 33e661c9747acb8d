"""Chaos as the room carries it out: which target a presenter's text names, and the fault.

The room publishes ``KillIssued`` / ``ReviveIssued`` itself, at once, so the screen shows the
fault before the cloud has acted; the fault then runs in the room's task group, and a
fault that fails is a ``KillFailed`` event, never a crash of the show.
"""

from __future__ import annotations

from engine.backend import CloudBackend
from engine.config.model import DemoConfig
from engine.errors import StepError
from engine.events import EventSink, KillFailed
from engine.plan import StepContext
from engine.redact import one_line
from engine.targets import Target, parse_target


def resolve_target(demo: DemoConfig, text: str) -> Target | str:
    """The target ``text`` names in this demo, or the one-line reason it names none."""
    try:
        target = parse_target(text)
    except ValueError as exc:
        return str(exc)
    if target.cloud not in {c.name for c in demo.clouds}:
        return f"no cloud named {target.cloud!r} in this demo"
    limit = demo.cloud(target.cloud).nodes
    if target.index is not None and target.index > limit:
        return f"{target}: {target.cloud} has only {limit} nodes"
    return target


async def carry_out(
    backend: CloudBackend, target: Target, ctx: StepContext, kill: bool, publish: EventSink
) -> None:
    """Kill or revive ``target``; a failure becomes ``KillFailed`` (the show goes on)."""
    try:
        if kill:
            await backend.kill(target, ctx)
        else:
            await backend.revive(target, ctx)
    except Exception as exc:  # contained: a failed kill must not stop the show
        message = exc.message if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
        publish(KillFailed(target=str(target), error=one_line(message)))
