"""``crossroom teardown --run RUN_ID``: delete everything a run's ledger lists.

Works after a crash: the ledger is on disk, and the run keeps a copy of its demo file so
the same clouds are reached. The run is locked while a show or a teardown runs it, so a
teardown of a live show is refused (naming the holder) unless ``--stop`` asks to stop the
show first; a crashed holder's lock is gone with it. Ends with one line per cloud: what
was removed, by kind, and what was left and why.

Exit 0 when nothing is left behind, 1 otherwise, 2 on bad input or a run in use.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import time
from pathlib import Path

import anyio

from engine.config.model import DemoConfig
from engine.events import Event, TeardownFinished
from engine.headless import HeadlessPrinter
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.rundir import RunBusy, RunDir, RunLock, state_dir, valid_run_id
from engine.teardown import teardown_summary
from tui.commands.demo_source import BadInput, load, report_bad_input
from tui.commands.option_checks import state_dir_problem

STOP_WAIT_S = 60.0
"""How long ``--stop`` waits for a stopped show to close its room and let go of the run."""
POLL_S = 0.2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "teardown",
        help="delete everything a run created (from its ledger)",
        description=(
            "Delete, newest first, every resource in the run's ledger and wait until each "
            "is gone, then print per cloud what was removed and what was left. Safe to run "
            "twice. A run that a show (or another teardown) is using is refused, naming its "
            "process; --stop stops that show first. Exit 0 when nothing is left, 1 when "
            "something could not be deleted (listed), 2 on bad input or a run in use."
        ),
    )
    p.add_argument("--run", required=True, metavar="RUN_ID", help="the run to tear down")
    p.add_argument(
        "--config", metavar="FILE", help="demo file (default: the copy kept with the run)"
    )
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    p.add_argument(
        "--stop",
        action="store_true",
        help="if a show is running this run, stop it (SIGTERM) and then tear down",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not valid_run_id(args.run):
        return report_bad_input(BadInput([f"--run {args.run}: not a run id"]))
    problem = state_dir_problem(args.state_dir)
    if problem:
        return report_bad_input(BadInput([problem]))
    base = state_dir(args.state_dir)
    try:
        run_dir = RunDir.existing(base, args.run)
        config = args.config or (str(run_dir.config_copy) if run_dir.config_copy.exists() else None)
        demo = load(config)
        if args.stop:
            stop_holder(run_dir)
    except FileNotFoundError as exc:
        return report_bad_input(BadInput([str(exc)]))
    except BadInput as exc:
        return report_bad_input(exc)
    except RunBusy as exc:
        return report_bad_input(BadInput([busy_line(exc)]))
    options = RoomOptions(run_id=args.run, state_dir=Path(base), purpose="crossroom teardown")
    try:
        return anyio.run(_teardown, demo, options)
    except RunBusy as exc:  # taken between the stop and the teardown
        return report_bad_input(BadInput([busy_line(exc)]))


def busy_line(exc: RunBusy) -> str:
    return f"teardown: {exc}; stop it first, or pass --stop to stop it and then tear down"


def stop_holder(run_dir: RunDir, wait_s: float = STOP_WAIT_S) -> None:
    """Ask the process holding the run to stop, and wait until it has let go.

    The pid is read from the lock file while the lock is held, so it names a live holder.
    Raises ``RunBusy`` when there is no pid to signal or the holder does not let go.
    """
    busy = _holder(run_dir)
    if busy is None:
        return
    if busy.pid is None or busy.pid == os.getpid():
        raise busy
    with contextlib.suppress(ProcessLookupError):
        os.kill(busy.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        if _holder(run_dir) is None:
            return
    raise RunBusy(busy.run_id, f"{busy.holder}, still running {wait_s:.0f}s after SIGTERM")


def _holder(run_dir: RunDir) -> RunBusy | None:
    """Who holds the run now (``None``: nobody; the lock is taken and let go at once)."""
    try:
        RunLock(run_dir, "crossroom teardown --stop").release()
    except RunBusy as busy:
        return busy
    return None


async def _teardown(demo: DemoConfig, options: RoomOptions) -> int:
    finished: list[TeardownFinished] = []

    def collect(event: Event) -> None:
        if isinstance(event, TeardownFinished):
            finished.append(event)

    async with open_room(demo, options) as room:
        room.subscribe(HeadlessPrinter(), replay=False)
        room.subscribe(collect, replay=False)
        await room.teardown()
    print_summary(str(options.run_id), finished)
    return 1 if any(e.leftovers for e in finished) else 0


def print_summary(run_id: str, finished: list[TeardownFinished]) -> None:
    """Per cloud, what was removed by kind and what was left and why."""
    print(f"\nteardown of run {run_id}:")
    idle = [e.cloud for e in finished if not e.removed and not e.leftovers]
    for event in finished:
        if event.cloud not in idle:
            print(f"  {teardown_summary(event)}")
    if idle:
        print(f"  nothing to remove on {', '.join(idle)}")
