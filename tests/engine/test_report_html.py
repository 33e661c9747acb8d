"""The HTML report: self-contained (nothing fetched), every chart there, outside text escaped.

The page is parsed with the standard library's HTML parser, not searched as text: every
``src``/``href``/``xlink:href`` attribute and every style sheet is looked at.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rehearsal_show import rehearsal_recording, run_html_of  # noqa: F401

from engine import events as ev
from engine.report_html import compare_html, report_html
from engine.show_summary import summarize, summarize_recording

EXTERNAL = re.compile(r"^\s*(https?:|//|ftp:|file:)", re.IGNORECASE)
CSS_FETCH = re.compile(r"@import|url\(\s*['\"]?\s*(?!data:|#)", re.IGNORECASE)


class PageParts(HTMLParser):
    """What a browser could fetch, and what the page shows."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
                self.links.append((tag, name, value or ""))
            if name == "style":
                self.styles.append(value or "")
            if name.startswith("on"):
                self.links.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def parts(page: str) -> PageParts:
    p = PageParts()
    p.feed(page)
    p.close()
    return p


def assert_self_contained(page: str) -> PageParts:
    p = parts(page)
    fetched = [link for link in p.links if EXTERNAL.match(link[2]) or link[1].startswith("on")]
    assert not fetched, fetched
    for tag, name, value in p.links:
        assert value.startswith(("#", "data:")), (tag, name, value[:80])
    for css in p.styles:
        assert not CSS_FETCH.search(css), css[:200]
    assert "script" not in p.tags
    return p


@pytest.fixture(scope="module")
def page(rehearsal_recording: Path) -> str:  # noqa: F811
    return report_html(summarize_recording(rehearsal_recording))


def test_report_is_self_contained_with_every_chart(page: str) -> None:
    p = assert_self_contained(page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # Three charts, each an inline <svg> with its own ids.
    assert p.tags.count("svg") == 3
    for chart in ("joins", "timeline", "workload"):
        assert f'id="{chart}"' in page
    text = " ".join(p.text)
    for heading in ("Time to join", "Timeline per cloud", "Step spread", "Faults", "Failures"):
        assert heading in text
    for target in ("vexxhost/node-2", "canonical/pod-1", "suse"):
        assert target in text
    assert "quota exceeded" in text


HOSTILE = '<script>alert("x")</script><img src="https://evil.example/x.png">'


def _hostile_show() -> list[ev.Event]:
    label = f"$\\frac{{1}}{{0}}$ {HOSTILE} & co"
    clouds = (ev.CloudInfo(name="a", label=label, steps=("boot",)),)
    return [
        ev.RunStarted(run_id="xr-1", demo=HOSTILE, simulated=False, clouds=clouds, t=0.0),
        ev.CloudStarted(cloud="a", t=0.0),
        ev.StepStarted(cloud="a", step="boot", t=1.0),
        ev.StepFailed(
            cloud="a", step="boot", error=f"boom\n{HOSTILE}\x1b[31m", duration_s=2, t=3.0
        ),
        ev.KillIssued(target="a", target_kind="cloud", t=4.0),
        ev.KillFailed(target="a", error=HOSTILE, t=4.5),
    ]


def test_outside_text_is_escaped_everywhere() -> None:
    page = report_html(summarize(_hostile_show()), shots=[(HOSTILE, "<svg></svg>")])
    p = assert_self_contained(page)
    assert "script" not in p.tags
    assert p.tags.count("img") == 1  # the screenshot, never the hostile one
    assert "evil.example" not in "".join(v for _, _, v in p.links)
    assert HOSTILE in " ".join(p.text)  # shown as text, exactly
    assert "<script>" not in page


def test_compare_puts_two_runs_side_by_side(rehearsal_recording: Path) -> None:  # noqa: F811
    a = summarize_recording(rehearsal_recording)
    b = summarize(_hostile_show())
    page = compare_html(a, b)
    p = assert_self_contained(page)
    assert p.tags.count("svg") == 6
    assert a.run_id in page and b.run_id in page
    text = " ".join(p.text)
    assert "Time to join, A and B" in text and "Steps, A and B" in text
    # Chart ids of the two runs never collide.
    ids = re.findall(r'<svg[^>]* id="([^"]+)"', page)
    assert len(ids) == len(set(ids)) == 6


def test_report_command_writes_the_file(rehearsal_recording: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "r.html"
    args = [sys.executable, "-m", "tui", "report", str(rehearsal_recording), "--html", str(out),
            "--no-screenshots", "--compare", str(rehearsal_recording)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert_self_contained(out.read_text())


def test_run_writes_the_report_at_the_end(rehearsal_recording: Path) -> None:  # noqa: F811
    page = run_html_of(rehearsal_recording).read_text()
    p = assert_self_contained(page)
    assert p.tags.count("svg") == 3
    assert p.tags.count("img") >= 2  # pictures of the room: at the faults and at the end
    assert summarize_recording(rehearsal_recording).run_id in page


def test_a_damaged_recording_reports_what_it_can_and_says_so(
    rehearsal_recording: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    damaged = tmp_path / "events.jsonl"
    damaged.write_bytes(rehearsal_recording.read_bytes() + b'{"kind": "from_the_future"}\n{torn')
    args = [sys.executable, "-m", "tui", "report", str(damaged), "--no-screenshots"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "2 events skipped" in done.stderr
    page = (tmp_path / "report.html").read_text()
    assert "2 events skipped" in page
    assert_self_contained(page)


def test_readme_picture_is_made_from_a_seeded_rehearsal(tmp_path: Path) -> None:
    picture = tmp_path / "room.svg"
    args = [sys.executable, "-m", "tui", "report", "--readme-picture", str(picture)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    svg = picture.read_text()
    assert svg.startswith("<svg") and "REHEARSAL" in svg.replace("&#160;", " ")
    assert "@font-face" not in svg and "cdnjs" not in svg


@pytest.mark.parametrize(
    ("source", "says"),
    [("xr-20990101-000000-0000", "no run"), ("/nonexistent/events.jsonl", "no such file")],
)
def test_report_command_bad_source_is_one_line(tmp_path: Path, source: str, says: str) -> None:
    args = [sys.executable, "-m", "tui", "report", source, "--state-dir", str(tmp_path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
