"""The last step of every plan: wait until the cluster itself reports this cloud's nodes live.

It reads the engine's own fold of monitor events, so it is the same for the rehearsal
and for a real cluster: a cloud has joined when CockroachDB says so, not when pods run.
"""

from __future__ import annotations

from engine.plan import Step, StepContext

POLL_S = 1.0


async def wait_for_nodes_live(ctx: StepContext) -> None:
    expected = ctx.cloud.nodes
    last = -1
    while True:
        nodes = ctx.room().nodes_of(ctx.cloud.name)
        live = sum(1 for n in nodes if n.liveness == "live")
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
    """Not retried: if the cluster has not seen the nodes by the timeout, say so and stop."""
    return Step("join", wait_for_nodes_live, timeout_s=timeout_s, retries=0)
