"""``crossroom teardown --run RUN_ID``: delete everything a run's ledger lists.

Works after a crash: the ledger is on disk, and the run keeps a copy of its demo file so
the same clouds are reached. Exit 0 when nothing is left behind, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import anyio

from engine.commands import RoomOptions
from engine.config.model import DemoConfig
from engine.headless import HeadlessPrinter
from engine.room import open_room
from engine.rundir import RunDir, state_dir, valid_run_id
from tui.commands.demo_source import BadInput, load, report_bad_input
from tui.commands.option_checks import folder_problem


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "teardown",
        help="delete everything a run created (from its ledger)",
        description=(
            "Delete, newest first, every resource in the run's ledger and wait until each "
            "is gone. Safe to run twice. Exit 0 when nothing is left, 1 when something "
            "could not be deleted (listed), 2 on bad input."
        ),
    )
    p.add_argument("--run", required=True, metavar="RUN_ID", help="the run to tear down")
    p.add_argument(
        "--config", metavar="FILE", help="demo file (default: the copy kept with the run)"
    )
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not valid_run_id(args.run):
        return report_bad_input(BadInput([f"--run {args.run}: not a run id"]))
    problem = folder_problem(args.state_dir, "--state-dir") if args.state_dir else None
    if problem:
        return report_bad_input(BadInput([problem]))
    base = state_dir(args.state_dir)
    try:
        run_dir = RunDir.existing(base, args.run)
        config = args.config or (str(run_dir.config_copy) if run_dir.config_copy.exists() else None)
        demo = load(config)
    except FileNotFoundError as exc:
        return report_bad_input(BadInput([str(exc)]))
    except BadInput as exc:
        return report_bad_input(exc)
    options = RoomOptions(run_id=args.run, state_dir=Path(base))
    return anyio.run(_teardown, demo, options)


async def _teardown(demo: DemoConfig, options: RoomOptions) -> int:
    async with open_room(demo, options) as room:
        room.subscribe(HeadlessPrinter(), replay=False)
        await room.teardown()
        left = [line for c in room.state.cloud_list() for line in c.leftovers]
    return 1 if left else 0
