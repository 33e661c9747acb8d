"""Every event kind survives JSON exactly, and recordings stay readable across versions."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.recording import EventRecorder, read_recording


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    if hint is str:
        return st.text(max_size=20)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is type(None):
        return st.none()
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy_for(a) for a in typing.get_args(hint)))
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(hint)
        return st.lists(strategy_for(item), max_size=4).map(tuple)
    if dataclasses.is_dataclass(hint):
        return builds(hint)
    raise AssertionError(f"no strategy for {hint!r}")


def builds(cls: Any) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(cls)}
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


@pytest.mark.parametrize("cls", list(ev.EVENT_TYPES.values()), ids=list(ev.EVENT_TYPES))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_event_kind_round_trips_exactly(cls: type[ev.Event], data: st.DataObject) -> None:
    event = data.draw(builds(cls))
    assert ev.decode(ev.encode(event)) == event


def test_every_kind_is_registered_once() -> None:
    kinds = [cls.kind for cls in ev.EVENT_TYPES.values()]
    assert len(kinds) == len(set(kinds))
    assert "event" not in kinds


def test_an_old_recording_without_new_fields_still_decodes() -> None:
    # written before `attempt` existed, and by a newer version with a field we do not know
    old = b'{"kind":"step_started","t":1.5,"cloud":"ibm","step":"servers","future":42}'
    event = ev.decode(old)
    assert event == ev.StepStarted(t=1.5, cloud="ibm", step="servers", attempt=1)


def test_unknown_kinds_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    rec = EventRecorder(path)
    rec(ev.Notice(message="first"))
    rec.close()
    with path.open("ab") as f:
        f.write(b'{"kind":"from_the_future","x":1}\n')
        f.write(b'{"kind":"notice","message":"second"}\n')
        f.write(b'{"kind":"notice","mess')  # torn last line after a crash
    messages = [e.message for e in read_recording(path) if isinstance(e, ev.Notice)]
    assert messages == ["first", "second"]


def test_stamping_sets_both_times_and_nothing_else() -> None:
    e = ev.CloudJoined(cloud="zte", time_to_join_s=91.25)
    s = ev.stamped(e, 12.5, 1_800_000_000.0)
    assert (s.t, s.wall) == (12.5, 1_800_000_000.0)
    assert dataclasses.replace(s, t=0.0, wall=0.0) == e
