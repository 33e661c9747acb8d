"""The last step of every plan: wait until the cluster itself reports this cloud's nodes live.

It reads the engine's own fold of monitor events, so it is the same for the rehearsal
and for a real cluster: a cloud has joined when CockroachDB says so, not when pods run.
"""

from __future__ import annotations

import anyio

from engine.errors import PermanentStepError
from engine.plan import Step, StepContext, plan_step

POLL_S = 1.0


async def wait_for_nodes_live(ctx: StepContext) -> None:
    expected = ctx.cloud.nodes
    limit = ctx.demo.cluster.join_timeout_s
    with anyio.move_on_after(limit / ctx.clock.speed):
        await _until_live(ctx, expected)
        return
    live = _live(ctx)
    raise PermanentStepError(
        f"the cluster reported {live}/{expected} node(s) with locality cloud={ctx.cloud.name}"
        f" live within {limit:.0f}s"
    )


def _live(ctx: StepContext) -> int:
    return sum(1 for n in ctx.room().nodes_of(ctx.cloud.name) if n.liveness == "live")


async def _until_live(ctx: StepContext, expected: int) -> None:
    last = -1
    while True:
        live = _live(ctx)
        if live != last:
            ctx.progress(f"nodes live {live}/{expected}", live, expected)
            last = live
        if live >= expected:
            ctx.log(f"cluster sees {live} live node(s) with locality cloud={ctx.cloud.name}")
            return
        if ctx.nodes_changed is not None:
            # Woken by the event itself, so the join is timed exactly when it happens.
            await ctx.nodes_changed()
        else:
            await ctx.clock.sleep(POLL_S)


def join_step(timeout_s: float = 600.0) -> Step:
    """Not retried: if the cluster has not seen the nodes in time, say so and stop.

    The step keeps its own deadline (``cluster.join_timeout_s``) to say what it saw; the
    runner's timeout is only a backstop a little later.
    """
    return plan_step("join", wait_for_nodes_live, timeout_s=timeout_s + 5.0, retries=0)
