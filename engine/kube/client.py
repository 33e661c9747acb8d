"""One Kubernetes API client per cluster, and the only way engine code calls it.

Every call of the (blocking) official client runs in a worker thread under this cluster's
own ``CapacityLimiter``, with ``abandon_on_cancel=True`` (cancel is prompt; the thread ends
by its own timeout), a request timeout on the wire and an overall deadline around it.
Responses are read as raw JSON (``_preload_content=False``): we never depend on the
client's models accepting what a newer or older API server sends.

Each request is told in the cloud's pane as the rehearsal tells its API calls: method and
path, the answer, how long it took, and how many times in a row it had failed before.
A read that keeps getting the same answer (a poll) is told when its answer changes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import anyio
import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from engine.errors import PermanentStepError, StepError, TransientStepError
from engine.events import NoticeLevel

REQUEST_TIMEOUT_S = 10.0
"""Read timeout of one ordinary request; polls use shorter ones."""
CONNECT_TIMEOUT_S = 5.0
CALLS_PER_CLUSTER = 4

KUBE_ERRORS: tuple[type[BaseException], ...] = (
    ApiException,
    TimeoutError,
    OSError,
    urllib3.exceptions.HTTPError,
)
"""What a call can raise when the cluster says no or cannot be reached."""


class ApiUnreachable(TransientStepError):
    """The cluster's API did not answer at all (no address, refused, timed out)."""


def api_status(err: ApiException) -> tuple[int, str, str]:
    """``(code, reason, message)`` from an ``ApiException`` and its ``metav1.Status`` body."""
    reason, message = str(err.reason or ""), ""
    try:
        body = json.loads(err.body or "{}")
        if isinstance(body, dict):
            reason = str(body.get("reason") or reason)
            message = str(body.get("message") or "")
    except (TypeError, ValueError):
        pass
    return int(err.status or 0), reason, message


def terminating_namespace(err: ApiException) -> str | None:
    """The namespace a create was refused for because it is being deleted, else None.

    The NamespaceLifecycle admission plugin answers 403 Forbidden with a
    ``NamespaceTerminating`` cause for as long as the namespace exists: minutes, or for
    ever when a finalizer is stuck. Retrying does not help; the namespace must go first.
    """
    if err.status != 403:
        return None
    try:
        body = json.loads(err.body or "{}")
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    details = body.get("details")
    for cause in (details or {}).get("causes") or []:
        if isinstance(cause, dict) and cause.get("reason") == "NamespaceTerminating":
            found = re.search(r"namespace (\S+) is being terminated", str(cause.get("message")))
            return found.group(1) if found else "?"
    message = str(body.get("message") or "")
    found = re.search(r"in namespace (\S+) because it is being terminated", message)
    return found.group(1) if found else None


_TLS_FAILED = "TLS handshake with the Kubernetes API failed (certificate not from this cloud's CA?)"
"""Also what a k3s that made its own CA (ours not in place at first start) looks like."""


def step_error(what: str, err: BaseException) -> StepError:
    """A one-line, secret-free reason; transient when a retry could help."""
    if isinstance(err, ApiException) and not err.status:
        # The client turns TLS failures into a status-0 ApiException (``client/rest.py``).
        if str(err.reason or "").startswith("SSLError"):
            return ApiUnreachable(f"{what}: {_TLS_FAILED}")
        return ApiUnreachable(f"{what}: cannot reach the Kubernetes API")
    if isinstance(err, ApiException):
        terminating = terminating_namespace(err)
        if terminating is not None:
            return PermanentStepError(
                f"{what}: namespace {terminating} is being deleted (HTTP 403) and takes nothing"
                " new until it is gone; wait for it (stuck? see its finalizers), then retry"
            )
        code, reason, message = api_status(err)
        line = f"{what}: HTTP {code} {reason}" + (f": {message}" if message else "")
        if code in (400, 401, 403, 422):
            return PermanentStepError(line)
        return TransientStepError(line)
    if isinstance(err, urllib3.exceptions.MaxRetryError) and err.reason is not None:
        err = err.reason
    # NewConnectionError is a (connect) TimeoutError subclass in urllib3: test it first.
    if isinstance(err, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
        return ApiUnreachable(f"{what}: cannot reach the Kubernetes API (connection refused)")
    if isinstance(err, TimeoutError | urllib3.exceptions.TimeoutError):
        return ApiUnreachable(f"{what}: the Kubernetes API did not answer in time")
    if isinstance(err, urllib3.exceptions.SSLError):
        return ApiUnreachable(f"{what}: {_TLS_FAILED}")
    if isinstance(err, urllib3.exceptions.HTTPError | OSError):
        return ApiUnreachable(f"{what}: cannot reach the Kubernetes API ({type(err).__name__})")
    return TransientStepError(f"{what}: {type(err).__name__}")


def fresh_configuration() -> k8s.Configuration:
    """A new client configuration (never the process-wide default) that fails fast:
    retries are ours to schedule, so urllib3 must not multiply every timeout by three."""
    configuration = k8s.Configuration()
    configuration.retries = False
    return configuration


EXPECTED_STATUSES = (404, 409)
"""Error statuses told as plain answers: a delete's poll sees 404, a re-apply 409."""
READS = ("GET", "WATCH")
"""Requests told only when their answer changes: polls and quiet watch streams."""
LogFn = Callable[[str, NoticeLevel], None]
"""``(line, level)``: where a cluster's call lines go (the cloud's log)."""


def _quiet(line: str, level: str) -> None:
    del line, level


def answer_of(err: BaseException) -> str:
    """A failed request's answer, short: ``403 Forbidden``, ``cannot reach the Kubernetes
    API (connection refused)``."""
    if isinstance(err, ApiException) and err.status:
        code, reason, _ = api_status(err)
        return f"{code} {reason}".strip()
    message = step_error("request", err).message
    return message.removeprefix("request: ")


@dataclass
class CallLog:
    """The pane's line for each request, with failures in a row counted per request."""

    emit: LogFn = _quiet
    failures: dict[str, int] = field(default_factory=dict)
    last_answer: dict[str, str] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)

    def request(self, method: str, path: str, answer: str, took_s: float, ok: bool) -> None:
        key = f"{method} {path}"
        tries = self.failures.pop(key, 0) if ok else self.failures.get(key, 0)
        if not ok:
            self.failures[key] = tries + 1
        if method in READS and self.last_answer.get(key) == answer:
            self.repeats[key] = self.repeats.get(key, 0) + 1
            return
        previous = self.last_answer.get(key)
        self.last_answer[key] = answer
        line = f"{key} -> {answer} ({took_s:.2f}s)"
        same = self.repeats.pop(key, 0)
        if tries:
            line += f" after {tries} failed tr{'y' if tries == 1 else 'ies'}"
        elif same and previous:
            line += f"; {previous} {same} more time{'s' if same > 1 else ''} before"
        self.emit(line, "info" if ok else "warning")


