"""``crossroom sweep --config FILE [--run ID] [--yes]``: find crossroom leftovers, no ledger needed.

After a crash or ``kill -9`` the ledger may be behind the cloud. The sweep lists, in every
cloud of the demo file, what carries a crossroom run mark (server and volume metadata,
security group and floating-IP tags, run-prefixed key pair names), and deletes exactly
that, and only with ``--yes``. Nothing without our mark is ever touched.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING

import anyio

from engine.rundir import RunBusy, RunDir, RunLock, state_dir
from tui.commands.demo_source import BadInput, load, report_bad_input

if TYPE_CHECKING:
    from engine.providers.openstack.sweep import CloudLeftovers

EXIT_OK = 0
EXIT_LEFTOVERS = 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sweep",
        help="list (and with --yes delete) leftovers of crossroom runs in every cloud",
        description=(
            "Find resources left by crossroom runs in every OpenStack cloud of the demo "
            "file, by their run mark rather than a ledger, so it works after a crash. "
            "Without --yes it only lists them (exit 1 when there are any, 0 when clean). "
            "With --yes it deletes them, dependents first (volumes detached, servers, "
            "floating IPs, security groups, key pairs), waits until each is gone, and "
            "exits 0 only when nothing is left."
        ),
    )
    p.add_argument("--config", metavar="FILE", required=True, help="the demo file")
    p.add_argument("--run", metavar="RUN_ID", help="only this run (default: every crossroom run)")
    p.add_argument("--yes", action="store_true", help="delete what was found")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        demo = load(args.config)
    except BadInput as exc:
        return report_bad_input(exc)
    from engine.providers.openstack.sweep import find_leftovers, sweep

    leftovers = anyio.run(find_leftovers, demo, args.run)
    unreadable = [left for left in leftovers if left.error]
    for left in leftovers:
        if left.error:
            print(f"{left.cloud}: could not list: {left.error}", file=sys.stderr)
        for f in left.found:
            extra = f" ({f.status})" if f.status and f.resource_type in ("server", "volume") else ""
            print(f"{left.cloud}  {f.run_id}  {f.resource_type:<14}  {f.name}{extra}")
    total = sum(len(left.found) for left in leftovers)
    scope = f"run {args.run}" if args.run else "any crossroom run"
    if total == 0:
        print(f"nothing left by {scope}")
        return EXIT_LEFTOVERS if unreadable else EXIT_OK
    if not args.yes:
        print(f"{total} resources of {scope}; run again with --yes to delete them")
        return EXIT_LEFTOVERS
    with ExitStack() as held:
        busy = hold_runs(held, {f.run_id for left in leftovers for f in left.found})
        for refusal in busy.values():
            print(f"{refusal}: not sweeping it (stop it with crossroom teardown --stop)")
        leftovers = without_runs(leftovers, set(busy))
        results = anyio.run(sweep, demo, leftovers)
    problems = [(r.cloud, p) for r in results for p in r.problems]
    problems += [("every cloud", f"run {run_id} is in use") for run_id in busy]
    for cloud, problem in problems:
        print(f"{cloud}: could not delete: {problem}", file=sys.stderr)
    deleted = sum(r.deleted for r in results)
    print(f"deleted {deleted} of {total} resources of {scope}")
    return EXIT_LEFTOVERS if problems or unreadable else EXIT_OK


def hold_runs(held: ExitStack, run_ids: set[str]) -> dict[str, RunBusy]:
    """Lock every run found that has a run directory here, so no show of this machine goes
    on creating what the sweep deletes; returns the runs a live show holds."""
    busy: dict[str, RunBusy] = {}
    base = state_dir()
    for run_id in sorted(run_ids):
        try:
            lock = RunLock(RunDir.existing(base, run_id), "sweep")
        except RunBusy as exc:
            busy[run_id] = exc
        except (OSError, ValueError):  # no such run here (another machine's): nothing to hold
            continue
        else:
            held.callback(lock.release)
    return busy


def without_runs(leftovers: list[CloudLeftovers], runs: set[str]) -> list[CloudLeftovers]:
    return [
        dataclasses.replace(left, found=tuple(f for f in left.found if f.run_id not in runs))
        for left in leftovers
    ]
