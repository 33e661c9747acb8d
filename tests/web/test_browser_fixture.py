"""The browser fixture drives the real Debian chromium and reads what a page shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_browser_reads_a_local_page(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p id='t'>crossroom &lt;b&gt;</p></body></html>")
    browser.get(page.as_uri())
    assert browser.find_element("id", "t").text == "crossroom <b>"
