"""A small Kubernetes API server for tests and rehearsals: real paths, codes and bodies.

Run it by hand for a rehearsal against the real CLI::

    python -m tests.kube.fake_apiserver --port 16443 --write-kubeconfig /tmp/fake.kubeconfig

It speaks HTTP/1.1 with keep-alive, chunked watch streams of JSON lines, ``metav1.Status``
failure bodies (404 NotFound, 409 AlreadyExists, 403 namespace terminating, 410 Expired
inside a watch for a version older than the kept history, as the watch cache answers),
BOOKMARK events when the client allows them, bearer-token or TLS client-certificate
auth, and injectable slowness and faults. State and controllers live in ``fake_store``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from .fake_store import KINDS, ApiError, FakeCluster, Obj, status_body

TOKEN = "crossroom-fake-token"
FAULT_REASONS = {410: "Expired", 429: "TooManyRequests", 503: "ServiceUnavailable"}
"""``metav1.StatusReason`` of an injected failure (``InternalError`` otherwise)."""


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int = 500
    delay_s: float = 0.0
    times: int = 1


@dataclass
class Route:
    gv: str
    plural: str
    namespace: str | None
    name: str | None


def parse_route(path: str) -> Route | None:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        gv, rest = "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        return None
    ns: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest or len(rest) > 2 or (gv, rest[0]) not in KINDS:
        return None
    _, namespaced = KINDS[(gv, rest[0])]
    if namespaced and ns is None and len(rest) == 2:
        return None
    return Route(gv, rest[0], ns if namespaced else "", rest[1] if len(rest) == 2 else None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle meets delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing ----------------------------------------------------------------------------

    def _send(self, code: int, body: Obj) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        cluster = self.server.cluster
        with cluster.cond:
            cluster.requests.append((method, self.path))
        body = self._body() if method in ("POST", "PATCH", "PUT", "DELETE") else None
        fault = self.server.take_fault(method, url.path)
        if fault is not None:
            time.sleep(fault.delay_s)
            if fault.status:
                reason = FAULT_REASONS.get(fault.status, "InternalError")
                self._send(fault.status, status_body(fault.status, reason, "injected"))
                return
        if self.server.token and self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        try:
            self._handle(method, url.path, query, body)
        except ApiError as e:
            self._send(e.code, e.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _handle(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        cluster = self.server.cluster
        if path.rstrip("/") == "/version":
            self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.4+fake"})
            return
        route = parse_route(path)
        if route is None:
            self._send(
                404,
                status_body(404, "NotFound", "the server could not find the requested resource"),
            )
            return
        ns = route.namespace
        selector = query.get("labelSelector", "")
        if method == "GET" and route.name is None:
            if query.get("watch") in ("true", "1", "True"):
                self._watch(route, query)
            elif route.plural == "nodes":
                self._send(200, cluster.node_list())
            else:
                self._send(200, cluster.list(route.gv, route.plural, ns, selector))
            return
        if method == "POST" and route.name is None:
            self._send(201, cluster.create(route.gv, route.plural, ns or "", body or {}))
        elif method == "GET" and route.name:
            self._send(200, cluster.get(route.gv, route.plural, ns or "", route.name))
        elif method == "PATCH" and route.name:
            ctype = self.headers.get("Content-Type", "")
            if "merge-patch" not in ctype and "strategic-merge-patch" not in ctype:
                raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {ctype}")
            if route.plural == "nodes":
                self._send(200, cluster.patch_node(route.name, body or {}))
                return
            self._send(200, cluster.patch(route.gv, route.plural, ns or "", route.name, body))
        elif method == "DELETE" and route.name:
            grace = query.get("gracePeriodSeconds")
            if grace is None and isinstance(body, dict):
                grace = body.get("gracePeriodSeconds")
            obj = cluster.delete(
                route.gv, route.plural, ns or "", route.name, int(grace) if grace else None
            )
            self._send(200, obj)
        else:
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")

    # --- watch ------------------------------------------------------------------------------

    def _chunk(self, payload: Obj) -> None:
        data = json.dumps(payload).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _bookmark(self, route: Route, rv: int) -> None:
        """A BOOKMARK: an empty object of the watched kind carrying only the version the
        watch cache has reached (``cacher.go``), however quiet this watch's selection."""
        kind, _ = KINDS[(route.gv, route.plural)]
        with self.server.cluster.cond:
            self.server.cluster.bookmarks_sent += 1
        meta = {"resourceVersion": str(rv)}
        self._chunk(
            {"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": route.gv, "metadata": meta}}
        )

    def _watch(self, route: Route, query: dict[str, str]) -> None:
        cluster = self.server.cluster
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        # As the watch cache does (``cache_watcher.go`` ``nextBookmarkTime``): roughly every
        # bookmark period, and 2 s before the deadline; only when the client asked.
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1", "True")

        def next_bookmark_after(now: float) -> float:
            heartbeat = now + cluster.bookmark_every_s
            before_deadline = deadline - 2.0
            return before_deadline if now < before_deadline < heartbeat else heartbeat

        next_bookmark = next_bookmark_after(time.monotonic())
        selector = query.get("labelSelector", "")
        ns = route.namespace if route.namespace else None
        rv_text = query.get("resourceVersion", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            with cluster.cond:
                if rv_text in ("", "0"):
                    listing = cluster.list(route.gv, route.plural, ns, selector)
                    initial = [{"type": "ADDED", "object": o} for o in listing["items"]]
                    rv = cluster.rv
                else:
                    initial, rv = [], int(rv_text)
                epoch = cluster.watch_epoch
            for event in initial:
                self._chunk(event)
            while not self.server.closing and time.monotonic() < deadline:
                if cluster.watch_epoch != epoch:
                    break
                if bookmarks and time.monotonic() >= next_bookmark:
                    self._bookmark(route, rv)
                    next_bookmark = next_bookmark_after(time.monotonic())
                with cluster.cond:
                    try:
                        changes, latest = cluster.changes_after(
                            rv, route.gv, route.plural, ns, selector
                        )
                    except ApiError as e:
                        self._chunk({"type": "ERROR", "object": e.body})
                        break
                    # Everything up to ``latest`` has been looked at for this watch: a
                    # bookmark may carry it, never a version past an undelivered event.
                    rv = latest
                    if not changes:
                        cluster.cond.wait(min(0.2, max(0.0, deadline - time.monotonic())))
                        continue
                for change in changes:
                    self._chunk({"type": change.type, "object": change.obj})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], cluster: FakeCluster, token: str | None) -> None:
        super().__init__(addr, Handler)
        self.cluster = cluster
        self.token = token
        self.closing = False
        self.faults: list[Fault] = []
        self._fault_lock = threading.Lock()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._fault_lock:
            for fault in self.faults:
                if fault.method == method and fault.path.search(path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None


@dataclass
class TLSFiles:
    """Serving certificate, its key, and the CA that client certificates must chain to."""

    cert_pem: bytes
    key_pem: bytes
    client_ca_pem: bytes


@dataclass
class FakeApiServer:
    """Start with ``start()`` (or as a context manager); ``url`` is where it listens."""

    cluster: FakeCluster = field(default_factory=FakeCluster)
    port: int = 0
    token: str | None = TOKEN
    tls: TLSFiles | None = None

    def start(self) -> FakeApiServer:
        self.httpd = FakeHTTPServer(("127.0.0.1", self.port), self.cluster, self.token)
        if self.tls is not None:
            self._tls_dir = tempfile.TemporaryDirectory()
            d = Path(self._tls_dir.name)
            (d / "c.pem").write_bytes(self.tls.cert_pem)
            (d / "k.pem").write_bytes(self.tls.key_pem)
            (d / "ca.pem").write_bytes(self.tls.client_ca_pem)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(d / "c.pem", d / "k.pem")
            context.load_verify_locations(d / "ca.pem")
            context.verify_mode = ssl.CERT_REQUIRED
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_port
        self._threads = [
            threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True),
            threading.Thread(target=self._controllers, daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    def _controllers(self) -> None:
        while not self.httpd.closing:
            self.cluster.reconcile()
            time.sleep(0.03)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def fault(
        self, method: str, path: str, status: int = 500, delay_s: float = 0.0, times: int = 1
    ) -> None:
        """Make the next ``times`` matching requests wait ``delay_s`` and/or fail."""
        self.httpd.faults.append(Fault(method, re.compile(path), status, delay_s, times))

    def stop(self) -> None:
        self.httpd.closing = True
        with self.cluster.cond:
            self.cluster.closing = True
            self.cluster.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, context: str = "fake") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": self.token or ""}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
            "current-context": context,
        }

    def write_kubeconfig(self, path: Path, context: str = "fake") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(context), sort_keys=False), encoding="utf-8")
        path.chmod(0o600)
        return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=16443)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--pod-ready-after", type=float, default=2.0)
    parser.add_argument("--write-kubeconfig", type=Path)
    parser.add_argument("--context", default="fake")
    args = parser.parse_args(argv)
    cluster = FakeCluster(nodes=args.nodes, pod_ready_after=args.pod_ready_after)
    server = FakeApiServer(cluster=cluster, port=args.port).start()
    if args.write_kubeconfig:
        server.write_kubeconfig(args.write_kubeconfig, args.context)
        print(f"kubeconfig written to {args.write_kubeconfig} (context {args.context})")
    print(f"fake Kubernetes API on {server.url}; Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
