"""``crossroom run``: the whole show with no screen, for rehearsals, CI and reports.

Exit 0 when every cloud joined, 1 when any failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import anyio

from engine.clock import Clock
from engine.config.model import DemoConfig, time_until_store_dead_s
from engine.events import TeardownFinished
from engine.headless import HeadlessPrinter, join_table, kill_table, verdict_table
from engine.report import build_report
from engine.room import Room, open_room
from engine.room_api import RoomCommands, RoomOptions
from engine.targets import parse_target
from tui.commands.demo_source import (
    BadInput,
    add_demo_options,
    load,
    report_bad_input,
    with_scenario,
)
from tui.commands.option_checks import (
    kill_seconds_problem,
    output_file_problem,
    show_option_problems,
)
from tui.commands.teardown import print_summary

HEAL_GRACE_S = 300.0
"""Demo seconds to wait for a kill to heal beyond the cluster's time_until_store_dead."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the show headless: step lines, then join and kill tables",
        description=(
            "Run every cloud's plan with no screen. Prints one line per step transition, "
            "then each cloud's time to join and every kill's time to probe down, suspect, "
            "dead, back and healed. Exit 0 when every cloud joined, 1 when any failed, 2 on "
            "bad input."
        ),
    )
    add_demo_options(p)
    p.add_argument("--only", metavar="A,B", help="run only these clouds")
    p.add_argument(
        "--kill",
        action="append",
        default=[],
        metavar="TARGET@SECONDS",
        help="this many demo seconds after all clouds joined: CLOUD/pod-N restarts node N's "
        "pod, CLOUD/node-N stops node N (cordon + delete its pod), CLOUD/server-N stops "
        "server N, CLOUD stops every server of the cloud, CLOUD/crash-N SIGKILLs and "
        "CLOUD/freeze-N SIGSTOPs node N's process over SSH, CLOUD/partition cuts the cloud "
        "off from the others (repeatable)",
    )
    p.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="CLOUD:STEP[:MESSAGE]",
        help="rehearsal only: make this step of this cloud fail for good (repeatable)",
    )
    p.add_argument("--report", metavar="FILE", help="write the JSON report here")
    p.add_argument("--html", metavar="FILE", help="write the post-show HTML report here at the end")
    p.add_argument(
        "--junit",
        metavar="FILE",
        help="write JUnit XML here: a test case per cloud join and per expectation",
    )
    p.add_argument("--logs", action="store_true", help="also print every log line")
    p.add_argument("--teardown", action="store_true", help="tear everything down at the end")
    p.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def parse_kills(specs: list[str]) -> list[tuple[str, float]]:
    kills = []
    for spec in specs:
        target, sep, at = spec.rpartition("@")
        try:
            if not sep:
                raise ValueError("expected TARGET@SECONDS")
            parse_target(target)
            seconds = float(at)
            problem = kill_seconds_problem(seconds)
            if problem:
                raise ValueError(problem)
        except ValueError as exc:
            raise BadInput([f"--kill {spec}: {exc}"]) from None
        kills.append((target, seconds))
    return sorted(kills, key=lambda k: k[1])


def run(args: argparse.Namespace) -> int:
    problems = show_option_problems(args.speed, args.seed, args.state_dir)
    if args.report:
        problems.append(output_file_problem(args.report, "--report") or "")
    if args.html:
        problems.append(output_file_problem(args.html, "--html") or "")
    if args.junit:
        problems.append(output_file_problem(args.junit, "--junit") or "")
    if args.paced:
        problems.append("--paced: no one paces a headless run; each cue fires when it is due")
    if any(problems):
        return report_bad_input(BadInput([p for p in problems if p]))
    try:
        demo = with_scenario(load(args.config, args.only, args.fail), args.scenario)
        kills = parse_kills(args.kill)
    except BadInput as exc:
        return report_bad_input(exc)
    if args.report:
        args.report = str(Path(args.report).expanduser())
    if args.html:
        args.html = str(Path(args.html).expanduser())
    if args.junit:
        args.junit = str(Path(args.junit).expanduser())
    if demo.scenario is not None and demo.scenario.pace != "auto":
        # No one is at a keyboard: every cue fires itself when due.
        demo = replace(demo, scenario=replace(demo.scenario, pace="auto"))
    options = RoomOptions(
        seed=args.seed,
        speed=args.speed,
        state_dir=Path(args.state_dir) if args.state_dir else None,
    )
    shown: list[str] = []
    code = anyio.run(_show, demo, options, kills, args, shown)
    if args.html and shown:
        # After the room closed: its recording is flushed and complete.
        from tui.commands.report import write_report

        write_report(Path(shown[0]) / "events.jsonl", None, args.html, True)
    return code


