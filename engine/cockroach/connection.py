"""One psycopg2 connection over a libpq multi-host list that fails over to another node.

Everything here blocks: call it from a worker thread (``anyio.to_thread.run_sync`` with the
caller's own ``CapacityLimiter``). Every call is bounded: ``connect_timeout`` per host (libpq's
minimum is 2 s), at most ``max_hosts`` hosts per attempt, TCP keepalives plus
``tcp_user_timeout`` for silently dead peers, and ``SET statement_timeout`` on every session.
Addresses shown to people are ``host:port`` only; the libpq string (which may hold a
password) never leaves this module.
"""

from __future__ import annotations

import contextlib
import re
import select
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import psycopg2
import psycopg2.extensions

from engine.redact import one_line

ADMIN_SHUTDOWN = "57P01"
"""CockroachDB drain (and PostgreSQL fast shutdown): "server is shutting down"."""
QUERY_CANCELED = "57014"
SERIALIZATION_FAILURE = "40001"
AMBIGUOUS_RESULT = "40003"

_HOST_PORT = re.compile(
    r"^\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?$|^(?P<host>[^:\[\]]+)(?::(?P<port>\d+))?$"
)


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(text: str, default_port: int) -> Endpoint:
    """``"h:26257"``, ``"[::1]:26257"`` or ``"h"`` -> ``Endpoint``; ``ValueError`` otherwise."""
    m = _HOST_PORT.match(text.strip())
    if not m:
        raise ValueError(f"not a host:port address: {text!r}")
    host = m.group("v6") or m.group("host")
    port = m.group("p6") or m.group("port")
    return Endpoint(host, int(port) if port else default_port)


def parse_sql_url(url: str, default_port: int) -> tuple[list[Endpoint], dict[str, str]]:
    """A libpq URL / key=value string, or plain ``host:port``, -> endpoints + other params."""
    text = url.strip()
    if "://" not in text and "=" not in text:
        return [parse_address(text, default_port)], {}
    params: dict[str, str] = dict(psycopg2.extensions.parse_dsn(text))
    hosts = [h for h in params.pop("host", "").split(",") if h]
    ports = [p for p in params.pop("port", "").split(",") if p]
    params.pop("hostaddr", None)
    if not hosts:
        hosts = ["localhost"]
    if len(ports) == 1:
        ports = ports * len(hosts)
    endpoints = [
        Endpoint(h, int(ports[i]) if i < len(ports) else default_port) for i, h in enumerate(hosts)
    ]
    return endpoints, params


@dataclass(frozen=True)
class ConnectOptions:
    """libpq parameters every connection shares (user, dbname, TLS files...) and the bounds."""

    params: tuple[tuple[str, str], ...] = ()
    application_name: str = "crossroom"
    connect_timeout_s: int = 2
    statement_timeout_ms: int = 3000
    keepalive_idle_s: int = 2
    keepalive_interval_s: int = 1
    keepalive_count: int = 3
    tcp_user_timeout_ms: int = 4000
    max_hosts: int = 4
    """Hosts tried per attempt, so an attempt takes at most ``max_hosts * connect_timeout_s``."""

    def dsn(self, endpoints: Sequence[Endpoint]) -> str:
        base: dict[str, Any] = {"dbname": "defaultdb", "user": "root", "sslmode": "disable"}
        base.update(dict(self.params))
        base.update(
            host=",".join(e.host for e in endpoints),
            port=",".join(str(e.port) for e in endpoints),
            application_name=self.application_name,
            connect_timeout=max(2, self.connect_timeout_s),
            keepalives=1,
            keepalives_idle=self.keepalive_idle_s,
            keepalives_interval=self.keepalive_interval_s,
            keepalives_count=self.keepalive_count,
            tcp_user_timeout=self.tcp_user_timeout_ms,
        )
        return str(psycopg2.extensions.make_dsn(**base))


def options_from_urls(
    urls: Sequence[str], default_port: int, **bounds: Any
) -> tuple[list[Endpoint], ConnectOptions]:
    """Seed endpoints and shared options from the demo file's ``sql_urls`` (first URL's params)."""
    endpoints: list[Endpoint] = []
    params: dict[str, str] = {}
    for url in urls:
        found, extra = parse_sql_url(url, default_port)
        endpoints.extend(e for e in found if e not in endpoints)
        for k, v in extra.items():
            params.setdefault(k, v)
    return endpoints, ConnectOptions(params=tuple(sorted(params.items())), **bounds)


class SqlUnavailable(Exception):
    """No node could be reached, or the one in use went away; ``message`` is one clean line.

    ``refused`` is set when a node did answer but refused us (its certificate failed
    verification, or it refused our credentials): a setting to fix, not a node to wait for.
    """

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        drained: bool = False,
        refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.drained = drained
        self.refused = refused


_REFUSALS = ("SSL", "certificate", "authentication failed", "pg_hba.conf")
"""libpq's words when the server answered and the handshake or login failed (libpq puts
no SQLSTATE on connection errors), as opposed to refused or unreachable hosts."""


