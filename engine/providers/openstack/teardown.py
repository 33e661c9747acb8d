"""Delete one crossroom resource and wait until it is really gone.

Shared by teardown (which walks the ledger newest-first) and sweep (which walks what
``inventory`` found). Idempotent: gone already is success. Volumes are detached first;
a security group still held by a dying server's port is retried until the port is gone.
"""

from __future__ import annotations

from typing import Any

from openstack import exceptions as sdk
from openstack.compute.v2.server import Server

from engine.clock import Clock
from engine.errors import PermanentStepError, StepError, TransientStepError
from engine.providers.openstack.connection import CloudSession

POLL_S = 1.0
GONE_TIMEOUT_S = 180.0
"""Demo seconds to wait for one resource to disappear before calling it a leftover."""


def _get(getter: Any, rid: str) -> Any:
    """The resource, or ``None`` when it is gone (a GET by id: no name-search fallback)."""
    try:
        return getter(rid)
    except sdk.NotFoundException:
        return None


def _volume_state(conn: Any, volume_id: str) -> tuple[str, list[str]] | None:
    vol = _get(conn.block_storage.get_volume, volume_id)
    if vol is None:
        return None
    servers = [str(a.get("server_id")) for a in vol.attachments or [] if a.get("server_id")]
    return str(vol.status), servers


def _gone(conn: Any, kind: str, rid: str) -> bool:
    getters = {
        "server": conn.compute.get_server,
        "volume": conn.block_storage.get_volume,
        "port": conn.network.get_port,
        "floating_ip": conn.network.get_ip,
        "security_group": conn.network.get_security_group,
        "keypair": conn.compute.get_keypair,
    }
    if kind not in getters:
        raise PermanentStepError(f"cannot delete a {kind}: not an OpenStack resource kind")
    return _get(getters[kind], rid) is None


def _delete(conn: Any, kind: str, rid: str) -> None:
    if kind == "server":
        conn.compute.delete_server(rid, ignore_missing=True)
    elif kind == "volume":
        conn.block_storage.delete_volume(rid, ignore_missing=True)
    elif kind == "port":
        conn.network.delete_port(rid, ignore_missing=True)
    elif kind == "floating_ip":
        conn.network.delete_ip(rid, ignore_missing=True)
    elif kind == "security_group":
        conn.network.delete_security_group(rid, ignore_missing=True)
    elif kind == "keypair":
        conn.compute.delete_keypair(rid, ignore_missing=True)


async def _wait(
    s: CloudSession, clock: Clock, what: str, check: Any, *args: Any, timeout_s: float
) -> None:
    start = clock.now()
    polls = 0
    while not await s.call(check, *args, what=what, quiet=True):
        polls += 1
        if polls == 1 or polls % 10 == 0:
            s.tell(f"waiting: {what}: still there after {clock.now() - start:.0f}s")
        if clock.now() - start > timeout_s:
            raise TransientStepError(f"{what}: still there after {timeout_s:.0f}s")
        await clock.sleep(POLL_S)


async def _detach(s: CloudSession, clock: Clock, volume_id: str, label: str) -> bool:
    """Detach from every server; return False when the volume is already gone."""
    state = await s.call(_volume_state, s.connection, volume_id, what=f"look up {label}")
    if state is None:
        return False
    for server_id in state[1]:
        # a typed Server: with two bare ids openstacksdk 4.x guesses their order with its
        # own deprecated find_server(ignore_missing=True) (``_verify_server_volume_args``)
        await s.call(
            s.connection.compute.delete_volume_attachment,
            Server.existing(id=server_id),
            volume_id,
            what=f"detach {label}",
        )

    def detached(conn: Any) -> bool:
        now = _volume_state(conn, volume_id)
        return now is None or (not now[1] and not now[0].endswith("ing"))

    await _wait(s, clock, f"detach {label}", detached, s.connection, timeout_s=GONE_TIMEOUT_S)
    return True


async def delete_resource(
    s: CloudSession, clock: Clock, kind: str, rid: str, label: str = ""
) -> None:
    """Delete ``kind``/``rid`` and wait until it is gone; raise StepError if it stays."""
    label = label or f"{kind.replace('_', ' ')} {rid}"
    if kind == "volume" and not await _detach(s, clock, rid, label):
        return
    start = clock.now()
    while True:
        try:
            await s.call(_delete, s.connection, kind, rid, what=f"delete {label}")
            break
        except StepError as err:
            # a group still used by a port of a server being deleted: 409 busy, try again
            if not err.transient or clock.now() - start > GONE_TIMEOUT_S:
                raise
            await clock.sleep(POLL_S * 2)
    await _wait(
        s, clock, f"delete {label}", _gone, s.connection, kind, rid, timeout_s=GONE_TIMEOUT_S
    )


async def delete_all(s: CloudSession, clock: Clock, items: list[tuple[str, str, str]]) -> list[str]:
    """Delete ``(kind, id, label)`` items in order; return one line per failure."""
    problems: list[str] = []
    for kind, rid, label in items:
        try:
            await delete_resource(s, clock, kind, rid, label)
        except StepError as err:
            problems.append(err.message)
    return problems
