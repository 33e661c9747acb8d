"""Demo cluster settings: statements, and refusals reported rather than raised."""

from __future__ import annotations

import pytest

from engine.cockroach.connection import ConnectOptions, Endpoint
from engine.cockroach.publish import Publisher
from engine.cockroach.settings import apply_settings, setting_statement
from engine.events import Notice, SettingApplied

from .events import EventCollector
from .local_cluster import LocalCluster


def test_setting_statement_quotes_strings_and_keeps_numbers_bare() -> None:
    assert setting_statement("server.time_until_store_dead", "1m15s") == (
        "SET CLUSTER SETTING server.time_until_store_dead = %s",
        ("1m15s",),
    )
    assert setting_statement("kv.range_merge.queue_enabled", "False") == (
        "SET CLUSTER SETTING kv.range_merge.queue_enabled = false",
        (),
    )
    assert setting_statement("sql.x", "64")[0].endswith("= 64")


@pytest.mark.parametrize("name", ["", "x; DROP TABLE kv", "a..b", "Upper.case", "a b"])
def test_setting_statement_rejects_names_that_are_not_settings(name: str) -> None:
    with pytest.raises(ValueError, match="setting name"):
        setting_statement(name, "1")


@pytest.mark.anyio
@pytest.mark.slow
async def test_each_setting_is_reported_and_a_refusal_does_not_stop_the_rest(
    healthy_cluster: LocalCluster,
) -> None:
    n = healthy_cluster.node(1)
    rec = EventCollector()
    results = await apply_settings(
        [("server.time_until_store_dead", "1m15s"), ("bad name", "1"), ("kv.x.y", "2")],
        ConnectOptions(),
        lambda: [Endpoint(n.host, n.sql_port)],
        Publisher(rec),
    )
    assert [r.name for r in results] == ["server.time_until_store_dead", "bad name", "kv.x.y"]
    assert not any(r.ok for r in results)
    # PostgreSQL has no SET CLUSTER SETTING: the server's own syntax error is the reason.
    assert results[0].message == 'syntax error at or near "SETTING" [42601]'
    assert "not a cluster setting name" in results[1].message
    published = [e for e in rec.events if isinstance(e, SettingApplied)]
    assert published == [
        SettingApplied(name=r.name, value=r.value, ok=r.ok, message=r.message, t=e.t, wall=e.wall)
        for r, e in zip(results, published, strict=True)
    ]
    assert not [e for e in rec.events if isinstance(e, Notice)]  # one event per setting