async def _show(
    demo: DemoConfig,
    options: RoomOptions,
    kills: list[tuple[str, float]],
    args: argparse.Namespace,
    run_dirs: list[str],
) -> int:
    """The show; the run directory is added to ``run_dirs`` once the room is open."""
    began = time.monotonic()
    async with open_room(demo, options) as room:
        room.subscribe(HeadlessPrinter(logs=args.logs))
        run_dirs.append(room.state.run_dir)
        await room.start()
        await room.wait_idle()
        await _scenario(room, demo)
        joined_wall = time.monotonic() - began
        if kills:
            await _chaos(room, room.clock, demo, kills)
        wall = time.monotonic() - began
        state = room.state
        print()
        print(join_table(state), end="")
        if state.kills:
            print()
            print(kill_table(state), end="")
        if state.verdicts:
            print()
            print(verdict_table(state), end="")
        report = build_report(state, joined_wall)
        report["wall_with_chaos_s"] = round(wall, 3)
        report["cues"] = [
            {"cue": c.cue, "action": c.action, "target": c.target, "at_s": round(c.t, 3)}
            for c in state.cues_fired
        ]
        report["verdicts"] = [
            {
                "name": v.name,
                "scope": v.scope,
                "passed": v.passed,
                "measured": v.measured,
                "expected": v.expected,
                "at_s": round(v.t, 3),
            }
            for v in state.verdicts
        ]
        if args.teardown:
            finished: list[TeardownFinished] = []
            room.subscribe(
                lambda e: finished.append(e) if isinstance(e, TeardownFinished) else None,
                replay=False,
            )
            await room.teardown()
            print_summary(state.run_id, finished)
        print(f"\nrun {state.run_id}: files in {state.run_dir}")
        if args.report:
            try:
                await anyio.Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
            except OSError as exc:  # the folder went away during the show, or the disk is full
                print(f"--report {args.report}: {exc.strerror or exc}", file=sys.stderr)
        if args.junit:
            from engine.junit_report import junit_xml  # only when asked: a JUnit library

            try:
                await anyio.Path(args.junit).write_bytes(junit_xml(state))
            except OSError as exc:
                print(f"--junit {args.junit}: {exc.strerror or exc}", file=sys.stderr)
    failed_verdicts = [v for v in room.state.verdicts if not v.passed]
    if failed_verdicts:
        print(
            f"crossroom: {len(failed_verdicts)} expectation(s) failed: "
            + "; ".join(f"{v.scope}: {v.name} {v.measured}" for v in failed_verdicts),
            file=sys.stderr,
        )
    failed = [c for c in room.state.cloud_list() if c.status != "joined"]
    if failed:
        print(
            f"crossroom: {len(failed)} cloud(s) did not join: "
            + "; ".join(f"{c.name}: {c.error or c.status}" for c in failed),
            file=sys.stderr,
        )
        return 1
    return 1 if failed_verdicts else 0


async def _scenario(room: Room, demo: DemoConfig) -> None:
    """Let the run-sheet play out: every cue fired, every expectation decided.

    A cue waiting on what can no longer happen (every cloud joined, when one failed) or
    on a cluster that never heals would wait forever; so the run-sheet is given up, its
    remaining expectations failed, when no cloud joined them all or when it overruns
    the time its cues and their healing could take."""
    sheet = room.scenario
    if sheet is None:
        return
    if not all(c.status == "joined" for c in room.state.cloud_list()):
        sheet.abandon("not every cloud joined")
    heal = time_until_store_dead_s(demo.cluster) + HEAL_GRACE_S
    limit = sum(c.at_s + (c.for_s or 0.0) + heal for c in sheet.scenario.cues) + heal
    with anyio.move_on_after(limit / room.clock.speed):
        await room.wait_scenario()
        return
    sheet.abandon(f"the run-sheet did not finish within {limit:.0f}s")
    await room.wait_scenario()


async def _chaos(
    room: RoomCommands, clock: Clock, demo: DemoConfig, kills: list[tuple[str, float]]
) -> None:
    """Kill at the given demo offsets after joining, then wait for each kill to heal.

    Only the command protocol the screen holds is used; ``clock`` is the show's demo clock.
    A refused kill is said as a warning line (printed and recorded) and the rest go on."""
    if not all(c.status == "joined" for c in room.state.cloud_list()):
        room.notice("not every cloud joined; the scheduled kills run anyway", level="warning")
    base = clock.now()
    for target, at in kills:
        await clock.sleep(base + at - clock.now())
        reply = await room.kill(target)
        if not reply.accepted:
            room.notice(reply.reason, level="warning")
    deadline = clock.now() + time_until_store_dead_s(demo.cluster) + HEAL_GRACE_S
    await clock.sleep(2.0)
    # "waiting": no node has ever answered; "down": the cluster answered once and stopped.
    if room.state.monitor in ("down", "waiting"):
        room.notice("the cluster monitor sees no cluster: not waiting for kills to heal")
        return
    while clock.now() < deadline:
        # Done: healed, or back without the cluster ever losing a replica (a pod restart).
        pending = [
            k
            for k in room.state.kills
            if k.healed_t is None and not k.error and (k.degraded or k.back_t is None)
        ]
        if not pending:
            return
        await clock.sleep(1.0)
    room.notice("some kills had not healed when the wait ended", level="warning")
