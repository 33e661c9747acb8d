"""Direct HTTP probes of every known node, independent of what the cluster says.

``GET /health?ready=1`` about once a second (200 = ready, 503 = not ready, refused or
timed out = down) and ``GET /_status/vars`` for throughput counters; both endpoints are
unauthenticated even on secure clusters. Probes of all nodes run concurrently, each with
a short timeout, so one dead host never delays the others. httpx is async: no threads.
"""

from __future__ import annotations

import json
import math
import ssl
from dataclasses import dataclass, field

import anyio
import httpx

from engine.cockroach.book import KnownNode, NodeBook
from engine.cockroach.publish import Publisher
from engine.cockroach.tls import ClusterTrust, describe_tls_error
from engine.events import ProbeObserved

READY = "ready"
NOT_READY = "not_ready"
DOWN = "down"

THROUGHPUT_COUNTER = "sql_query_count"


@dataclass(frozen=True)
class ProbeResult:
    status: str
    detail: str = ""


def interpret_health(status_code: int, body: str) -> ProbeResult:
    """CockroachDB's ``/health?ready=1`` answer as ready / not_ready (pure)."""
    if status_code == 200:
        return ProbeResult(READY)
    detail = f"HTTP {status_code}"
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        text = data.get("error") or data.get("message")
        if isinstance(text, str) and text:
            detail = f"{detail}: {text}"
    return ProbeResult(NOT_READY, detail)


def parse_prometheus(text: str) -> dict[str, float]:
    """Prometheus text exposition -> value per metric name, summed over label sets (pure)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        brace, space = line.find("{"), line.find(" ")
        if brace != -1 and (space == -1 or brace < space):
            name, rest = line[:brace], line[line.rfind("}") + 1 :]
        else:
            name, _, rest = line.partition(" ")
        fields = rest.split()
        value_text = fields[0] if fields else ""
        try:
            value = float(value_text)
        except ValueError:
            continue
        if math.isfinite(value):
            out[name] = out.get(name, 0.0) + value
    return out


def counter_rate(prev: tuple[float, float] | None, now: float, value: float) -> float | None:
    """Per-second rate between two counter readings; ``None`` across a restart (reset)."""
    if prev is None:
        return None
    t0, v0 = prev
    if now <= t0 or value < v0:
        return None
    return (value - v0) / (now - t0)


@dataclass
class NodeProbes:
    """Publishes ``ProbeObserved`` on every change (and the first result per node)."""

    book: NodeBook
    publish: Publisher
    http_port: int
    interval_s: float = 1.0
    timeout_s: float = 0.8
    vars_every_s: float = 2.0
    tls: ClusterTrust | None = None
    """Secure mode: probes go over https and verify the cluster's own CA (never the system
    store, never unverified)."""
    status: dict[int, ProbeResult] = field(default_factory=dict)
    _counters: dict[int, tuple[float, float]] = field(default_factory=dict)
    _rates: dict[int, float] = field(default_factory=dict)

    def queries_per_s(self) -> float | None:
        """SQL statements per second summed over nodes that answered lately."""
        rates = [
            r
            for n, r in self._rates.items()
            if self.status.get(n, ProbeResult(DOWN)).status != DOWN
        ]
        return round(sum(rates), 1) if rates else None

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def url(self, node: KnownNode, path: str) -> str:
        host = f"[{node.host}]" if ":" in node.host else node.host
        return f"{self.scheme}://{host}:{self.http_port}{path}"

    async def probe(self, client: httpx.AsyncClient, node: KnownNode) -> ProbeResult:
        try:
            r = await client.get(self.url(node, "/health?ready=1"))
        except httpx.TimeoutException:
            return ProbeResult(DOWN, f"no answer in {self.timeout_s:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            return ProbeResult(DOWN, describe_tls_error(exc) or type(exc).__name__)
        return interpret_health(r.status_code, r.text)

    async def read_vars(self, client: httpx.AsyncClient, node: KnownNode) -> None:
        try:
            r = await client.get(self.url(node, "/_status/vars"))
        except (httpx.HTTPError, httpx.InvalidURL, OSError):
            self._rates.pop(node.node_id, None)
            return
        if r.status_code != 200:
            return
        value = parse_prometheus(r.text).get(THROUGHPUT_COUNTER)
        if value is None:
            return
        now = self.publish.pace.now()
        rate = counter_rate(self._counters.get(node.node_id), now, value)
        self._counters[node.node_id] = (now, value)
        if rate is not None:
            self._rates[node.node_id] = rate

    async def _one(self, client: httpx.AsyncClient, node: KnownNode, want_vars: bool) -> None:
        result = await self.probe(client, node)
        old = self.status.get(node.node_id)
        self.status[node.node_id] = result
        if old is None or old.status != result.status:
            self.publish(
                ProbeObserved(
                    node=node.name, cloud=node.cloud, status=result.status, detail=result.detail
                )
            )
        if want_vars and result.status != DOWN:
            await self.read_vars(client, node)

    async def _verify(self) -> ssl.SSLContext | bool:
        """What httpx verifies against: the cluster's CA in secure mode, once it can be read.

        Waits (quietly retrying, one notice per distinct problem) until the CA file reads.
        """
        if self.tls is None:
            return True  # plain http: nothing to verify
        last = ""
        while True:
            try:
                return self.tls.http_context()
            except ValueError as exc:
                if str(exc) != last:
                    last = str(exc)
                    self.publish.notice("error", f"probes: {exc}")
            await self.publish.pace.sleep(5.0)

    async def run(self) -> None:
        clock = self.publish.pace
        timeout = httpx.Timeout(self.timeout_s)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
        next_vars = float("-inf")
        while not any(n.host for n in self.book.nodes.values()):
            await clock.sleep(self.interval_s)  # nothing to probe before a node is known
        verify = await self._verify()
        async with httpx.AsyncClient(
            timeout=timeout, limits=limits, trust_env=False, verify=verify
        ) as client:
            while True:
                started = clock.now()
                want_vars = started >= next_vars
                if want_vars:
                    next_vars = started + self.vars_every_s
                nodes = [n for n in self.book.nodes.values() if n.host]
                async with anyio.create_task_group() as tg:
                    for node in nodes:
                        tg.start_soon(self._one, client, node, want_vars)
                await clock.sleep(max(0.05, self.interval_s - (clock.now() - started)))