def _noting(inner: Callable[..., Any], current: threading.local) -> Callable[..., Any]:
    """Wrap an ``ApiClient.call_api`` so the calling thread learns each method and URL
    (``current.seen``: the list of the call that thread is running, if any)."""

    def call_api(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        seen = getattr(current, "seen", None)
        if seen is not None:
            seen.append((method, url))
        return inner(method, url, *args, **kwargs)

    return call_api


class KubeApi:
    """A cluster's ``ApiClient`` and its limiter; ``label`` names it in messages.

    ``answered`` is called after every request that got an HTTP answer (the API exists);
    ``log`` receives one line per request.
    """

    def __init__(
        self,
        api_client: k8s.ApiClient,
        label: str,
        limiter: anyio.CapacityLimiter | None = None,
        log: LogFn = _quiet,
        answered: Callable[[], None] | None = None,
    ) -> None:
        self.api_client = api_client
        self.label = label
        self.limiter = limiter or anyio.CapacityLimiter(CALLS_PER_CLUSTER)
        self.watch_limiter = anyio.CapacityLimiter(2)
        self.calls = CallLog(log)
        self.answered = answered
        # Our own instance (never the process default): note what each request asks for.
        self._current = threading.local()
        api_client.call_api = _noting(api_client.call_api, self._current)  # type: ignore[method-assign]
        # First touch of each class imports its module: call this off the event loop.
        self.core = k8s.CoreV1Api(api_client)
        self.apps = k8s.AppsV1Api(api_client)
        self.policy = k8s.PolicyV1Api(api_client)
        self.batch = k8s.BatchV1Api(api_client)
        self.version = k8s.VersionApi(api_client)

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    async def call(
        self, fn: Callable[..., Any], *args: Any, read_s: float = REQUEST_TIMEOUT_S, **kwargs: Any
    ) -> Any:
        """Run one request off the loop; return its JSON body (``None`` if empty).

        Raises ``ApiException`` for HTTP errors, ``TimeoutError`` when the request outlives
        ``read_s`` (plus the connect timeout), urllib3/OS errors when unreachable.
        """
        kwargs["_request_timeout"] = (CONNECT_TIMEOUT_S, read_s)
        kwargs["_preload_content"] = False
        seen: list[tuple[str, str]] = []
        began = anyio.current_time()
        try:
            with anyio.fail_after(read_s + CONNECT_TIMEOUT_S + 1.0):
                status, resp = await anyio.to_thread.run_sync(
                    partial(_read_json, fn, args, kwargs, self._current, seen),
                    limiter=self.limiter,
                    abandon_on_cancel=True,
                )
        except KUBE_ERRORS as err:
            # 404 and 409 are answers our flows expect (gone; exists, so patch), not failures.
            expected = isinstance(err, ApiException) and err.status in EXPECTED_STATUSES
            self.note(seen, fn, answer_of(err), began, ok=expected)
            if isinstance(err, ApiException) and err.status and self.answered is not None:
                self.answered()
            raise
        self.note(seen, fn, _status_text(status), began, ok=True)
        if self.answered is not None:
            self.answered()
        return resp

    def note(
        self,
        seen: list[tuple[str, str]],
        fn: Callable[..., Any],
        answer: str,
        began: float,
        ok: bool,
    ) -> None:
        """Tell one request in the pane (the method's name when it never left)."""
        method, url = seen[-1] if seen else ("CALL", getattr(fn, "__name__", "?"))
        path = urlsplit(url).path or url
        self.calls.request(method, path, answer, anyio.current_time() - began, ok)

    def close(self) -> None:
        """Drop pooled connections; in-flight calls in abandoned threads end by timeout."""
        pool = getattr(self.api_client.rest_client, "pool_manager", None)
        if pool is not None:
            pool.clear()


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status or "ok")


def _read_json(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    current: threading.local,
    seen: list[tuple[str, str]],
) -> tuple[int, Any]:
    """``(HTTP status, JSON body)`` of one request, run in a worker thread."""
    current.seen = seen
    try:
        resp = fn(*args, **kwargs)
    finally:
        current.seen = None
    status = int(getattr(resp, "status", 0) or 0)
    data = resp.data if hasattr(resp, "data") else resp
    if isinstance(data, bytes | bytearray):
        return status, json.loads(data) if data.strip() else None
    return status, data
