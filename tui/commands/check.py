"""``crossroom check --config FILE``: is every cloud ready for the show? Read-only.

For all clouds at once: authenticate, find flavor, image, network and floating-IP pool,
and compare quotas with what the plan needs. One row per cloud; exit 0 only when every
cloud is ready, 1 when one is not, 2 when the demo file is bad.
"""

from __future__ import annotations

import argparse

import anyio

from tui.commands.demo_source import BadInput, load, report_bad_input

EXIT_OK = 0
EXIT_NOT_READY = 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help="preflight every cloud: credentials, flavor/image/network/pool, quotas",
        description=(
            "Contact every OpenStack cloud of the demo file at once (credentials from your "
            "clouds.yaml, secure.yaml or OS_* environment), authenticate, look up the "
            "flavor, image, network and floating-IP pool, and read the quotas (instances, "
            "cores, RAM, floating IPs, security groups and rules, volumes, gigabytes) "
            "against what the plan needs. Prints one row per cloud: ok or problem, with a "
            "one-line reason. Creates nothing. Exit 0 only when every cloud is ready."
        ),
    )
    p.add_argument("--config", metavar="FILE", required=True, help="the demo file")
    p.add_argument(
        "--quotas", action="store_true", help="also print every quota compared, per cloud"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        demo = load(args.config)
    except BadInput as exc:
        return report_bad_input(exc)
    from engine.providers.openstack.preflight import preflight

    rows = anyio.run(preflight, demo)
    skipped = [c.name for c in demo.clouds if c.provider != "openstack"]
    if not rows:
        print("no OpenStack clouds in this demo file (nothing to check)")
        return EXIT_OK
    width = max(len(r.cloud) for r in rows)
    for row in rows:
        status = "ok" if row.ok else "problem"
        print(f"{row.cloud:<{width}}  {status:<7}  {row.reason}")
        for line in row.flows:  # existing runs' security groups, judged flow by flow
            print(f"{'':<{width}}  {'':<7}    {line}")
        if args.quotas:
            for q in row.quotas:
                print(f"{'':<{width}}  {'':<7}    {'ok ' if q.ok else 'LOW'} {q.line()}")
    if skipped:
        print(f"(not checked, simulated: {', '.join(skipped)})")
    ready = sum(r.ok for r in rows)
    print(f"{ready}/{len(rows)} clouds ready")
    return EXIT_OK if ready == len(rows) else EXIT_NOT_READY
