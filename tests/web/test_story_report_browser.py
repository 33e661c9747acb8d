"""The 2017 story end to end, as a rehearsal would run in anyone's CI: ``crossroom run
--scenario scenarios/summit-2017.yaml --junit --html`` (gate, release, restart a pod, stop a
node for 90 s, freeze one for 20 s, cut a cloud off for 60 s, stop a server, heal) exits 0
with every expectation passing, its JUnit file is valid against the JUnit schema, and its
HTML report opens in a real headless browser with nothing fetched and every chart drawn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from junitparser import Failure, JUnitXml
from test_report_browser import complaints, fetched

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "scenarios" / "summit-2017.yaml"
XSD = ROOT / "tests" / "data" / "junit-10.xsd"
FAULT_CUES = ("restart-pod", "stop-node", "freeze-node", "cut-off", "stop-server")


@pytest.mark.slow
def test_the_2017_story_passes_and_its_report_opens_offline(browser: Any, tmp_path: Path) -> None:
    junit, page = tmp_path / "story.xml", tmp_path / "story.html"
    args = [sys.executable, "-m", "tui", "run", "--scenario", str(STORY), "--speed", "100"]
    args += ["--seed", "7", "--state-dir", str(tmp_path / "state")]
    args += ["--junit", str(junit), "--html", str(page)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert ", 0 failed" in done.stdout

    xmlschema.XMLSchema(str(XSD)).validate(str(junit))
    xml = JUnitXml.fromfile(str(junit))
    suites = [xml] if xml._tag == "testsuite" else list(xml)
    names = {
        case.name: not any(isinstance(r, Failure) for r in case.result)
        for suite in suites
        for case in suite
    }
    assert sum(name.endswith(" joined") for name in names) == 15
    for cue in FAULT_CUES:
        assert any(name.startswith(f"{cue}: ") for name in names), cue
    assert all(names.values()), [n for n, ok in names.items() if not ok]

    browser.get(page.as_uri())
    assert fetched(browser) == []
    assert complaints(browser) == []
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg')).map(s => "
        "[s.getBoundingClientRect().width, s.querySelectorAll('path').length])"
    )
    assert len(sizes) >= 3 and all(w > 200 and paths > 10 for w, paths in sizes), sizes
    text = browser.execute_script("return document.body.innerText")
    for target in ("ibm/freeze-3", "easystack/partition", "huawei/server-1"):
        assert target in text
    assert "FAIL" not in text
