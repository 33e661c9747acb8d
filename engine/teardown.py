"""Tearing one cloud down from the ledger, and saying what was removed and what was not.

Resources are deleted newest first (servers before the groups and keys they use). A
transient failure is retried with the runner's own policy (``engine.runner.backoff_s``:
exponential, capped, jittered from the cloud's random stream), so a busy cloud is not
hammered at a fixed pace. The result is counted per kind, for the one-line summary the
presenter reads: ``vexxhost: 3 servers, 3 volumes removed; 1 floating IP left: ...``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import anyio

from engine.backend import CloudBackend
from engine.errors import StepError
from engine.events import Event, KindCount, TeardownFinished, TeardownStarted
from engine.plan import StepContext
from engine.redact import one_line
from engine.runner import backoff_s

TEARDOWN_ATTEMPTS = 4
"""Tries per resource; ``delete`` itself already waits for each resource to be gone."""

_KIND_NAMES = {
    "floating_ip": "floating IP",
    "keypair": "key pair",
    "crdb_node": "CockroachDB node",
}


async def teardown_cloud(
    ctx: StepContext, backend: CloudBackend, publish: Callable[[Event], None]
) -> None:
    """Delete every resource the ledger lists for this cloud; publish what happened."""
    cloud = ctx.cloud.name
    ctx.step = "teardown"
    publish(TeardownStarted(cloud=cloud))
    removed: Counter[str] = Counter()
    left: Counter[str] = Counter()
    leftovers: list[str] = []
    for record in reversed(ctx.ledger.live(cloud)):
        error = ""
        for attempt in range(1, TEARDOWN_ATTEMPTS + 1):
            try:
                await backend.delete(record, ctx)
            except StepError as exc:
                error = exc.message
                if exc.transient and attempt < TEARDOWN_ATTEMPTS:
                    await ctx.clock.sleep(backoff_s(attempt, ctx.rng.random()))
                    continue
            except Exception as exc:  # contained to this resource
                error = f"{type(exc).__name__}: {exc}"
            else:
                ctx.forget(record)
                removed[record.resource_type] += 1
                error = ""
            break
        if error:
            line = one_line(f"{record.resource_type} {record.name or record.resource_id}: {error}")
            leftovers.append(line)
            left[record.resource_type] += 1
            ctx.log(f"teardown: could not delete {line}", level="error")
    publish(
        TeardownFinished(
            cloud=cloud,
            leftovers=tuple(leftovers),
            removed=tuple(KindCount(kind=k, count=n) for k, n in sorted(removed.items())),
            left=tuple(KindCount(kind=k, count=n) for k, n in sorted(left.items())),
        )
    )


async def teardown_clouds(
    contexts: Sequence[StepContext],
    backends: Mapping[str, CloudBackend],
    publish: Callable[[Event], None],
) -> None:
    """Tear these clouds down at once, each from its own ledger entries."""
    async with anyio.create_task_group() as tg:
        for ctx in contexts:
            tg.start_soon(teardown_cloud, ctx, backends[ctx.cloud.name], publish)


def kind_count(kind: str, count: int) -> str:
    """``3 servers``, ``1 floating IP``, ``2 security groups``."""
    name = _KIND_NAMES.get(kind, kind.replace("_", " "))
    return f"{count} {name}{'' if count == 1 else 's'}"


def teardown_summary(e: TeardownFinished) -> str:
    """One line per cloud: what was removed, by kind, and what was left and why."""
    removed = ", ".join(kind_count(c.kind, c.count) for c in e.removed)
    if removed:
        parts = [f"{removed} removed"]
    else:
        parts = ["nothing removed" if e.leftovers else "nothing to remove"]
    if e.leftovers:
        kinds = ", ".join(kind_count(c.kind, c.count) for c in e.left)
        kinds = kinds or f"{len(e.leftovers)} resources"
        parts.append(f"{kinds} left: {'; '.join(e.leftovers)}")
    return f"{e.cloud}: {'; '.join(parts)}"
