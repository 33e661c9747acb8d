"""A real browser for the web tests: Debian's chromium driven by its own chromedriver.

Never a downloaded browser: selenium manager is kept offline and both binaries are named
explicitly, so a missing package is a clear skip (a failure under ``CI=true``), not a
silent fetch from the network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _missing_reason() -> str | None:
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (binary.exists() and os.access(binary, os.X_OK)):
            return f"{binary} is missing (Debian package {package}; scripts/test installs it)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A headless chromium session (``selenium.webdriver.Chrome``), closed after the test."""
    reason = _missing_reason()
    if reason is not None:
        _skip_or_fail(reason)
    # Selenium manager must never look for or download a browser or driver.
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.add_argument("--headless=new")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument("--disable-gpu")
    options.add_argument("--window-size=1280,900")
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log"))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as exc:  # the driver's own message says what is wrong with the setup
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _skip_or_fail(f"chromium did not start: {first}")
        raise
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
