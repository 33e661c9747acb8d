"""``crossroom serve`` in a real browser: Debian's chromium opens the page of a running
rehearsal, sees the REHEARSAL badge and every cloud label, and its key presses kill nothing.

The page draws on a canvas (xterm.js), so its text is read from xterm's own buffer: a
script set before the page loads keeps the page's terminal object when the page assigns
it (``this.terminal = new Terminal(...)`` in textual-serve's ``static/js/textual.js``),
and the rows are read with xterm's public buffer API, which is what the canvas paints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from engine.engine_process import ShowAddress, spawn_show
from engine.room_api import RoomOptions
from engine.sim.fleet import rehearsal_demo

pytestmark = pytest.mark.slow

KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'terminal',
      {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer) { window.__crossroomTerminal = value; }
  },
});
"""
READ_ROWS = """
const t = window.__crossroomTerminal;
if (!t) { return null; }
const b = t.buffer.active, out = [];
for (let y = 0; y < t.rows; y++) {
  const line = b.getLine(b.viewportY + y);
  out.push(line ? line.translateToString(true) : '');
}
return out.join('\\n');
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes_naming(text: str) -> list[int]:
    """Live processes whose command line holds ``text`` (zombies are not processes left)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@dataclass
class Show:
    address: ShowAddress
    state: Path
    leave: threading.Event
    """Set it and the presenter detaches: the rehearsal's engine then stops."""


@pytest.fixture
def show(short_dir: Path) -> Iterator[Show]:
    """A rehearsal engine in its own process, started and provisioning, with a presenter
    attached (a rehearsal stops when its last presenter leaves); stopped after."""
    address = spawn_show(None, RoomOptions(state_dir=short_dir, speed=20.0), orphan_grace_s=600)
    started = threading.Event()
    leave = threading.Event()
    failed: list[BaseException] = []

    async def presenter() -> None:
        from engine.room_client import attach_room

        async with attach_room(address.socket_path, role="presenter") as room:
            assert (await room.start()).accepted
            started.set()
            await anyio.to_thread.run_sync(leave.wait)

    def hold() -> None:
        try:
            anyio.run(presenter)
        except BaseException as exc:
            failed.append(exc)
            started.set()

    holder = threading.Thread(target=hold, name="presenter")
    holder.start()
    try:
        assert started.wait(60) and not failed, failed
        yield Show(address, short_dir, leave)
    finally:
        leave.set()
        holder.join(60)
        subprocess.run(
            [sys.executable, "-m", "tui", "stop", address.run_id, "--state-dir", str(short_dir)],
            capture_output=True,
            timeout=60,
        )
        with contextlib.suppress(ChildProcessError):
            os.waitpid(address.pid, 0)


@pytest.fixture
def served(show: Show) -> Iterator[tuple[str, ShowAddress, Path]]:
    address, state = show.address, show.state
    port = free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "serve",
            "--state-dir",
            str(state),
            "--port",
            str(port),
            address.run_id,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert serve.poll() is None, serve.stdout.read() if serve.stdout else ""
            assert time.monotonic() < deadline, "crossroom serve did not listen"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/", address, state
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        if serve.stdout is not None:
            serve.stdout.close()


def page_text(browser: Any, want: list[str], timeout: float = 90.0) -> str:
    """The terminal's rows once every string of ``want`` shows (else the last rows seen)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = browser.execute_script(READ_ROWS) or ""
        if all(w in text for w in want):
            return text
        time.sleep(0.5)
    return text


def test_the_page_shows_the_show_and_its_keys_kill_nothing(
    browser: Any, served: tuple[str, ShowAddress, Path]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, address, state = served
    labels = [c.label for c in rehearsal_demo().clouds]
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_TERMINAL})
    browser.get(url)
    text = page_text(browser, ["REHEARSAL", *labels, "joined in"])
    assert "REHEARSAL" in text, text
    for label in labels:
        assert label in text, f"{label} not on the page:\n{text}"
    assert "joined in" in text, text  # the caption follows the show as clouds join

    keys = browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
    for key in ["k", "x", "b", Keys.ENTER, "y", "K", "2", "y", "a", "k", "y", Keys.TAB, "y"]:
        keys.send_keys(key)
        time.sleep(0.1)
    time.sleep(2)
    text = page_text(browser, ["REHEARSAL"])
    assert "REHEARSAL" in text and "Time to join" in text  # still the same read-only view

    recording = (state / "runs" / address.run_id / "events.jsonl").read_text()
    assert '"kind":"cloud_joined"' in recording  # the show went on meanwhile
    assert '"kill_issued"' not in recording and '"revive_issued"' not in recording
    assert '"teardown_started"' not in recording

    # The keys did reach the viewer: q closes it (the page's socket closes), not the show.
    keys.send_keys("q")
    deadline = time.monotonic() + 30
    while "-closed" not in (browser.execute_script("return document.body.className") or ""):
        assert time.monotonic() < deadline, "q did not close the viewer"
        time.sleep(0.2)
    deadline = time.monotonic() + 15
    while processes_naming(f"attach --audience {address.run_id}"):
        assert time.monotonic() < deadline, "the closed viewer's process is still running"
        time.sleep(0.2)
    from engine.shows import running_shows

    assert [s.run_id for s in running_shows(state)] == [address.run_id]


def test_nothing_is_left_running_after_serve_stops(browser: Any, show: Show) -> None:
    address, state = show.address, show.state
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--state-dir", str(state), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_TERMINAL})
        browser.get(f"http://127.0.0.1:{port}/")
        assert "REHEARSAL" in page_text(browser, ["REHEARSAL"])
        assert processes_naming(f"attach --audience {address.run_id}") != []
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)
    deadline = time.monotonic() + 15
    while processes_naming(f"attach --audience {address.run_id}"):
        assert time.monotonic() < deadline, "a visitor's viewer outlived crossroom serve"
        time.sleep(0.2)


def test_serve_stops_by_itself_when_its_show_ends(show: Show) -> None:
    port = free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "serve",
            "--state-dir",
            str(show.state),
            "--port",
            str(port),
            show.address.run_id,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        show.leave.set()  # the last presenter leaves the rehearsal: its engine stops
        out, _ = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    assert serve.returncode == 0
    assert f"run {show.address.run_id} has ended; no longer serving it" in out
    assert "Traceback" not in out


def test_a_bind_beyond_loopback_prints_a_token_and_asks_for_it(show: Show) -> None:
    import re
    import urllib.error
    import urllib.request

    port = free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "serve",
            "--state-dir",
            str(show.state),
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            show.address.run_id,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert serve.stdout is not None
        token = None
        printed = []
        while not printed or "fontsize" not in printed[-1]:  # the last start line
            printed.append(serve.stdout.readline())
            assert printed[-1], f"serve ended: {printed}"
            found = re.search(r"\?token=([A-Za-z0-9_-]{20,})$", printed[-1].strip())
            token = found.group(1) if found else token
        assert token is not None, f"no token printed whole: {printed}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert refused.value.code == 403
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}", timeout=10) as ok:
            assert ok.status == 200
    finally:
        serve.send_signal(signal.SIGINT)
        serve.communicate(timeout=30)


def test_a_port_in_use_is_one_line_and_exit_1(show: Show) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "serve",
                "--state-dir",
                str(show.state),
                "--port",
                str(port),
                show.address.run_id,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"crossroom: cannot serve on 127.0.0.1:{port}: ")
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stdout
