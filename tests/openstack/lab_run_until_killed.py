"""Run one cloud's plan against the lab until the test kills this process with SIGKILL.

    python lab_run_until_killed.py RUN_ID RUN_DIR CLOUD

Used by the kill -9 test: the ledger is written as resources appear, the process dies
mid-run without any cleanup, and ``crossroom sweep`` must still find everything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from os_harness import lab_cloud, make_ctx

from engine.config.model import DemoConfig
from engine.providers.openstack.cloud import OpenStackCloud
from engine.runner import run_cloud


async def main(run_id: str, run_dir: Path, name: str) -> None:
    cloud = lab_cloud(name)
    demo = DemoConfig(name="kill -9", clouds=(cloud,))
    ctx = make_ctx(demo, cloud, run_dir, run_id, [])
    await run_cloud(ctx, OpenStackCloud(demo, cloud).steps())
    await anyio.sleep(600)  # the test kills us long before this


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], Path(sys.argv[2]), sys.argv[3])
