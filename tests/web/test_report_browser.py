"""The post-show report opened in a real headless browser (Debian's chromium): nothing is
fetched, every chart and every screenshot is there.

Two independent witnesses of "nothing fetched": the page's Resource Timing entries (every
request the page made, failed or not) and the browser's console (where a fetch the page's
own Content-Security-Policy blocked, or a failed load, is logged). A control page with
external references shows that both witnesses do see fetches.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from rehearsal_show import rehearsal_recording  # noqa: F401

CHARTS = 3
"""Inline SVG charts of one run: time to join, timeline per cloud, workload."""


def fetched(browser: Any) -> list[str]:
    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [str(n) for n in names]


def complaints(browser: Any) -> list[str]:
    return [str(entry["message"]) for entry in browser.get_log("browser")]


def test_report_opens_offline_with_every_chart_and_picture(
    browser: Any,
    rehearsal_recording: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = tmp_path / "report.html"
    args = [sys.executable, "-m", "tui", "report", str(rehearsal_recording), "--html", str(page)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    browser.get(page.as_uri())
    assert fetched(browser) == []
    assert complaints(browser) == []
    assert browser.execute_script("return document.querySelectorAll('svg').length") == CHARTS
    # Every chart drew something (not an empty box).
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg')).map(s => "
        "[s.getBoundingClientRect().width, s.querySelectorAll('path').length])"
    )
    assert all(width > 200 and paths > 10 for width, paths in sizes), sizes
    # Screenshots of the room: decoded and drawn (a broken data: image has no size).
    pictures = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
    )
    assert len(pictures) >= 2  # at least one marker and the end
    assert all(ok and width > 0 for ok, width in pictures), pictures
    text = browser.execute_script("return document.body.innerText")
    for heading in ("Time to join", "Timeline per cloud", "Step spread", "Faults", "The room"):
        assert heading in text


def test_the_witnesses_see_a_fetch(browser: Any, tmp_path: Path) -> None:
    """The control: a page that does reference the network is caught by both."""
    page = tmp_path / "leaky.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        "<style>@import url(https://fonts.example/a.css);</style></head>"
        "<body><img src='https://cdn.example/x.png'></body></html>"
    )
    browser.get(page.as_uri())
    assert any("cdn.example" in name for name in fetched(browser))
    assert any("Content Security Policy" in line for line in complaints(browser))
