"""``crossroom serve [--host H] [--port N] [RUN_ID]``: the audience view in a browser.

textual-serve (``textual_serve.server.Server``) runs one command per browser visitor and
relays its terminal over a websocket. Here that command is ``crossroom attach --audience
RUN_ID``: every visitor is a read-only client of the one running engine, never a second
show, and the engine itself refuses every command from an audience connection.

Loopback by default. A bind on any other address prints a token at start, and the server
checks it on every page and websocket (``?token=`` once, then an HttpOnly cookie), so the
show is not open to the whole venue network. A websocket from another site's page is
refused (its ``Origin`` is not this server), so a page the presenter happens to open
cannot read the show either.

Exit 1 when no show is running (or the named one is not), 2 on bad input.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import os
import re
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from engine.rundir import state_dir, valid_run_id
from engine.terminal_text import TerminalSafeStream, shown, visible
from tui.commands.option_checks import state_dir_problem

EXIT_NONE = 1
EXIT_BAD_INPUT = 2
DEFAULT_PORT = 8000
WATCH_EVERY_S = 2.0
"""How often serve asks whether its show is still running (it stops serving when not)."""
TOKEN_COOKIE = "crossroom_token"
_HOST_HEADER = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
"""What a Host header may be before it is put into the page's URLs."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the audience view of a running show to browsers",
        description=(
            "Serve the read-only audience view of a running show over HTTP: every browser "
            "gets its own read-only screen of the same engine. Binds loopback by default; "
            "any other --host prints a token that visitors must present (?token=...). "
            "Exit 1 when no show is running, 2 on bad input."
        ),
    )
    p.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the show (crossroom ls lists them)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def say_unmasked(line: str) -> None:
    """Print the one line whose secret is the point: the token must reach the presenter
    whole, so it skips the masking every other printed line gets (still made visible)."""
    sys.stdout.flush()
    out = sys.stdout
    raw = out.raw if isinstance(out, TerminalSafeStream) else out
    raw.write(visible(line) + "\n")
    raw.flush()


def visible_host(host: str) -> str:
    """The host a visitor types: this machine's name for a bind on every address."""
    if host in ("0.0.0.0", "::", ""):
        import socket

        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def visitor_command(run_id: str, state: str) -> str:
    """The shell command textual-serve runs for each visitor (it runs it through a shell)."""
    return shlex.join(
        [sys.executable, "-m", "tui", "attach", "--audience", run_id, "--state-dir", state]
    )


def show_answers(socket_path: str) -> bool:
    """Whether the show's engine still answers. Gone: its socket is gone or refuses (an
    engine removes its socket when it stops); busy or slow still counts as there."""
    from engine.room_client import AttachRefused
    from engine.shows import query_info
    from engine.wire import WireError

    if not os.path.exists(socket_path):
        return False
    try:
        query_info(socket_path)
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except (AttachRefused, OSError, WireError):
        return True
    return True


def token_ok(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def run(args: argparse.Namespace) -> int:
    problem = state_dir_problem(args.state_dir)
    if problem is None and args.run_id is not None and not valid_run_id(args.run_id):
        problem = f"RUN_ID: {args.run_id!r} is not a run id (crossroom ls lists them)"
    if problem is None and not 0 < args.port < 65536:
        problem = f"--port: {args.port} is not a port (1-65535)"
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    from engine.shows import running_shows
    from tui.commands.attach import choose

    base = state_dir(args.state_dir)
    chosen = choose(args.run_id, running_shows(base), sys.stdin, sys.stdout)
    if isinstance(chosen, int):
        return chosen
    token = None if is_loopback(args.host) else secrets.token_urlsafe(18)
    server = audience_server(
        visitor_command(chosen.run_id, str(base.absolute())),
        host=args.host,
        port=args.port,
        token=token,
        title=shown(f"crossroom: {chosen.demo}"),
        show_socket=chosen.socket_path,
        run_id=chosen.run_id,
    )
    shown_host = visible_host(args.host)
    url = f"http://{shown_host}:{args.port}/"
    print(f"crossroom: serving the audience view of run {chosen.run_id} ({chosen.demo})")
    if token is None:
        print(f"crossroom: open {url} (loopback only; Ctrl+C stops serving, not the show)")
    else:
        say_unmasked(f"crossroom: visitors need the token: {url}?token={token}")
        print("crossroom: Ctrl+C stops serving, not the show")
    print("crossroom: for a projector, add fontsize=28 (or more) to the address's query")
    sys.stdout.flush()
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not this machine's
        print(
            f"crossroom: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_NONE
    return 0


def audience_server(
    command: str,
    *,
    host: str,
    port: int,
    token: str | None,
    title: str,
    show_socket: str = "",
    run_id: str = "",
) -> Any:
    """textual-serve's ``Server`` with the checks above; its page URLs follow the address
    the visitor used (so the websocket and the cookie go to the same host). With
    ``show_socket``, serving stops by itself once that show's engine no longer answers."""
    import asyncio

    from aiohttp import web
    from textual_serve.server import Server

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        if not _HOST_HEADER.match(request.host or ""):
            raise web.HTTPBadRequest(text="crossroom: bad Host header\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and _netloc(origin) != request.host:
            raise web.HTTPForbidden(text="crossroom: a page of another site may not watch\n")
        if token is not None:
            given = request.query.get("token") or request.cookies.get(TOKEN_COOKIE, "")
            if not token_ok(given, token):
                raise web.HTTPForbidden(
                    text="crossroom: this show needs the token printed by crossroom serve "
                    "(add ?token=... to the address)\n"
                )
        response = await handler(request)
        if token is not None and request.path == "/":
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response

    class AudienceServer(Server):
        async def _make_app(self) -> web.Application:
            app: web.Application = await super()._make_app()
            app.middlewares.append(guard)
            return app

        async def handle_index(self, request: web.Request) -> Any:
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def on_startup(self, app: web.Application) -> None:
            """Our own start lines are printed by ``run``; no banner. Watch the show."""
            if show_socket:
                self._watch = asyncio.create_task(self._watch_show())

        async def _watch_show(self) -> None:
            alive = True
            while alive:  # the engine's own process: asked, since nothing here is told
                await asyncio.sleep(WATCH_EVERY_S)
                alive = await asyncio.to_thread(show_answers, show_socket)
            print(f"crossroom: run {run_id} has ended; no longer serving it", flush=True)
            asyncio.get_running_loop().call_soon(self.request_exit)

    return AudienceServer(command, host=host, port=port, title=title)


def _netloc(url: str) -> str | None:
    """``host:port`` of an ``Origin`` header; ``None`` for one that is not a URL."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None
