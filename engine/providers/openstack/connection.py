"""One openstacksdk Connection per cloud, driven from a few worker threads of its own.

openstacksdk is blocking. Every call goes through ``CloudSession.call``: a worker thread
bounded by this cloud's ``CapacityLimiter`` (never the default executor or Textual's
pool), ``abandon_on_cancel=True`` so a cancel returns at once even when the call hangs,
a deadline around the whole call, and ``api_timeout`` on every HTTP request underneath so
an abandoned thread ends by itself. Reads may be retried here with backoff; creates are
not (a create that timed out may have happened: the step finds it by run tag instead).

Every call is told to the cloud's pane as the rehearsal tells its simulated calls: what
was called (the SDK method and our words for the resource), the outcome, how long it
took, and each retry. Polls of a wait pass ``quiet=True``: the wait logs its progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import anyio
from openstack import connection as sdk_connection
from openstack.config import loader

from engine.config.model import CloudConfig
from engine.errors import PermanentStepError, StepError, TransientStepError
from engine.providers.openstack.errors import one_line, step_error

T = TypeVar("T")

API_TIMEOUT_S = 30.0
"""Per-HTTP-request timeout when the user's clouds.yaml sets none."""
THREADS_PER_CLOUD = 4
"""Worker threads per cloud: well under urllib3's pool of 10 connections per host."""
CALL_TIMEOUT_S = 120.0
"""Deadline for one SDK call (several HTTP requests, discovery included)."""
READ_RETRIES = 3
"""Extra attempts for idempotent calls on transient errors (5xx, resets, busy)."""


def load_region(cloud: CloudConfig, api_timeout: float = API_TIMEOUT_S) -> Any:
    """The cloud's ``CloudRegion`` from clouds.yaml / secure.yaml / ``OS_*`` environment.

    Uses openstacksdk's own loader, looked up by the name the demo file gives, so a broken
    entry raises here, by name, instead of vanishing the way ``get_all()`` drops it.
    """
    try:
        config = loader.OpenStackConfig(load_yaml_config=True, load_envvars=True)
        if cloud.name not in config.get_cloud_names():
            known = ", ".join(sorted(n for n in config.get_cloud_names() if n != "defaults"))
            raise PermanentStepError(
                f"cloud {cloud.name!r} is not in clouds.yaml (known: {known or 'none'})"
            )
        # The OpenStack region is ``region_name`` (empty: the clouds.yaml entry's own);
        # ``region`` is only the words on stage.
        region = config.get_one(cloud.name, region_name=cloud.region_name or None)
    except StepError:
        raise
    except Exception as exc:
        raise PermanentStepError(
            f"cloud {cloud.name!r}: clouds.yaml entry is broken: {one_line(str(exc))}"
        ) from None
    if not region.config.get("api_timeout"):
        region.config["api_timeout"] = api_timeout
    return region


def sdk_method(fn: Callable[..., Any]) -> str:
    """``compute.create_server`` for an SDK proxy method, our helper's name otherwise."""
    owner = getattr(fn, "__self__", None)
    service = getattr(owner, "service_type", None)
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "call")
    if service:
        return f"{str(service).replace('-', '_')}.{name}"
    return str(name).lstrip("_")


@dataclass
class CloudSession:
    """A cloud's Connection plus the thread limiter and deadlines every call goes through."""

    name: str
    connection: Any
    limiter: anyio.CapacityLimiter
    call_timeout_s: float = CALL_TIMEOUT_S
    retries: int = READ_RETRIES
    backoff_s: float = 0.5
    log: Callable[..., None] | None = field(default=None, repr=False)
    """Where each call is told (``StepContext.log`` of this cloud); ``None``: silent."""
    rules_lock: anyio.Lock = field(default_factory=anyio.Lock, repr=False)
    """Serialises changes to this cloud's security group rules (step and fleet follower)."""
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(
        cls,
        cloud: CloudConfig,
        *,
        api_timeout: float = API_TIMEOUT_S,
        threads: int = THREADS_PER_CLOUD,
        call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> CloudSession:
        """Build the Connection (no network traffic yet: auth happens on first use)."""
        region = load_region(cloud, api_timeout)
        conn = sdk_connection.Connection(config=region)
        return cls(
            name=cloud.name,
            connection=conn,
            limiter=anyio.CapacityLimiter(threads),
            call_timeout_s=call_timeout_s,
        )

    @classmethod
    async def open_async(
        cls, cloud: CloudConfig, *, api_timeout: float = API_TIMEOUT_S
    ) -> CloudSession:
        """``open`` off the event loop: reading clouds.yaml and secure.yaml is file I/O."""
        return await anyio.to_thread.run_sync(
            partial(cls.open, cloud, api_timeout=api_timeout),
            limiter=anyio.CapacityLimiter(1),
            abandon_on_cancel=True,
        )

    async def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        what: str,
        idempotent: bool = True,
        timeout_s: float | None = None,
        quiet: bool = False,
        **kwargs: Any,
    ) -> T:
        """Run ``fn(*args, **kwargs)`` in this cloud's threads; raise a one-line StepError.

        Transient failures of idempotent calls are retried here with exponential backoff;
        the rest are classified and raised for the runner to retry or stop the cloud.
        """
        attempt = 0
        name = sdk_method(fn)
        while True:
            began = time.monotonic()
            try:
                with anyio.fail_after(timeout_s or self.call_timeout_s):
                    result = await anyio.to_thread.run_sync(
                        partial(fn, *args, **kwargs),
                        limiter=self.limiter,
                        abandon_on_cancel=True,
                    )
                if not quiet:
                    self.tell(f"{name} {what} -> ok ({time.monotonic() - began:.2f}s)")
                return result
            except TimeoutError:
                err: StepError = TransientStepError(
                    f"{what}: no answer within {timeout_s or self.call_timeout_s:g}s"
                )
            except Exception as exc:
                err = step_error(exc, what)
            took = time.monotonic() - began
            retry = idempotent and err.transient and attempt < self.retries
            then = f"; retry {attempt + 1}/{self.retries}" if retry else ""
            self.tell(f"{name} {what} -> error after {took:.2f}s: {err.message}{then}", "warning")
            if not retry:
                raise err from None
            await anyio.sleep(self.backoff_s * 2**attempt)
            attempt += 1

    def tell(self, line: str, level: str = "info") -> None:
        if self.log is not None:
            self.log(line, level=level)

    async def authenticate(self) -> str:
        """Fetch a token now (bad credentials show up first, by name); return the project id.

        The token itself never leaves the Connection.
        """

        def auth() -> str:
            self.connection.session.get_token()
            return str(self.connection.current_project_id)

        return await self.call(auth, what="authenticate")

    def close(self) -> None:
        """Close the Connection from a daemon thread: never wait on a call that hangs."""
        if self._closed:
            return
        self._closed = True
        threading.Thread(
            target=self.connection.close, name=f"close-{self.name}", daemon=True
        ).start()
