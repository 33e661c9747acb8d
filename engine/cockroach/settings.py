"""The demo file's cluster settings, applied once the cluster answers, each one reported.

``SET CLUSTER SETTING`` is CockroachDB-only: PostgreSQL (the test fixture) answers a
syntax error, which is reported as a refused setting like any other refusal (an unknown
name, a value below ``server.time_until_store_dead``'s 1m15s minimum, no admin role).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial

import anyio
import psycopg2

from engine.cockroach.connection import (
    ConnectOptions,
    Endpoint,
    SqlSession,
    SqlUnavailable,
    close_soon,
)
from engine.cockroach.connection import describe as describe_error
from engine.cockroach.publish import Publisher, log
from engine.events import SettingApplied

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_BARE = re.compile(r"^(-?\d+(\.\d+)?|true|false)$")


def setting_statement(name: str, value: str) -> tuple[str, tuple[str, ...]]:
    """``SET CLUSTER SETTING`` for one setting; ``ValueError`` for a name that is not one.

    Names cannot be bound parameters, so they are checked against CockroachDB's
    dotted-identifier shape; numbers and booleans go bare, everything else as a string.
    """
    if not _NAME.match(name):
        raise ValueError(f"not a cluster setting name: {name!r}")
    if _BARE.match(value.strip().lower()):
        return f"SET CLUSTER SETTING {name} = {value.strip().lower()}", ()
    return f"SET CLUSTER SETTING {name} = %s", (value,)


def apply_one(session: SqlSession, name: str, value: str) -> SettingApplied:
    """Blocking. Raises ``SqlUnavailable`` only when no node answers (try again later)."""
    try:
        sql, params = setting_statement(name, value)
    except ValueError as exc:
        return SettingApplied(name=name, value=value, ok=False, message=str(exc))
    try:
        session.fetch(sql, params or None)
    except psycopg2.Error as exc:
        return SettingApplied(name=name, value=value, ok=False, message=describe_error(exc))
    return SettingApplied(name=name, value=value, ok=True)


async def apply_settings(
    settings: Sequence[tuple[str, str]],
    options: ConnectOptions,
    candidates: Callable[[], Sequence[Endpoint]],
    publish: Publisher,
    *,
    retry_s: float = 2.0,
    call_timeout_s: float = 15.0,
) -> list[SettingApplied]:
    """Apply each setting in order, publishing ``SettingApplied``; retry while unreachable."""
    session = SqlSession(options, candidates)
    limiter = anyio.CapacityLimiter(1)
    results: list[SettingApplied] = []
    pending = list(settings)
    clock = publish.pace
    while pending:
        name, value = pending[0]
        try:
            with anyio.fail_after(call_timeout_s):
                result = await anyio.to_thread.run_sync(
                    partial(apply_one, session, name, value),
                    abandon_on_cancel=True,
                    limiter=limiter,
                )
        except (SqlUnavailable, TimeoutError) as exc:
            text = exc.message if isinstance(exc, SqlUnavailable) else "timed out"
            publish.notice("warning", f"settings: {name} not applied yet: {text}; retrying")
            session = SqlSession(options, candidates)
            await clock.sleep(retry_s)
            continue
        pending.pop(0)
        results.append(result)
        publish(result)  # the event is the report; the log keeps a line too
        if result.ok:
            log.info("setting %s = %s applied", name, value)
        else:
            log.warning("setting %s = %s refused: %s", name, value, result.message)
    await close_soon(session, limiter)
    return results
