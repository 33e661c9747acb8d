"""The room's plan workers: one task per running cloud, cancellable, and told when all stop.

A worker runs in the room's task group under its own cancel scope, so cancelling one
cloud never touches another; ``stop`` waits for the worker to have published its
cancellation, which teardown needs before it deletes what the worker made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup


@dataclass
class _Worker:
    scope: anyio.CancelScope
    done: anyio.Event = field(default_factory=anyio.Event)


class CloudWorkers:
    """``on_all_stopped`` is called each time the last running worker stops."""

    def __init__(self, task_group: TaskGroup, on_all_stopped: Callable[[], None]) -> None:
        self._tg = task_group
        self._on_all_stopped = on_all_stopped
        self._workers: dict[str, _Worker] = {}
        self._idle = anyio.Event()
        self._idle.set()

    def running(self, cloud: str) -> bool:
        return cloud in self._workers

    def spawn(self, cloud: str, work: Callable[[], Awaitable[Any]]) -> None:
        """Run ``work`` as this cloud's worker (the caller checks it is not running)."""
        worker = _Worker(scope=anyio.CancelScope())
        self._workers[cloud] = worker
        self._idle = anyio.Event()
        self._tg.start_soon(self._work, cloud, work, worker)

    async def _work(self, cloud: str, work: Callable[[], Awaitable[Any]], w: _Worker) -> None:
        try:
            with w.scope:
                await work()
        finally:
            del self._workers[cloud]
            w.done.set()
            if not self._workers:
                self._on_all_stopped()
                self._idle.set()

    def cancel(self, cloud: str) -> None:
        if cloud in self._workers:
            self._workers[cloud].scope.cancel()

    async def stop(self, cloud: str) -> None:
        """Cancel this cloud's worker and return once it has finished."""
        worker = self._workers.get(cloud)
        if worker is not None:
            worker.scope.cancel()
            await worker.done.wait()

    def cancel_all(self) -> None:
        for worker in list(self._workers.values()):
            worker.scope.cancel()

    async def wait_idle(self) -> None:
        """Return once no worker is running."""
        while not self._idle.is_set():
            await self._idle.wait()
