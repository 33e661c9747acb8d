"""The report's charts, drawn by matplotlib and written as self-contained SVG strings.

Figures are built on ``matplotlib.figure.Figure`` with the SVG canvas, never through
``pyplot``: no global figure registry, no GUI backend, safe in a worker thread. Text is
drawn as paths (``svg.fonttype: path``), so a chart needs no font from anywhere, and ids
are salted with the chart's name, so several charts inline in one page never share an id.
Labels come from the recording: they are data, so mathtext (``$...$``) is turned off
(``text.parse_math``) while a figure is written, and each label is capped in length.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from engine.show_summary import FaultSummary, ShowSummary

LABEL_CHARS = 40
"""Longest label drawn in a chart (the tables beside it carry the full text)."""
FAILED_COLOUR = "#d62728"
FAULT_COLOUR = "#ff7f0e"
STEP_COLOURS = (
    "#4e79a7", "#59a14f", "#9c755f", "#f28e2b", "#edc948", "#bab0ac",
    "#b07aa1", "#76b7b2", "#ff9da7", "#e15759", "#86bcb6", "#8cd17d",
)  # fmt: skip
"""Tableau's 10 colours and two more, one per step of the plan (in plan order)."""
_PROLOGUE = re.compile(r"\A\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?")


def plain(text: str, limit: int = LABEL_CHARS) -> str:
    """Text from the recording as a chart label: one line, capped."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


def figure_svg(size: tuple[float, float], name: str, draw: Callable[[Figure], None]) -> str:
    """A figure of ``size`` inches drawn by ``draw``, as an ``<svg>`` element for HTML.

    The settings hold while the figure is built and written: labels made with mathtext
    turned off stay plain text, whatever dollar signs they hold."""
    out = io.StringIO()
    with matplotlib.rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": f"crossroom-{name}",
            "svg.id": name,
            "text.parse_math": False,
        }
    ):
        fig = Figure(figsize=size)
        draw(fig)
        fig.savefig(
            out,
            format="svg",
            bbox_inches="tight",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    return _PROLOGUE.sub("", out.getvalue(), count=1)


def _step_colours(summary: ShowSummary) -> dict[str, str]:
    names = [s.step for s in summary.spreads]
    for c in summary.clouds:
        names.extend(sp.step for sp in c.spans if sp.step not in names)
    return {n: STEP_COLOURS[i % len(STEP_COLOURS)] for i, n in enumerate(dict.fromkeys(names))}


def timeline_svg(summary: ShowSummary, name: str = "timeline") -> str:
    """A row per cloud, a bar per step attempt; failed steps red, faults as lines."""
    clouds = summary.clouds
    size = (10.0, 1.2 + 0.32 * max(1, len(clouds)))
    return figure_svg(size, name, lambda fig: _timeline(fig, summary))


def _timeline(fig: Figure, summary: ShowSummary) -> None:
    clouds = summary.clouds
    ax = fig.add_subplot()
    colours = _step_colours(summary)
    end = max(summary.end_t, summary.start_t + 1.0)
    for row, c in enumerate(clouds):
        for sp in c.spans:
            stop = sp.end_t if sp.end_t is not None else end
            failed = sp.status in ("failed", "cancelled")
            ax.broken_barh(
                [(sp.start_t, max(stop - sp.start_t, end / 2000))],
                (row - 0.38, 0.76),
                facecolors=FAILED_COLOUR if failed else colours.get(sp.step, "#999999"),
                hatch="//" if sp.status == "running" else None,
                edgecolor="white",
                linewidth=0.3,
            )
    for f in summary.faults:
        ax.axvline(f.issued_t, color=FAULT_COLOUR, linewidth=1, linestyle="--")
    ax.set_yticks(range(len(clouds)), [plain(c.label or c.name) for c in clouds])
    ax.set_ylim(len(clouds) - 0.5, -0.5)
    ax.set_xlim(summary.start_t, end)
    ax.set_xlabel("demo seconds")
    handles = [Patch(color=colour, label=plain(step)) for step, colour in colours.items()]
    handles.append(Patch(color=FAILED_COLOUR, label="failed"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)  # fmt: skip
    ax.set_title("Timeline per cloud (a bar per step)")


def join_svg(summary: ShowSummary, name: str = "joins") -> str:
    """Time to join per cloud, fastest on top; clouds that did not join say so."""
    size = (10.0, 1.0 + 0.3 * max(1, len(summary.leaderboard)))
    return figure_svg(size, name, lambda fig: _joins(fig, summary))


def _joins(fig: Figure, summary: ShowSummary) -> None:
    board = summary.leaderboard
    ax = fig.add_subplot()
    values = [c.time_to_join_s or 0.0 for c in board]
    colours = ["#4e79a7" if c.status == "joined" else FAILED_COLOUR for c in board]
    ax.barh(range(len(board)), values, color=colours)
    for row, c in enumerate(board):
        text = f"{c.time_to_join_s:.1f} s" if c.time_to_join_s is not None else plain(c.status)
        ax.text(values[row], row, f" {text}", va="center", fontsize="small")
    ax.set_yticks(range(len(board)), [plain(c.label or c.name) for c in board])
    ax.set_ylim(len(board) - 0.5, -0.5)
    ax.set_xlabel("seconds to join the cluster")
    ax.set_title("Time to join (leaderboard)")


def _shade_faults(axes: Sequence[Axes], faults: Sequence[FaultSummary], end: float) -> None:
    """Jepsen's way: each fault's active time shaded on every panel, labelled on the top."""
    for i, f in enumerate(faults, start=1):
        stop = f.until_t if f.until_t is not None else end
        for ax in axes:
            ax.axvspan(f.issued_t, max(stop, f.issued_t + end / 1000), color=FAULT_COLOUR,
                       alpha=0.18, linewidth=0)  # fmt: skip
        top = axes[0]
        top.text(
            f.issued_t,
            1.02 + 0.14 * ((i - 1) % 3),
            f"{i}. {plain(f.kind, 12)} {plain(f.target, 28)}",
            transform=top.get_xaxis_transform(),
            fontsize="x-small",
            color="#a04000",
        )


def workload_svg(summary: ShowSummary, name: str = "workload") -> str:
    """ops/s, p99, errors/s and unhealthy ranges over time, with each fault shaded."""
    return figure_svg((10.0, 8.5), name, lambda fig: _workload(fig, summary))


def _workload(fig: Figure, summary: ShowSummary) -> None:
    axes = fig.subplots(4, 1, sharex=True)
    points = summary.workload
    ts = [p.t for p in points]
    series = (
        ("ops/s", [p.ops_per_s for p in points], "#4e79a7"),
        ("p99 latency (ms)", [p.p99_ms for p in points], "#9c755f"),
        ("errors/s", [p.errors_per_s for p in points], FAILED_COLOUR),
    )
    for ax, (label, values, colour) in zip(axes, series, strict=False):
        ax.plot(ts, values, color=colour, linewidth=1)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    ranges = axes[3]
    ranges.plot(ts, [p.under_replicated for p in points], color="#f28e2b", label="under-replicated")
    ranges.plot(ts, [p.unavailable for p in points], color=FAILED_COLOUR, label="unavailable")
    ranges.set_ylabel("ranges")
    ranges.set_ylim(bottom=0)
    ranges.grid(True, alpha=0.3)
    ranges.legend(loc="upper right", fontsize="small")
    ranges.set_xlabel("demo seconds")
    start = ts[0] if ts else summary.start_t
    end = max(summary.end_t, start + 1.0)
    for ax in axes:
        ax.set_xlim(start, end)
    if not points:
        axes[0].text(0.5, 0.5, "no workload samples in this recording", ha="center",
                     transform=axes[0].transAxes)  # fmt: skip
    _shade_faults(axes, summary.faults, end)
    fig.suptitle("The workload while faults were active (shaded)", y=1.0)


def charts(summary: ShowSummary, prefix: str = "") -> dict[str, str]:
    """Every chart of one run's report, by name (``prefix`` keeps two runs' ids apart)."""
    return {
        "joins": join_svg(summary, f"{prefix}joins"),
        "timeline": timeline_svg(summary, f"{prefix}timeline"),
        "workload": workload_svg(summary, f"{prefix}workload"),
    }
