"""The event hub: every event stamped once, secrets masked before anything records or sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import events as ev
from engine.clock import ScaledClock
from engine.hub import LOG_HISTORY_PER_CLOUD, EventHub
from engine.recording import EventRecorder, read_recording
from engine.redact import redact

pytestmark = pytest.mark.anyio

SECRET = "hunter2-very-secret"


async def test_events_are_stamped_by_the_hub_and_redacted_before_recording(
    tmp_path: Path,
) -> None:
    clock = ScaledClock(10.0)
    recorder = EventRecorder(tmp_path / "events.jsonl")
    hub = EventHub(clock, recorder)
    seen: list[ev.Event] = []
    hub.subscribe(seen.append)
    await clock.sleep(5.0)
    hub.publish(ev.LogLines(cloud="a", lines=(f"login password={SECRET} ok", "plain")))
    hub.publish(ev.Notice(level="error", message=f"connect postgres://root:{SECRET}@db:5432"))
    hub.publish(ev.StepFailed(cloud="a", step="servers", error=f"token: {SECRET}", duration_s=1))
    recorder.close()
    assert all(e.t >= 5.0 and e.wall > 1_000_000_000 for e in seen)
    recorded = list(read_recording(tmp_path / "events.jsonl"))
    assert recorded == seen
    text = (tmp_path / "events.jsonl").read_text()
    assert SECRET not in text and "***" in text
    assert seen[0].lines[1] == "plain"  # type: ignore[attr-defined]
    assert hub.state.notices[-1].message == "connect postgres://root:***@db:5432"


async def test_a_replay_hub_keeps_recorded_times_and_bounds_log_catch_up() -> None:
    hub = EventHub()  # no clock: a recording's events keep their times
    for i in range(LOG_HISTORY_PER_CLOUD + 10):
        hub.publish(ev.LogLines(cloud="a", lines=(f"line {i}",), t=float(i)))
    hub.publish(ev.Notice(message="kept", t=99.0))
    late: list[ev.Event] = []
    hub.subscribe(late.append)
    assert len(late) == LOG_HISTORY_PER_CLOUD + 1
    assert [e.t for e in late][-2:] == [float(LOG_HISTORY_PER_CLOUD + 9), 99.0]


def test_the_cheap_path_skips_only_text_that_cannot_hold_a_secret() -> None:
    plain = "GET /v2.1/servers/abc -> 200 ok (0.12s)"
    assert redact(plain) is plain
    for text in (
        "X-Auth-TOKEN: abc123",
        "OS_PASSWORD=abc123",
        "pa\u017f\u017fword=abc123",  # long s: (?i) folds it to s, so it must take the patterns
        "ssh ubuntu@h https://admin:abc123@keystone",
        "-----BEGIN RSA PRIVATE KEY-----\nabc123",
    ):
        assert "abc123" not in redact(text), text
