"""``crossroom report RUN_ID|events.jsonl``: the post-show report as one offline HTML file.

The facts come from the recording alone (``engine.show_summary``), the page from
``engine.report_html``; screenshots of the room are made by replaying the recording into
the screen headless (``tui.screenshots``), unless ``--no-screenshots``. ``--compare`` puts
a second run beside the first. ``--readme-picture FILE`` instead rehearses a seeded show
and writes the picture of the room the README shows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.recording import BadRecording
from engine.replay import check_recording
from engine.rundir import UnsafeName, state_dir, valid_run_id
from engine.show_summary import ShowSummary, summarize_recording
from tui.commands.demo_source import EXIT_BAD_INPUT
from tui.commands.option_checks import output_file_problem, state_dir_problem

REPORT_NAME = "report.html"
"""The report's file name beside its recording when ``--html`` is not given."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="write a run's post-show report as one self-contained HTML file",
        description=(
            "Build the post-show report of a run (its run id, or its events.jsonl): joins "
            "and the time-to-join leaderboard, a timeline per cloud, each step's spread "
            "across clouds, every fault with the cluster's reaction, the workload with each "
            "fault shaded, failures, verdicts and screenshots of the room. One HTML file "
            "that opens offline. Exit 0 when written, 1 when the recording had unreadable "
            "lines (the report says which), 2 on bad input."
        ),
    )
    p.add_argument("source", nargs="?", metavar="RUN_ID|FILE", help="a run id or a recording")
    p.add_argument("--html", metavar="FILE", help=f"where to write it (default: {REPORT_NAME} "
                   "beside the recording)")  # fmt: skip
    p.add_argument("--compare", metavar="RUN_ID|FILE", help="a second run, shown side by side")
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    p.add_argument(
        "--no-screenshots", action="store_true", help="leave out the pictures of the room"
    )
    p.add_argument(
        "--readme-picture",
        metavar="FILE",
        help="rehearse a seeded show and write the README's picture of the room (SVG)",
    )
    p.set_defaults(func=run)


def recording_of(source: str, base: str | None) -> tuple[Path | None, str]:
    """The recording a RUN_ID or FILE names, or ``None`` and the one-line reason."""
    path = Path(source).expanduser()
    if not path.exists() and valid_run_id(source):
        try:
            path = state_dir(base) / "runs" / source / "events.jsonl"
        except UnsafeName as exc:
            return None, str(exc)
        if not path.exists():
            return None, f"{source}: no run {source} under {state_dir(base) / 'runs'}"
    problem = check_recording(path)
    return (None, problem) if problem else (path, "")


def _summary(path: Path) -> tuple[ShowSummary | None, str]:
    try:
        return summarize_recording(path), ""
    except BadRecording as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"{path}: {exc.strerror or exc}"


def _shots(path: Path, enabled: bool) -> list[tuple[str, str]]:
    """Pictures of the room; if the screen cannot make them, the report goes without (and
    says why in one line) rather than not being written at all."""
    if not enabled:
        return []
    from tui.screenshots import recording_screenshots

    try:
        return recording_screenshots(path)
    except Exception as exc:  # the report's facts matter more than its pictures
        print(f"crossroom: {path}: no screenshots: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []


def run(args: argparse.Namespace) -> int:
    problems = [state_dir_problem(args.state_dir)]
    for option in ("html", "readme_picture"):
        value = getattr(args, option)
        if value:
            problems.append(output_file_problem(value, f"--{option.replace('_', '-')}"))
    if args.readme_picture:
        if any(problems):
            return _bad([p for p in problems if p])
        from tui.screenshots import write_readme_picture

        write_readme_picture(Path(args.readme_picture).expanduser())
        print(f"wrote {args.readme_picture}")
        return 0
    if not args.source:
        problems.append("report: name a run id or a recording (events.jsonl)")
    if any(problems):
        return _bad([p for p in problems if p])
    path, problem = recording_of(args.source, args.state_dir)
    other: Path | None = None
    if path is not None and args.compare:
        other, problem = recording_of(args.compare, args.state_dir)
    if path is None or (args.compare and other is None):
        return _bad([problem])
    return write_report(path, other, args.html, not args.no_screenshots)


def write_report(path: Path, other: Path | None, html: str | None, screenshots: bool) -> int:
    from engine.report_html import compare_html, report_html

    summary, problem = _summary(path)
    second, problem_b = _summary(other) if other is not None else (None, "")
    if summary is None or (other is not None and second is None):
        return _bad([problem or problem_b])
    if second is not None and other is not None:
        page = compare_html(summary, second, _shots(path, screenshots), _shots(other, screenshots))
    else:
        page = report_html(summary, _shots(path, screenshots))
    target = Path(html).expanduser() if html else path.parent / REPORT_NAME
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"--html {target}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {target}")
    skipped = [s for s in (summary, second) if s is not None and s.skipped]
    for s in skipped:
        print(f"crossroom: {s.run_id}: {s.skipped}", file=sys.stderr)
    return 1 if skipped else 0


def _bad(problems: list[str]) -> int:
    for line in problems:
        print(line, file=sys.stderr)
    return EXIT_BAD_INPUT
