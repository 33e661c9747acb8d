"""``CockroachCluster``: the real cluster behind the same interface as the rehearsal one.

Runs the monitor and the probes from the start (the first cloud's nodes may not exist
yet: the monitor says "waiting for the first node" and keeps trying), then, once a live
node is seen, applies the demo file's settings and starts the kv workload. Each part is restarted
after an unexpected error, so ``run`` never raises into the engine: it only ends when
cancelled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path

import anyio

from engine.clock import Clock
from engine.cockroach.book import NodeBook, NodeNamer
from engine.cockroach.connection import ConnectOptions, Endpoint, options_from_urls, parse_address
from engine.cockroach.kv import KvWorkload
from engine.cockroach.monitor import ClusterMonitor, MonitorTiming
from engine.cockroach.probes import NodeProbes
from engine.cockroach.publish import Publisher, log
from engine.cockroach.settings import apply_settings
from engine.cockroach.tls import cluster_trust
from engine.config.model import ClusterConfig, WorkloadConfig, time_until_store_dead_s
from engine.events import EventSink, MonitorStatus

BOOTSTRAP_SPLITS = 100
"""The 2017 init pod ran ``kv --splits=100``: the bootstrapping cloud pre-splits kv."""


class CockroachCluster:
    """Implements ``engine.backend.ClusterBackend`` against a real CockroachDB cluster."""

    def __init__(
        self,
        cluster: ClusterConfig,
        workload: WorkloadConfig,
        *,
        node_name: NodeNamer | None = None,
        timing: MonitorTiming | None = None,
        probe_interval_s: float = 1.0,
        certs_dir: Path | None = None,
    ) -> None:
        """``certs_dir``: the run's ``cockroach-certs`` (secure mode's CA and root client
        certificate), used where neither the URLs nor the demo file name a CA."""
        self.cluster = cluster
        self.certs_dir = certs_dir
        self.workload = workload
        self.node_name = node_name
        self.timing = timing or MonitorTiming()
        self.probe_interval_s = probe_interval_s
        self.book = NodeBook((), cluster.sql_port, node_name)
        self.monitor: ClusterMonitor | None = None
        self.probes: NodeProbes | None = None
        self.kv: KvWorkload | None = None

    def add_sql_addresses(self, addresses: Iterable[str]) -> list[str]:
        """Let the monitor (and workload) start from these ``host:port`` addresses too.

        Call on the engine's loop, e.g. with a cloud's ``ctx.facts["sql_addresses"]`` once
        its pods are Ready; returns the addresses that could not be read.
        """
        good: list[Endpoint] = []
        bad: list[str] = []
        for text in addresses:
            try:
                good.append(parse_address(text, self.cluster.sql_port))
            except ValueError:
                bad.append(text)
        self.book.add_seeds(good)
        return bad

    def identify_nodes(self, cloud: str, hosts: dict[str, int]) -> None:
        """Which advertised host is node N of ``cloud`` (``NodeBook.identify``)."""
        self.book.identify(cloud, hosts)

    async def run(self, emit: EventSink, clock: Clock) -> None:
        publish = Publisher(emit)
        try:
            seeds, options = options_from_urls(self.cluster.sql_urls, self.cluster.sql_port)
        except ValueError as exc:
            publish.notice("error", f"cluster: bad sql_urls: {exc}")
            publish(MonitorStatus(state="down", message="bad sql_urls"))
            await anyio.sleep_forever()
            return
        c = self.cluster
        try:
            trust = cluster_trust(
                dict(options.params),
                secure=c.secure,
                sslmode=c.sslmode,
                sslrootcert=str(c.sslrootcert) if c.sslrootcert else "",
                certs_dir=self.certs_dir,
            )
        except ValueError as exc:
            publish.notice("error", f"cluster: {exc}")
            publish(MonitorStatus(state="down", message="TLS settings"))
            await anyio.sleep_forever()
            return
        options = replace(
            options, params=tuple(sorted({**dict(options.params), **trust.sql_params()}.items()))
        )
        book = self.book
        book.add_seeds(seeds)
        probes = NodeProbes(
            book,
            publish,
            self.cluster.http_port,
            interval_s=self.probe_interval_s,
            tls=trust if c.secure else None,
        )
        monitor = ClusterMonitor(
            book,
            replace(options, application_name="crossroom-monitor"),
            publish,
            time_until_store_dead=time_until_store_dead_s(self.cluster),
            timing=self.timing,
            queries_per_s=probes.queries_per_s,
        )
        self.monitor, self.probes = monitor, probes
        async with anyio.create_task_group() as tg:
            tg.start_soon(_guarded, publish, "monitor", monitor.run)
            tg.start_soon(_guarded, publish, "probes", probes.run)
            tg.start_soon(
                _guarded,
                publish,
                "workload",
                lambda: self._after_up(options, book, monitor, publish),
            )

    async def _after_up(
        self, options: ConnectOptions, book: NodeBook, monitor: ClusterMonitor, publish: Publisher
    ) -> None:
        await monitor.up.wait()
        if self.cluster.settings:
            await apply_settings(
                self.cluster.settings,
                replace(options, application_name="crossroom-settings"),
                lambda: book.candidates,
                publish,
            )
        if not self.workload.enabled:
            await anyio.sleep_forever()
        self.kv = KvWorkload(
            options=options,
            candidates=book.spread,
            publish=publish,
            read_percent=self.workload.read_percent,
            max_rate=self.workload.max_rate,
            concurrency=self.workload.concurrency,
            splits=BOOTSTRAP_SPLITS if self.cluster.bootstraps else 0,
        )
        await self.kv.run()
        await anyio.sleep_forever()


async def _guarded(publish: Publisher, name: str, part: Callable[[], Awaitable[None]]) -> None:
    """Run one part forever; an unexpected error is reported and the part restarted."""
    while True:
        try:
            await part()
            return
        except Exception as exc:
            log.exception("cluster %s crashed", name)
            publish.notice(
                "error", f"cluster {name} failed: {type(exc).__name__}: {exc}; restarting"
            )
            await publish.pace.sleep(1.0)
