"""The fold's ``CloudState.resource_list`` (added for the zoom view): what teardown will
delete, in the order made, without the deleted ones and without duplicates."""

from __future__ import annotations

from scenes import run_started

from engine import events as ev
from engine.state import ResourceState, fold


def test_resource_list_follows_records_and_deletes() -> None:
    start = run_started(1)
    cloud = start.clouds[0].name
    made = [
        ev.ResourceRecorded(
            cloud=cloud, resource_type="keypair", resource_id="k1", name="kp", step="keypair"
        ),
        ev.ResourceRecorded(
            cloud=cloud, resource_type="server", resource_id="s1", name="srv-1", step="servers"
        ),
        ev.ResourceRecorded(
            cloud=cloud, resource_type="server", resource_id="s2", name="srv-2", step="servers"
        ),
        ev.ResourceRecorded(
            cloud=cloud, resource_type="server", resource_id="s1", name="srv-1", step="servers"
        ),
        ev.ResourceDeleted(cloud=cloud, resource_type="keypair", resource_id="k1", name="kp"),
    ]
    state = fold([start, *made])
    c = state.clouds[cloud]
    assert c.resource_list == (
        ResourceState("server", "s2", "srv-2", "servers"),
        ResourceState("server", "s1", "srv-1", "servers"),
    )
    assert c.resources == 3  # the counter keeps its own contract (one per record event)
    unknown = fold(
        [start, ev.ResourceDeleted(cloud=cloud, resource_type="volume", resource_id="v9")]
    )
    assert unknown.clouds[cloud].resource_list == ()
