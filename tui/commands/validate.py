"""``crossroom validate FILE``: check a demo file before the show, touching no cloud.

Exit 0 with a one-line summary on stdout, or exit 2 with every problem on stderr, one
``file:line: field: problem`` line each, so an editor or grep can jump to them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.config.loader import load_demo, summary
from engine.errors import ConfigError
from tui.commands.demo_source import EXIT_BAD_INPUT

EXIT_OK = 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check a demo file and print every problem with its line",
        description=(
            "Check a demo file (shape of clouds.example.yaml) without contacting any cloud. "
            "Prints a one-line summary and exits 0 when it is fine; otherwise prints every "
            "problem as FILE:LINE: FIELD: PROBLEM on stderr and exits 2. Credentials are not "
            "checked here: they live in your clouds.yaml."
        ),
    )
    p.add_argument("file", metavar="FILE", help="the demo file, e.g. clouds.example.yaml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_demo(Path(args.file))
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary(config))
    return EXIT_OK
