"""``crossroom``: the control room (no subcommand) and its headless subcommands.

Each subcommand lives in its own module under ``tui/commands/`` with ``add_parser`` and
``run``; this file only dispatches. Textual is imported only when a screen is opened, so
headless commands start fast and run where no terminal is attached.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Sequence

from engine.library_logs import route_library_logs
from engine.terminal_text import safe_standard_streams
from tui.frame_pace import allow_fast_frames

SUBCOMMANDS: tuple[str, ...] = (
    "run",
    "validate",
    "check",
    "teardown",
    "sweep",
    "replay",
    "report",
    "attach",
    "ls",
    "stop",
    "serve",
)
"""Modules in ``tui.commands``; each adds its parser to the ``crossroom`` command line."""


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``crossroom`` parser; only the subcommand named in ``argv`` is imported (all of
    them for ``--help``), so opening the screen does not pay for every command's imports."""
    parser = argparse.ArgumentParser(
        prog="crossroom",
        description=(
            "A terminal control room for the multi-cloud CockroachDB interop demo. "
            "With no subcommand it opens the screen: on the built-in rehearsal fleet, "
            "or on the clouds of --config."
        ),
    )
    parser.add_argument("--version", action=VersionAction)
    from tui.commands import screen

    screen.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = [a for a in argv if a in SUBCOMMANDS][:1]
    for name in named or (SUBCOMMANDS if _wants_help(argv) else ()):
        module = importlib.import_module(f"tui.commands.{name}")
        module.add_parser(sub)
    return parser


class VersionAction(argparse.Action):
    """``--version``, read from the installed distribution only when asked: reading the
    package metadata costs ~20 ms, which every start of the screen would pay otherwise."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the version and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(f"crossroom {_version()}")
        parser.exit()


def _version() -> str:
    """The installed distribution's version (one source of truth: pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crossroom")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _wants_help(argv: Sequence[str]) -> bool:
    return any(a in ("-h", "--help") for a in argv) or any(
        not a.startswith("-") and a not in SUBCOMMANDS for a in argv[:1]
    )


def main(argv: Sequence[str] | None = None) -> int:
    allow_fast_frames()  # before anything imports Textual (a key's frame is not held back)
    # The engine reports through events; its loggers must never write over the screen.
    logging.getLogger("engine").addHandler(logging.NullHandler())
    logging.getLogger("engine").propagate = False
    # Libraries' loggers (keystoneauth prints auth URLs with their credentials) go
    # through the same redaction as our own text.
    route_library_logs()
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    # SIGTERM (e.g. ``teardown --stop``) unwinds like Ctrl-C: the room closes, the recording
    # is flushed and the run's lock is let go, instead of dying mid-write.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.command is None:
            from tui.commands import screen

            return int(screen.run(args))
        # Every printed line of a headless command is outside text made safe: no secret,
        # no control sequence, whoever prints it. (The screen writes to its own stream.)
        with safe_standard_streams():
            return int(args.func(args))
    except KeyboardInterrupt:
        print("crossroom: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
