"""A sweep never deletes what a live show of this machine holds (the run's lock)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from engine.providers.openstack.inventory import Found
from engine.providers.openstack.sweep import CloudLeftovers
from engine.rundir import RunDir, RunLock
from tui.commands.sweep import hold_runs, without_runs


def found(run_id: str, name: str) -> Found:
    return Found(cloud="a", resource_type="server", resource_id=name, name=name, run_id=run_id)


def test_a_live_run_is_left_alone_and_the_others_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSROOM_STATE_DIR", str(tmp_path))
    live = RunDir.create(tmp_path, "xr-20261201-140000-aaaa")
    idle = RunDir.create(tmp_path, "xr-20261201-140000-bbbb")
    show = RunLock(live, "show")
    try:
        with ExitStack() as held:
            busy = hold_runs(held, {live.run_id, idle.run_id, "xr-20261201-140000-cccc"})
            assert set(busy) == {live.run_id}
            assert f"run {live.run_id} is in use by pid" in str(busy[live.run_id])
            # the idle run is held by the sweep while it deletes: a show cannot reopen it
            with pytest.raises(Exception, match="in use"):
                RunLock(idle, "show")
        RunLock(idle, "show").release()  # released once the sweep is done
    finally:
        show.release()
    left = [CloudLeftovers(cloud="a", found=(found(live.run_id, "s1"), found(idle.run_id, "s2")))]
    assert [f.name for f in without_runs(left, {live.run_id})[0].found] == ["s2"]