def refused_by_server(text: str) -> bool:
    return any(word in text for word in _REFUSALS)


def describe(exc: BaseException) -> str:
    """One redacted line for a psycopg2 error, with its SQLSTATE when the server sent one."""
    code = getattr(exc, "pgcode", None)
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if code else None
    if primary:  # the server's own one-liner, without "LINE 1: ..." and caret context
        facts = [str(primary)]
    else:  # libpq indents its hints ("\tThis probably means..."): keep one line per host
        facts = [line for line in str(exc).splitlines() if line.strip() and line[:1] != "\t"]
    text = one_line("; ".join(facts) or type(exc).__name__, 160)
    return f"{text} [{code}]" if code else text


@dataclass
class SqlSession:
    """A connection that reconnects through ``candidates()`` (most preferred first).

    Not thread-safe: one caller at a time, always from a worker thread. After a lost
    connection the endpoint that failed is tried last on the next attempt.
    """

    options: ConnectOptions
    candidates: Callable[[], Sequence[Endpoint]]
    conn: Any = None
    endpoint: Endpoint | None = None
    _demoted: list[Endpoint] = field(default_factory=list)

    def _order(self) -> list[Endpoint]:
        hosts = list(dict.fromkeys(self.candidates()))
        demoted = [e for e in self._demoted if e in hosts]
        ordered = [e for e in hosts if e not in demoted] + demoted
        return ordered[: max(1, self.options.max_hosts)]

    def connect(self) -> Endpoint:
        """Open a new connection (closing any old one); ``SqlUnavailable`` if none answers."""
        self.close()
        hosts = self._order()
        if not hosts:
            raise SqlUnavailable("no SQL address known yet")
        try:
            conn = psycopg2.connect(self.options.dsn(hosts))
        except psycopg2.Error as exc:
            text = describe(exc)
            raise SqlUnavailable(
                f"no node answered ({', '.join(map(str, hosts))}): {text}",
                sqlstate=getattr(exc, "pgcode", None),
                refused=refused_by_server(text),
            ) from None
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {int(self.options.statement_timeout_ms)}")
            info = conn.info
            endpoint = Endpoint(str(info.host), int(info.port))
        except psycopg2.Error as exc:
            conn.close()
            raise SqlUnavailable(f"connected but unusable: {describe(exc)}") from None
        self.conn, self.endpoint = conn, endpoint
        if endpoint in self._demoted:
            self._demoted.remove(endpoint)
        return endpoint

    def ensure(self) -> Endpoint:
        if self.conn is None or self.conn.closed or self.endpoint is None:
            return self.connect()
        return self.endpoint

    def lost(self, exc: BaseException) -> SqlUnavailable:
        """Forget a broken connection and demote its endpoint; the error to raise."""
        code = getattr(exc, "pgcode", None)
        where = str(self.endpoint) if self.endpoint else "?"
        if self.endpoint is not None:
            self._demoted = [e for e in self._demoted if e != self.endpoint] + [self.endpoint]
        self.close()
        drained = code == ADMIN_SHUTDOWN
        reason = "drained" if drained else "connection lost"
        return SqlUnavailable(f"{where} {reason}: {describe(exc)}", sqlstate=code, drained=drained)

    def is_broken(self, exc: BaseException) -> bool:
        """True when ``exc`` left the connection unusable (EOF, reset, 57P01, closed)."""
        if getattr(exc, "pgcode", None) == ADMIN_SHUTDOWN:
            return True
        if isinstance(exc, psycopg2.InterfaceError):
            return True
        return self.conn is None or bool(self.conn.closed)

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows.

        Raises ``SqlUnavailable`` when the connection is (or becomes) unusable, and the
        server's ``psycopg2.Error`` for statement-level failures (timeouts, bad SQL).
        """
        self.ensure()
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description is not None else []
        except psycopg2.Error as exc:
            if self.is_broken(exc):
                raise self.lost(exc) from None
            raise

    def wait_idle(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` on the idle connection's socket.

        Returns True at once if the server sent anything while we were idle. That is
        usually the EOF of a killed node, or the 57P01 a draining one writes before it
        closes. The caller then polls right away instead of at the next tick.
        """
        conn = self.conn
        if conn is None or conn.closed:
            return False
        try:
            readable, _, _ = select.select([conn.fileno()], [], [], max(0.0, seconds))
        except (OSError, ValueError, psycopg2.Error):
            return True
        return bool(readable)

    def close(self) -> None:
        conn, self.conn, self.endpoint = self.conn, None, None
        if conn is not None:
            with contextlib.suppress(psycopg2.Error):
                conn.close()


async def close_soon(session: SqlSession, limiter: anyio.CapacityLimiter) -> None:
    """Close ``session`` in a worker thread, shielded from cancellation, waiting at most 1 s.

    For ``finally`` blocks: a call still running on the session (abandoned on cancel)
    holds its lock until its own timeouts end it; shutdown never waits for that.
    """
    with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
        await anyio.to_thread.run_sync(session.close, abandon_on_cancel=True, limiter=limiter)
