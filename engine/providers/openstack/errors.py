"""Turn whatever openstacksdk or keystoneauth raised into one line for the stage.

Errors arrive from two families (openstacksdk's ``HttpException`` tree for service APIs,
keystoneauth's for auth and transport), and quota errors have no class of their own: Nova
says 403, Neutron 409, Cinder 413. This module is the one place that knows all of that;
every message it builds is one line, names the service, and never carries a secret.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from keystoneauth1 import exceptions as ks
from openstack import exceptions as sdk

from engine.errors import PermanentStepError, StepError, TransientStepError
from engine.redact import one_line as redact_line

_SERVICE_BY_PORT = {
    "5000": "identity",
    "8774": "compute",
    "9696": "network",
    "9292": "image",
    "8776": "block-storage",
    "8778": "placement",
}
_SERVICE_BY_PATH = (
    ("/v2.1", "compute"),
    ("/servers", "compute"),
    ("/os-", "compute"),
    ("/v2.0/", "network"),
    ("/v3/", "identity"),
    ("/volumes", "block-storage"),
    ("/images", "image"),
)
_QUOTA = re.compile(r"quota|overquota|limitexceeded|limit exceeded|exceeds allowed", re.I)
_BUSY = re.compile(r"in use|inuse|busy|task_state|in state|while it is|is locked|pending", re.I)


def service_of(url: str | None) -> str:
    """Which OpenStack service a URL belongs to, for messages ("compute", "network"...)."""
    if not url:
        return "cloud"
    try:  # an SDK's URL is data: a bad host or port in it must not raise here
        parts = urlsplit(url)
        port = str(parts.port or "")
    except ValueError:
        return "cloud"
    host = parts.hostname or ""
    first = host.split(".", 1)[0]
    if first in {"compute", "network", "identity", "image", "volume", "block-storage"}:
        return "block-storage" if first == "volume" else first
    if port in _SERVICE_BY_PORT:
        return _SERVICE_BY_PORT[port]
    for fragment, service in _SERVICE_BY_PATH:
        if fragment in parts.path:
            return service
    return host or "cloud"


def endpoint_of(url: str | None) -> str:
    """``host:port`` of a URL: enough to say where, never a path with ids or a query."""
    if not url:
        return "the cloud"
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return "the cloud"
    return netloc.rsplit("@", 1)[-1] or "the cloud"


def one_line(text: str, limit: int = 240) -> str:
    """Redacted (``engine.redact``), folded to one line, cut to ``limit``."""
    return redact_line(str(text), limit)


def quota_message(service: str, details: str) -> str:
    """Say which quota, which service, and the numbers when the API gave them."""
    text = one_line(details)
    nova = re.search(
        r"Quota exceeded for (\w+): Requested (\d+), but already used (\d+) of (\d+)", text
    )
    if nova:
        what, req, used, limit = nova.groups()
        return f"quota exceeded: {service} {what}: requested {req}, already used {used} of {limit}"
    neutron = re.search(r"Quota exceeded for resources: \[?([^\]]+)\]?", text)
    if neutron:
        names = ", ".join(n.strip(" '\".") for n in neutron.group(1).split(","))
        return f"quota exceeded: {service} {names}"
    cinder = re.search(r"quota '(\w+)'", text, re.I)
    if cinder:
        return f"quota exceeded: {service} {cinder.group(1)} ({text})"
    return f"quota exceeded: {service}: {text}"


def _http(exc: sdk.HttpException, what: str) -> StepError:
    status = exc.status_code or 0
    service = service_of(exc.url)
    details = one_line(exc.details or exc.message or "")
    if status in (403, 409, 413) and _QUOTA.search(details):
        return PermanentStepError(f"{what}: {quota_message(service, details)}")
    if status == 401:
        return PermanentStepError(f"{what}: bad credentials ({service} said 401 Unauthorized)")
    if status == 403:
        return PermanentStepError(f"{what}: forbidden by {service} (403): {details}")
    if status == 404:
        return PermanentStepError(f"{what}: not found in {service} (404): {details}")
    if status == 409:
        if _BUSY.search(details):
            return TransientStepError(f"{what}: {service} resource busy (409): {details}")
        return PermanentStepError(f"{what}: conflict in {service} (409): {details}")
    if status == 429 or status >= 500:
        return TransientStepError(f"{what}: {service} API error {status}: {details}")
    return PermanentStepError(f"{what}: {service} rejected the request ({status}): {details}")


def step_error(exc: BaseException, what: str) -> StepError:
    """Classify ``exc`` (raised while doing ``what``) as transient or permanent, one line."""
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, ks.SSLError):
        return PermanentStepError(f"{what}: TLS failure: {one_line(str(exc), 160)}")
    if isinstance(exc, ks.ConnectTimeout):
        return TransientStepError(f"{what}: timed out: {one_line(str(exc), 160)}")
    if isinstance(exc, ks.ConnectFailure | ks.UnknownConnectionError):
        return TransientStepError(f"{what}: endpoint unreachable: {one_line(str(exc), 160)}")
    if isinstance(exc, ks.Unauthorized):
        return PermanentStepError(f"{what}: bad credentials (identity said 401 Unauthorized)")
    if isinstance(exc, ks.DiscoveryFailure):
        return TransientStepError(
            f"{what}: identity endpoint unreachable or not an OpenStack auth URL"
        )
    if isinstance(exc, ks.MissingRequiredOptions | ks.OptionError | ks.AuthPluginException):
        return PermanentStepError(f"{what}: auth config broken: {one_line(str(exc))}")
    if isinstance(exc, ks.HttpError):
        status = exc.http_status or 0
        text = one_line(exc.message or str(exc))
        if status == 429 or status >= 500:
            return TransientStepError(f"{what}: identity API error {status}: {text}")
        return PermanentStepError(f"{what}: identity refused ({status}): {text}")
    if isinstance(exc, sdk.HttpException):
        return _http(exc, what)
    if isinstance(exc, sdk.ConfigException):
        return PermanentStepError(f"{what}: {one_line(str(exc))}")
    if isinstance(exc, sdk.ResourceTimeout | TimeoutError):
        return TransientStepError(f"{what}: timed out")
    if isinstance(exc, sdk.SDKException):
        text = one_line(exc.message or str(exc))
        if "Unauthorized" in text or "401" in text:
            return PermanentStepError(f"{what}: bad credentials (identity said 401 Unauthorized)")
        return PermanentStepError(f"{what}: {text}")
    if isinstance(exc, ks.ClientException):
        return TransientStepError(f"{what}: {one_line(str(exc), 160)}")
    if isinstance(exc, ConnectionError | OSError):
        return TransientStepError(f"{what}: connection problem: {one_line(str(exc), 160)}")
    return PermanentStepError(f"{what}: {type(exc).__name__}: {one_line(str(exc))}")
