"""The post-show report as one HTML file that opens anywhere, offline.

Everything is inside the file: CSS inline, charts as inline SVG (``engine.report_charts``),
screenshots as ``data:`` images. The page carries its own Content-Security-Policy
(``default-src 'none'``), so even a browser that followed a stray reference would fetch
nothing. Every string from the recording (cloud labels, errors, targets, verdicts) is
HTML-escaped: it is data, never markup.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from engine.report_charts import charts
from engine.show_summary import FaultSummary, ShowSummary, StepSpread

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Nothing may be fetched: images only from ``data:`` URLs, styles only inline."""
_EXTERNAL_FONT = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1300px;
       color: #222; background: #fff; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
.sub { color: #555; } .pass { color: #1a7f37; font-weight: 600; }
.fail { color: #b42318; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #e5e5e5; text-align: left; }
td.n, th.n { text-align: right; }
.chart svg { max-width: 100%; height: auto; }
.shots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
.shots figure { margin: 0; } .shots img { width: 100%; border: 1px solid #ccc; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
.side > div { min-width: 0; overflow-x: auto; } .tiles { display: flex; gap: 2em; flex-wrap: wrap; }
.tile b { display: block; font-size: 1.6em; }
"""


def _e(text: object) -> str:
    """Escaped for HTML, with control characters (a terminal's escapes) made visible."""
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in str(text))
    return escape(shown, quote=True)


def _s(value: float | None, digits: int = 1) -> str:
    return "&ndash;" if value is None else f"{value:.{digits}f}"


def _after(t: float | None, at: float) -> str:
    return "&ndash;" if t is None else f"+{t - at:.1f}"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """Cells are already escaped; ``numeric`` columns are right-aligned."""

    def cls(i: int) -> str:
        return ' class="n"' if i in numeric else ""

    out = ["<table><thead><tr>"]
    out += [f"<th{cls(i)}>{_e(h)}</th>" for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def without_web_fonts(svg: str) -> str:
    """``svg`` without its ``@font-face`` rules: Textual's screenshots name a web font on a
    CDN; a viewer then uses a local monospace font instead of fetching one."""
    return _EXTERNAL_FONT.sub("", svg)


def svg_image(svg: str, alt: str) -> str:
    """An SVG (a screenshot) as a ``data:`` image: its styles and ids stay its own."""
    data = base64.b64encode(without_web_fonts(svg).encode()).decode()
    return f'<img alt="{_e(alt)}" src="data:image/svg+xml;base64,{data}">'


# --- sections -----------------------------------------------------------------------------------


def _when(s: ShowSummary) -> str:
    if s.started_wall is None:
        return ""
    return datetime.fromtimestamp(s.started_wall, UTC).strftime("%Y-%m-%d %H:%M UTC")


def summary_section(s: ShowSummary) -> str:
    mode = f"rehearsal (simulated, speed x{s.speed:g}" + (
        f", seed {s.seed})" if s.seed is not None else ")"
    )
    failed = [c for c in s.clouds if c.status != "joined"]
    passed = sum(v.passed for v in s.verdicts)
    tiles = [
        ("clouds joined", f"{len(s.joined)} / {len(s.clouds)}"),
        ("faults", str(len(s.faults))),
        ("failures", str(len(s.failures))),
        ("show length", f"{s.end_t - s.start_t:.0f} s"),
    ]
    if s.verdicts:
        tiles.append(("verdicts passed", f"{passed} / {len(s.verdicts)}"))
    out = [
        f"<p class='sub'>run {_e(s.run_id)} · {_e(mode if s.simulated else 'live clouds')}"
        f" · {_e(_when(s))}</p>",
        "<div class='tiles'>",
        *(f"<div class='tile'><b>{_e(v)}</b>{_e(k)}</div>" for k, v in tiles),
        "</div>",
    ]
    if failed:
        out.append(
            "<p class='fail'>Did not join: "
            + ", ".join(f"{_e(c.label)} ({_e(c.status)})" for c in failed)
            + "</p>"
        )
    if s.skipped:
        out.append(f"<p class='sub'>Recording: {_e(s.skipped)}</p>")
    return "".join(out)


def leaderboard_section(s: ShowSummary) -> str:
    rows = [
        (
            str(i),
            _e(c.label),
            _e(c.name),
            _e(c.status),
            _s(c.time_to_join_s),
            _e(c.error),
        )
        for i, c in enumerate(s.leaderboard, start=1)
    ]
    return _table(("#", "cloud", "name", "status", "join (s)", "error"), rows, {0, 4})


def spread_section(spreads: Sequence[StepSpread]) -> str:
    rows = [
        (
            _e(sp.step),
            str(sp.count),
            _s(sp.minimum),
            _s(sp.median),
            _s(sp.p90),
            _s(sp.maximum),
            str(sp.failures),
        )
        for sp in spreads
    ]
    head = ("step", "clouds", "min (s)", "median (s)", "p90 (s)", "max (s)", "failures")
    return _table(head, rows, {1, 2, 3, 4, 5, 6})


def _fault_row(i: int, f: FaultSummary) -> tuple[str, ...]:
    at = f.issued_t
    return (
        str(i),
        _e(f.target),
        _e(f.kind),
        _s(at),
        _after(f.probe_down_t, at),
        _after(f.suspect_t, at),
        _after(f.dead_t, at),
        _after(f.back_t, at),
        _after(f.healed_t, at),
        _after(f.revived_t, at),
        _e(f.error),
    )


def faults_section(faults: Sequence[FaultSummary]) -> str:
    if not faults:
        return "<p>No faults in this show.</p>"
    head = (
        "#", "target", "kind", "issued (s)", "probe down", "suspect", "dead", "back",
        "healed", "revived", "error",
    )  # fmt: skip
    rows = [_fault_row(i, f) for i, f in enumerate(faults, start=1)]
    return (
        "<p class='sub'>Issued in demo seconds since the show began; the rest in seconds "
        "after the fault was issued (&ndash; not seen).</p>"
        + _table(head, rows, {0, 3, 4, 5, 6, 7, 8, 9})
    )


def failures_section(s: ShowSummary) -> str:
    if not s.failures:
        return "<p>No step failed.</p>"
    rows = [(_s(f.t), _e(f.cloud), _e(f.step), _e(f.error)) for f in s.failures]
    return _table(("at (s)", "cloud", "step", "error"), rows, {0})


def verdicts_section(s: ShowSummary) -> str:
    if not s.verdicts:
        return "<p>No expectations were set for this show.</p>"
    rows = [
        (
            "<span class='pass'>pass</span>" if v.passed else "<span class='fail'>FAIL</span>",
            _e(v.name),
            _e(v.scope),
            _e(v.measured),
            _e(v.expected),
        )
        for v in s.verdicts
    ]
    return _table(("verdict", "expectation", "scope", "measured", "expected"), rows, set())


def shots_section(shots: Sequence[tuple[str, str]]) -> str:
    if not shots:
        return "<p>No screenshots were made for this report.</p>"
    figures = (
        f"<figure>{svg_image(svg, caption)}<figcaption>{_e(caption)}</figcaption></figure>"
        for caption, svg in shots
    )
    return "<div class='shots'>" + "".join(figures) + "</div>"


def run_sections(
    s: ShowSummary, shots: Sequence[tuple[str, str]] = (), prefix: str = ""
) -> list[tuple[str, str]]:
    """One run's report as (title, HTML) sections, in reading order."""
    drawn = charts(s, prefix)
    return [
        ("Summary", summary_section(s)),
        ("Verdicts", verdicts_section(s)),
        ("Time to join", f"<div class='chart'>{drawn['joins']}</div>" + leaderboard_section(s)),
        ("Timeline per cloud", f"<div class='chart'>{drawn['timeline']}</div>"),
        ("Step spread across clouds", spread_section(s.spreads)),
        ("Faults", faults_section(s.faults)),
        ("Workload during the faults", f"<div class='chart'>{drawn['workload']}</div>"),
        ("Failures", failures_section(s)),
        ("The room", shots_section(shots)),
    ]


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def report_html(s: ShowSummary, shots: Sequence[tuple[str, str]] = ()) -> str:
    """The whole report of one run. ``shots`` are (caption, SVG) screenshots of the room."""
    body = [f"<h1>crossroom · {_e(s.demo or 'show')}</h1>"]
    for title, section in run_sections(s, shots):
        body.append(f"<section><h2>{_e(title)}</h2>{section}</section>")
    return _page(f"crossroom report {s.run_id}", "".join(body))


def _join_delta(a: ShowSummary, b: ShowSummary) -> str:
    """Time to join per cloud in both runs, matched by cloud name."""
    clouds_a = {c.name: c for c in a.clouds}
    clouds_b = {c.name: c for c in b.clouds}
    rows = []
    for name in dict.fromkeys([*clouds_a, *clouds_b]):
        ca, cb = clouds_a.get(name), clouds_b.get(name)
        ta = ca.time_to_join_s if ca is not None else None
        tb = cb.time_to_join_s if cb is not None else None
        delta = "&ndash;" if ta is None or tb is None else f"{tb - ta:+.1f}"
        label = ca.label if ca is not None else cb.label if cb is not None else name
        rows.append((_e(label), _s(ta), _s(tb), delta))
    return _table(("cloud", "A join (s)", "B join (s)", "B - A (s)"), rows, {1, 2, 3})


def _spread_delta(a: ShowSummary, b: ShowSummary) -> str:
    """Each step's median and p90 across clouds in both runs, matched by step name."""
    spreads_a = {sp.step: sp for sp in a.spreads}
    spreads_b = {sp.step: sp for sp in b.spreads}
    rows = []
    for step in dict.fromkeys([*spreads_a, *spreads_b]):
        sa, sb = spreads_a.get(step), spreads_b.get(step)
        ma = sa.median if sa is not None else None
        mb = sb.median if sb is not None else None
        delta = "&ndash;" if ma is None or mb is None else f"{mb - ma:+.1f}"
        rows.append(
            (
                _e(step),
                _s(ma),
                _s(mb),
                delta,
                _s(sa.p90 if sa is not None else None),
                _s(sb.p90 if sb is not None else None),
                f"{sa.failures if sa else 0} / {sb.failures if sb else 0}",
            )
        )
    head = ("step", "A median (s)", "B median (s)", "B - A (s)", "A p90", "B p90", "failures A / B")
    return _table(head, rows, {1, 2, 3, 4, 5, 6})


def compare_html(
    a: ShowSummary,
    b: ShowSummary,
    shots_a: Sequence[tuple[str, str]] = (),
    shots_b: Sequence[tuple[str, str]] = (),
) -> str:
    """Two runs side by side (rehearsal against live, last venue against this one)."""
    body = [
        "<h1>crossroom · two shows side by side</h1>",
        f"<p class='sub'>A: {_e(a.demo)} run {_e(a.run_id)} · B: {_e(b.demo)} run "
        f"{_e(b.run_id)}</p>",
        f"<section><h2>Time to join, A and B</h2>{_join_delta(a, b)}</section>",
        f"<section><h2>Steps, A and B</h2>{_spread_delta(a, b)}</section>",
    ]
    left = run_sections(a, shots_a, "a-")
    right = run_sections(b, shots_b, "b-")
    for (title, one), (_, two) in zip(left, right, strict=True):
        body.append(
            f"<section><h2>{_e(title)}</h2><div class='side'><div><h3>A · {_e(a.run_id)}</h3>"
            f"{one}</div><div><h3>B · {_e(b.run_id)}</h3>{two}</div></div></section>"
        )
    return _page(f"crossroom: {a.run_id} and {b.run_id}", "".join(body))
