"""``crossroom stop RUN_ID [--teardown]``: stop a running show's engine.

The engine cancels every cloud where it is (what they made stays in the ledger) and exits;
with ``--teardown`` it first deletes everything the run made, its steps printed here as
they happen, and the per-cloud summary at the end. Returns once the engine has let go of
the run, so a script can go on at once (``crossroom teardown`` and a new show both take
the run's lock).

Exit 0 when stopped (and, with ``--teardown``, nothing was left behind), 1 when no engine
runs the show, the engine refused, or something could not be deleted, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio

from engine.events import Event, TeardownFinished
from engine.headless import HeadlessPrinter
from engine.room_api import Reply
from engine.rundir import RunBusy, RunDir, RunLock, state_dir, valid_run_id
from engine.shows import running_shows
from tui.commands.option_checks import state_dir_problem
from tui.commands.teardown import print_summary

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
LET_GO_WAIT_S = 60.0
"""How long to wait for a stopped engine to close its room and let go of the run."""
POLL_S = 0.1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stop",
        help="stop a running show's engine (--teardown: delete what it made first)",
        description=(
            "Stop the engine of a running show: every cloud stops where it is and what it "
            "made stays in the run's ledger (crossroom teardown --run RUN_ID deletes it). "
            "With --teardown the engine deletes everything first. Returns once the engine "
            "has exited. Exit 0 when stopped (and nothing left), 1 otherwise, 2 on bad input."
        ),
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the show (crossroom ls lists them)")
    p.add_argument(
        "--teardown", action="store_true", help="delete everything the run made, then stop"
    )
    p.add_argument("--state-dir", metavar="DIR", help="where runs are kept")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    problem = state_dir_problem(args.state_dir)
    if problem is None and not valid_run_id(args.run_id):
        problem = f"RUN_ID: {args.run_id!r} is not a run id (crossroom ls lists them)"
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    base = state_dir(args.state_dir)
    show = next((s for s in running_shows(base) if s.run_id == args.run_id), None)
    if show is None:
        print(
            f"crossroom: no engine is running run {args.run_id} (crossroom ls lists running shows)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finished: list[TeardownFinished] = []
    reply = anyio.run(_stop, show.socket_path, args.teardown, finished)
    if not reply.accepted:
        print(f"crossroom: run {args.run_id}: {reply.reason}", file=sys.stderr)
        return EXIT_FAILED
    if not _let_go(RunDir.existing(base, args.run_id)):
        print(
            f"crossroom: the engine of run {args.run_id} was asked to stop but still holds "
            f"the run after {LET_GO_WAIT_S:g} s",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if args.teardown:
        print_summary(args.run_id, finished)
        return EXIT_FAILED if any(e.leftovers for e in finished) else 0
    print(f"crossroom: run {args.run_id} stopped")
    return 0


async def _stop(socket_path: str, teardown: bool, finished: list[TeardownFinished]) -> Reply:
    from engine.room_client import AttachRefused, attach_room

    def collect(event: Event) -> None:
        if isinstance(event, TeardownFinished):
            finished.append(event)

    try:
        async with attach_room(socket_path) as room:
            if teardown:
                room.subscribe(HeadlessPrinter(), replay=False)
                room.subscribe(collect, replay=False)
            return await room.stop(teardown=teardown)
    except AttachRefused as exc:
        return Reply(accepted=False, reason=str(exc))


def _let_go(run_dir: RunDir, wait_s: float = LET_GO_WAIT_S) -> bool:
    """Wait until no process holds the run (the engine has exited: the kernel released its
    lock)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            RunLock(run_dir, "crossroom stop").release()
            return True
        except RunBusy:
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_S)
