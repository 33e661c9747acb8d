"""Captions for the back of the hall, read off real shows: the rehearsal fleet run by the
real room on trio's virtual clock, a node stopped, the cluster healing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import anyio
import pytest

from engine import events as ev
from engine.captions import caption_of, latest_caption, ordinal
from engine.config.durations import duration_words
from engine.room import open_room
from engine.room_api import RoomOptions
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState, apply, fold
from engine.wiring import build_backend


def captions(events: list[ev.Event]) -> list[str]:
    out: list[str] = []
    state = RoomState()
    for event in events:
        text = caption_of(event, state)
        if text is not None:
            out.append(text)
        state = apply(state, event)
    return out


@pytest.fixture(scope="module")
def show() -> list[ev.Event]:
    """A whole rehearsal: 15 clouds join, then node 1 of the first is stopped, left down
    past ``server.time_until_store_dead`` and revived; every event, in order."""
    events: list[ev.Event] = []

    async def main() -> None:
        demo = rehearsal_demo()
        async with open_room(demo, RoomOptions(seed=4), build_backend(demo, 4)) as room:
            room.subscribe(events.append, replay=True)
            await room.start()
            with anyio.fail_after(3600):
                await room.wait_idle()
            await anyio.sleep(30)
            victim = f"{demo.clouds[0].name}/node-1"
            assert (await room.kill(victim)).accepted
            await anyio.sleep(150)
            assert (await room.revive(victim)).accepted
            await anyio.sleep(200)

    from trio.testing import MockClock

    anyio.run(main, backend="trio", backend_options={"clock": MockClock(autojump_threshold=0)})
    return events


def test_every_join_is_told_with_its_time_and_place(show: list[ev.Event]) -> None:
    said = [c for c in captions(show) if " joined in " in c]
    assert len(said) == 15
    state = fold(show)
    for text in said:
        label, _, rest = text.partition(" joined in ")
        cloud = next(c for c in state.cloud_list() if c.label == label)
        assert rest.startswith(f"{duration_words(cloud.time_to_join_s or 0)}, ")
    assert re.fullmatch(r".+ joined in \d+m\d\ds, \d+(st|nd|rd|th): all 15 clouds joined", said[-1])
    # The first to join is first on the board.
    assert said[0].split(", ")[1] == "1st"


def test_a_stopped_node_is_told_suspect_then_dead_then_back_and_the_cluster_healed(
    show: list[ev.Event],
) -> None:
    said = captions(show)
    victim = f"{rehearsal_demo().clouds[0].name}/node-1"
    kill_at = next(i for i, c in enumerate(said) if c == f"stop node: {victim}")
    after = said[kill_at:]
    suspect = next(c for c in after if c.startswith(f"{victim} suspect after "))
    m = re.fullmatch(rf"{re.escape(victim)} suspect after (\d+\.\d) s, kv errors (\d+)", suspect)
    assert m is not None, suspect
    assert 0.5 <= float(m.group(1)) <= 30.0
    dead = next(c for c in after if c.startswith(f"{victim} dead after "))
    seconds = float(dead.split(" dead after ")[1].split(" s,")[0])
    assert 60.0 <= seconds <= 150.0  # time_until_store_dead is 1m15s in the demo
    assert f"reviving {victim}" in after
    assert any(
        re.fullmatch(rf"{re.escape(victim)} live again \d+\.\d s after the kill", c) for c in after
    )
    assert any(
        re.fullmatch(rf"cluster healed \d+\.\d s after the kill of {re.escape(victim)}", c)
        for c in after
    )


def test_quiet_events_leave_the_last_caption_standing(show: list[ev.Event]) -> None:
    quiet = [e for e in show if isinstance(e, ev.LogLines | ev.StepProgress | ev.ProbeObserved)]
    assert quiet and all(caption_of(e, RoomState()) is None for e in quiet)
    assert latest_caption(show) == captions(show)[-1]


def test_a_failed_cloud_names_its_step_and_the_first_line_of_its_error() -> None:
    start = ev.RunStarted(
        run_id="xr-1",
        demo="d",
        simulated=True,
        clouds=(ev.CloudInfo(name="zte", label="ZTE <b>[red]", steps=("keypair", "server")),),
    )
    failed = ev.StepFailed(
        cloud="zte", step="server", error="Quota exceeded\ntraceback " + "x" * 200, duration_s=3
    )
    assert caption_of(failed, fold([start])) == "ZTE <b>[red] failed at server: Quota exceeded"
    long = ev.StepFailed(cloud="zte", step="server", error="y" * 500, duration_s=3)
    text = caption_of(long, fold([start]))
    assert text is not None and len(text) < 120 and text.endswith("…")


def test_a_run_with_failures_ends_with_the_count() -> None:
    start = ev.RunStarted(
        run_id="xr-1",
        demo="d",
        simulated=True,
        clouds=tuple(ev.CloudInfo(name=n, label=n) for n in "abc"),
    )
    end = ev.RunFinished(joined=2, failed=1)
    assert caption_of(end, fold([start])) == "2 of 3 clouds joined, 1 failed"


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (15, "15th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinals(n: int, word: str) -> None:
    assert ordinal(n) == word


@pytest.mark.parametrize(
    ("seconds", "words"), [(0, "0s"), (45.9, "45s"), (452, "7m32s"), (3900, "1h05m")]
)
def test_durations(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words


# The run-sheet's events (the scenario's, by their kind and fields): stand-ins built the
# same way, so these captions hold before and after those classes are in engine.events.
@dataclass(frozen=True, kw_only=True)
class CueFired(ev.Event):
    kind: ClassVar[str] = "cue_fired"
    cue: str
    index: int
    action: str
    target: str = ""
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class VerdictDecided(ev.Event):
    kind: ClassVar[str] = "verdict_decided"
    name: str
    scope: str
    passed: bool
    measured: str
    expected: str


def test_a_say_cue_is_shown_verbatim_and_other_cues_leave_it_to_their_fault() -> None:
    said = "Now we stop a node in Canonical [live] <b>"
    assert caption_of(CueFired(cue="intro", index=0, action="say", text=said), RoomState()) == said
    kill = CueFired(cue="stop", index=1, action="kill", target="canonical/node-1")
    assert caption_of(kill, RoomState()) is None


def test_a_verdict_says_pass_or_fail_with_what_was_measured() -> None:
    v = VerdictDecided(
        name="healed within", scope="stop", passed=False, measured="112.0 s", expected="<= 90 s"
    )
    assert caption_of(v, RoomState()) == "FAIL healed within: 112.0 s (expected <= 90 s)"
