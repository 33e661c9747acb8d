"""`Room.check`: every cloud answers, by name, without creating anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config.model import CloudConfig, DemoConfig, SimConfig
from engine.room import open_room
from engine.room_api import RoomOptions

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Real time: the OpenStack check runs its config loading in worker threads."""
    return "asyncio"


async def test_each_cloud_answers_and_a_missing_clouds_yaml_entry_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text("clouds: {}\n", encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    demo = DemoConfig(
        name="check",
        clouds=(
            CloudConfig(name="rehearsal", label="Rehearsal", provider="sim", sim=SimConfig()),
            CloudConfig(name="nowhere", label="Nowhere", provider="openstack"),
        ),
    )
    async with open_room(demo, RoomOptions(speed=1.0)) as room:
        await room.check()
        for _ in range(200):
            if all(c.preflight_ok is not None for c in room.state.cloud_list()):
                break
            await room.clock.sleep(0.05)
        sim, real = room.state.cloud_list()
        assert sim.preflight_ok is True
        assert real.preflight_ok is False
        assert "nowhere" in real.preflight
        assert room.ledger.live() == []  # a check creates nothing
