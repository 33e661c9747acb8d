"""Where a command's demo comes from: ``--config FILE`` or the built-in rehearsal fleet.

Bad input becomes the loader's one-line errors on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ConfigError
from engine.sim import DEFAULT_SPEED
from engine.terminal_text import shown

if TYPE_CHECKING:
    from engine.config.model import DemoConfig

EXIT_BAD_INPUT = 2


def add_demo_options(parser: argparse.ArgumentParser) -> None:
    """The options every show-running command shares (the screen and ``run``)."""
    parser.add_argument("--config", metavar="FILE", help="demo file (default: the rehearsal fleet)")
    parser.add_argument("--seed", type=int, default=0, help="rehearsal random seed (default 0)")
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"rehearsal demo seconds per real second (default {DEFAULT_SPEED:g})",
    )
    parser.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="run-sheet file (the scenario: mapping of a demo file) replacing the demo's own",
    )
    parser.add_argument(
        "--paced",
        action="store_true",
        help="the presenter fires each cue of the run-sheet (space), whatever its pace says",
    )


class BadInput(Exception):
    """Raised with lines already fit to print; the command exits 2."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load(config: str | None, only: str | None = None, fail: list[str] | None = None) -> DemoConfig:
    """The demo (imported here: the screen's start-up skips it for the built-in fleet)."""
    from engine.sim.fleet import rehearsal_demo

    if config:
        from engine.config.loader import load_demo

        try:
            demo = load_demo(Path(config))
        except ConfigError as exc:
            raise BadInput(exc.lines) from None
    else:
        demo = rehearsal_demo()
    if only:
        names = tuple(n.strip() for n in only.split(",") if n.strip())
        try:
            demo = demo.only(names)
        except KeyError as exc:
            known = ", ".join(c.name for c in demo.clouds)
            raise BadInput([f"--only: no cloud named {exc.args[0]} (clouds: {known})"]) from None
    for spec in fail or []:
        demo = _with_failure(demo, spec)
    return demo


def with_scenario(demo: DemoConfig, path: str | None) -> DemoConfig:
    """The demo with the run-sheet of ``--scenario FILE`` (checked against its clouds)."""
    if not path:
        return demo
    from engine.config.scenario import load_scenario_file

    try:
        return replace(demo, scenario=load_scenario_file(Path(path), demo))
    except ConfigError as exc:
        raise BadInput(exc.lines) from None


def _with_failure(demo: DemoConfig, spec: str) -> DemoConfig:
    """``--fail CLOUD:STEP[:message]`` switches on a hard failure in a simulated cloud."""
    from engine.config.model import SimConfig
    from engine.plan import STEPS

    cloud, _, rest = spec.partition(":")
    step, _, message = rest.partition(":")
    if step not in STEPS:
        raise BadInput([f"--fail {spec}: step must be one of {', '.join(STEPS)}"])
    try:
        target = demo.cloud(cloud)
    except KeyError:
        raise BadInput([f"--fail {spec}: no cloud named {cloud}"]) from None
    if target.provider != "sim":
        raise BadInput([f"--fail {spec}: only simulated clouds take injected failures"])
    sim = replace(target.sim, fail_step=step, fail_error=message or SimConfig().fail_error)
    clouds = tuple(replace(c, sim=sim) if c.name == cloud else c for c in demo.clouds)
    return replace(demo, clouds=clouds)


def report_bad_input(exc: BadInput) -> int:
    # A config error quotes the demo file: outside text, printed safe here too, since the
    # screen command (unlike the headless ones) does not wrap the standard streams.
    for line in exc.lines:
        print(shown(line, limit=len(line)), file=sys.stderr)
    return EXIT_BAD_INPUT
