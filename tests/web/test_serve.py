"""``crossroom serve`` without a browser: who may watch, and what a visitor runs.

The guard is checked on textual-serve's real aiohttp application (``aiohttp.test_utils``
serves it on a loopback port); no visitor process is started here.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tui.commands.serve import TOKEN_COOKIE, audience_server, is_loopback, visitor_command

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiohttp runs on asyncio


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.org", False),
    ],
)
def test_only_loopback_goes_without_a_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_visitor_runs_the_read_only_attach_of_that_run_quoted_for_the_shell() -> None:
    command = visitor_command("xr-20261201-101010-abcd", "/tmp/state dir; rm -rf ~")
    words = shlex.split(command)
    assert words[1:] == [
        "-m",
        "tui",
        "attach",
        "--audience",
        "xr-20261201-101010-abcd",
        "--state-dir",
        "/tmp/state dir; rm -rf ~",
    ]


async def _client(token: str | None) -> TestClient:
    server = audience_server("true", host="127.0.0.1", port=0, token=token, title="t")
    client = TestClient(TestServer(await server._make_app()))
    await client.start_server()
    return client


async def test_a_token_is_needed_on_the_page_and_the_websocket_then_a_cookie_carries_it() -> None:
    client = await _client("s3cret-token")
    try:
        assert (await client.get("/")).status == 403
        assert (await client.get("/?token=wrong")).status == 403
        assert (await client.get("/ws")).status == 403
        page = await client.get("/?token=s3cret-token")
        assert page.status == 200
        assert page.cookies[TOKEN_COOKIE].value == "s3cret-token"
        assert page.cookies[TOKEN_COOKIE]["httponly"]
        html = await page.text()
        assert f'data-session-websocket-url="ws://{client.host}:{client.port}/ws"' in html
        # The cookie now opens the page without the query (static files never need it).
        assert (await client.get("/")).status == 200
        assert (await client.get("/static/js/textual.js")).status == 200
    finally:
        await client.close()


async def test_loopback_needs_no_token_but_a_page_of_another_site_may_not_watch() -> None:
    client = await _client(None)
    try:
        assert (await client.get("/")).status == 200
        ws_headers = {
            "Origin": "http://evil.example",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        assert (await client.get("/ws", headers=ws_headers)).status == 403
        assert (await client.get("/", headers={"Host": 'x"><script>'})).status == 400
    finally:
        await client.close()


def test_with_no_show_running_serve_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--state-dir", str(tmp_path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "no show is running" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_named_run_that_is_not_running_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "serve",
            "--state-dir",
            str(tmp_path),
            "xr-20261201-101010-abcd",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "xr-20261201-101010-abcd" in done.stderr
