"""Find and delete what crossroom runs left behind, with no ledger (after a crash or kill -9).

Only resources carrying our marks (run metadata or tags, run-prefixed key pair names)
are listed, and only listed ones are deleted. ``find_leftovers`` is read-only; the
caller shows the list and calls ``sweep`` only when the user said yes.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from engine.clock import ScaledClock
from engine.config.model import CloudConfig, DemoConfig
from engine.errors import StepError
from engine.providers.openstack import inventory
from engine.providers.openstack.connection import API_TIMEOUT_S, CloudSession
from engine.providers.openstack.inventory import Found
from engine.providers.openstack.teardown import delete_all


@dataclass(frozen=True)
class CloudLeftovers:
    """What one cloud holds of crossroom runs; ``error`` when the cloud could not be read."""

    cloud: str
    found: tuple[Found, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class SweepResult:
    cloud: str
    deleted: int
    problems: tuple[str, ...] = ()


def _clouds(demo: DemoConfig) -> list[CloudConfig]:
    return [c for c in demo.clouds if c.provider == "openstack"]


async def _leftovers(cloud: CloudConfig, run_id: str | None, api_timeout: float) -> CloudLeftovers:
    session: CloudSession | None = None
    try:
        session = await CloudSession.open_async(cloud, api_timeout=api_timeout)
        found = await session.call(
            inventory.everything, session.connection, cloud.name, run_id, what="list leftovers"
        )
        return CloudLeftovers(cloud.name, tuple(found))
    except StepError as err:
        return CloudLeftovers(cloud.name, error=err.message)
    finally:
        if session is not None:
            session.close()


async def find_leftovers(
    demo: DemoConfig, run_id: str | None = None, *, api_timeout: float = API_TIMEOUT_S
) -> list[CloudLeftovers]:
    """Every cloud at once; ``run_id`` narrows to one run, ``None`` means any crossroom run."""
    out: dict[str, CloudLeftovers] = {}

    async def one(cloud: CloudConfig) -> None:
        out[cloud.name] = await _leftovers(cloud, run_id, api_timeout)

    async with anyio.create_task_group() as tg:
        for cloud in _clouds(demo):
            tg.start_soon(one, cloud)
    return [out[c.name] for c in _clouds(demo)]


async def _sweep_cloud(
    cloud: CloudConfig, found: tuple[Found, ...], api_timeout: float
) -> SweepResult:
    session: CloudSession | None = None
    order = {kind: i for i, kind in enumerate(inventory.KINDS)}
    items = [
        (f.resource_type, f.resource_id, f"{f.resource_type.replace('_', ' ')} {f.name}")
        for f in sorted(found, key=lambda f: order[f.resource_type])
    ]
    try:
        session = await CloudSession.open_async(cloud, api_timeout=api_timeout)
        problems = await delete_all(session, ScaledClock(), items)
    except StepError as err:
        return SweepResult(cloud.name, 0, (err.message,))
    finally:
        if session is not None:
            session.close()
    return SweepResult(cloud.name, len(items) - len(problems), tuple(problems))


async def sweep(
    demo: DemoConfig, leftovers: list[CloudLeftovers], *, api_timeout: float = API_TIMEOUT_S
) -> list[SweepResult]:
    """Delete exactly the listed leftovers, dependents first, every cloud at once."""
    results: dict[str, SweepResult] = {}
    by_name = {c.name: c for c in _clouds(demo)}

    async def one(cloud: CloudConfig, found: tuple[Found, ...]) -> None:
        results[cloud.name] = await _sweep_cloud(cloud, found, api_timeout)

    async with anyio.create_task_group() as tg:
        for left in leftovers:
            if left.found and left.cloud in by_name:
                tg.start_soon(one, by_name[left.cloud], left.found)
    return [results[left.cloud] for left in leftovers if left.cloud in results]
