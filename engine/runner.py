"""Runs one cloud's plan: step events with timings, retries with jittered backoff, a
timeout per attempt, prompt cancellation, and one-line errors. A failure stops this cloud
only; the room decides what runs next.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

import anyio

from engine.errors import StepError
from engine.events import (
    CloudCancelled,
    CloudJoined,
    CloudStarted,
    StepFailed,
    StepFinished,
    StepRetrying,
    StepStarted,
)
from engine.plan import Step, StepContext
from engine.redact import one_line

if TYPE_CHECKING:
    from engine.gate import GoGate

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0


class Outcome(Enum):
    JOINED = "joined"
    FAILED = "failed"
    CANCELLED = "cancelled"


def backoff_s(attempt: int, jitter: float) -> float:
    """Exponential backoff capped at 30 s, scaled to 50-100 % by ``jitter`` (0..1)."""
    delay: float = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** (attempt - 1))
    return delay * (0.5 + 0.5 * jitter)


def start_index(steps: Sequence[Step], from_step: str | None) -> int:
    if not from_step:
        return 0
    for i, step in enumerate(steps):
        if step.name == from_step:
            return i
    return 0


async def run_cloud(
    ctx: StepContext,
    steps: Sequence[Step],
    from_step: str | None = None,
    gate: GoGate | None = None,
) -> Outcome:
    """Run ``steps`` from ``from_step`` (all when ``None``); never raises but cancellation.
    With a ``gate``, wait before its step until the gate is released."""
    cloud = ctx.cloud.name
    clock = ctx.clock
    ctx.emit(CloudStarted(cloud=cloud, from_step=from_step or ""))
    if not from_step or "started_t" not in ctx.facts:
        ctx.facts["started_t"] = clock.now()
    for step in steps[start_index(steps, from_step) :]:
        ctx.step = step.name
        if gate is not None and step.name == gate.step:  # held there, even if skipped
            await gate.hold(ctx)
        if step.skip:
            ctx.emit(StepStarted(cloud=cloud, step=step.name))
            ctx.emit(StepFinished(cloud=cloud, step=step.name, duration_s=0.0, skipped=True))
            continue
        outcome = await _run_step(ctx, step)
        if outcome is not None:
            return outcome
    ctx.emit(CloudJoined(cloud=cloud, time_to_join_s=clock.now() - ctx.facts["started_t"]))
    return Outcome.JOINED


async def _run_step(ctx: StepContext, step: Step) -> Outcome | None:
    cloud, clock = ctx.cloud.name, ctx.clock
    attempt = 1
    began = clock.now()
    while True:
        ctx.emit(StepStarted(cloud=cloud, step=step.name, attempt=attempt))
        try:
            with anyio.fail_after(step.timeout_s / clock.speed):
                await step.run(ctx)
        except anyio.get_cancelled_exc_class():
            ctx.emit(CloudCancelled(cloud=cloud, step=step.name))
            ctx.log(f"{step.name}: cancelled", level="warning")
            raise
        except TimeoutError:
            return _fail(ctx, step, f"timed out after {step.timeout_s:.0f}s", began)
        except StepError as exc:
            if exc.transient and attempt <= step.retries:
                delay = backoff_s(attempt, ctx.rng.random())
                ctx.emit(
                    StepRetrying(
                        cloud=cloud,
                        step=step.name,
                        attempt=attempt + 1,
                        error=one_line(exc.message),
                        delay_s=round(delay, 3),
                    )
                )
                ctx.log(
                    f"{step.name}: {exc.message}; retry {attempt}/{step.retries} in {delay:.1f}s",
                    level="warning",
                )
                await clock.sleep(delay)
                attempt += 1
                continue
            return _fail(ctx, step, one_line(exc.message), began)
        except Exception as exc:  # a bug or an SDK surprise: contain it to this cloud
            return _fail(ctx, step, f"{type(exc).__name__}: {one_line(str(exc))}", began)
        ctx.emit(StepFinished(cloud=cloud, step=step.name, duration_s=clock.now() - began))
        return None


def _fail(ctx: StepContext, step: Step, message: str, began: float) -> Outcome:
    ctx.emit(
        StepFailed(
            cloud=ctx.cloud.name,
            step=step.name,
            error=message,
            duration_s=ctx.clock.now() - began,
        )
    )
    ctx.log(f"{step.name}: FAILED: {message}", level="error")
    return Outcome.FAILED
