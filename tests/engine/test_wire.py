"""The engine socket's wire format: every event kind crosses as its exact JSON, handshakes
refuse what they do not speak, and lines are read whole, capped, however they arrive."""

from __future__ import annotations

from collections.abc import Iterable

import anyio
import anyio.lowlevel
import msgspec
import pytest
from anyio.abc import ByteReceiveStream
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine import wire
from engine.room_api import COMMAND_NAMES, RoomCommands, refused
from tests.engine.test_events import builds


@pytest.mark.parametrize("cls", list(ev.EVENT_TYPES.values()), ids=list(ev.EVENT_TYPES))
@settings(max_examples=20, deadline=None)
@given(data=st.data(), seq=st.integers(min_value=1, max_value=2**53))
def test_every_event_kind_crosses_as_its_exact_json(
    cls: type[ev.Event], data: st.DataObject, seq: int
) -> None:
    event = data.draw(builds(cls))
    line = wire.event_line(seq, event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert line == b'{"seq":%d,"event":%s}\n' % (seq, ev.encode(event))
    message = wire.loads(line[:-1])
    assert message["seq"] == seq
    assert message["event"] == msgspec.json.decode(ev.encode(event))
    assert ev.from_dict(message["event"]) == event


def test_the_command_names_are_the_room_commands_that_answer() -> None:
    for name in COMMAND_NAMES:
        assert name in RoomCommands.__dict__, name
    assert "subscribe" not in COMMAND_NAMES and "notice" not in COMMAND_NAMES


def test_an_answer_carries_the_reply() -> None:
    line = wire.answer(7, refused("no cloud named 'x'"))
    message = wire.loads(line)
    assert message == {"id": 7, "accepted": False, "reason": "no cloud named 'x'"}
    assert wire.reply_of(message) == refused("no cloud named 'x'")


def test_handshakes() -> None:
    assert wire.check_hello(wire.loads(wire.hello("audience"))) == "audience"
    welcome = wire.loads(wire.welcome("xr-1", "Demo", "presenter"))
    assert wire.check_welcome(welcome) == ("xr-1", "Demo")
    for bad, why in (
        ({"hello": "ssh"}, "no hello"),
        ({"hello": "crossroom", "protocol": 2, "role": "presenter"}, "protocol 2"),
        ({"hello": "crossroom", "protocol": 1, "role": ["presenter"]}, "unknown role"),
    ):
        with pytest.raises(wire.WireError, match=why):
            wire.check_hello(bad)
    with pytest.raises(wire.WireError, match="read-only"):
        wire.check_welcome(wire.loads(wire.error("read-only")))
    with pytest.raises(wire.WireError, match="protocol 2"):
        wire.check_welcome({"hello": "crossroom", "protocol": 2})


@pytest.mark.parametrize("line", [b"", b"nope", b"[]", b'"text"', b"\xff\xfe", b"{"])
def test_a_line_that_is_not_a_json_object_is_a_wire_error(line: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(line)


class Chunks(ByteReceiveStream):
    """Bytes as a socket hands them over: in pieces that ignore line ends."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = list(chunks)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        if not self._chunks:
            raise anyio.EndOfStream
        return self._chunks.pop(0)

    async def aclose(self) -> None:
        self._chunks.clear()


@pytest.mark.anyio
async def test_lines_are_read_whole_however_they_arrive() -> None:
    data = wire.hello("presenter") + wire.request(1, "kill", {"target": "canonical/node-1"})
    reader = wire.LineReader(Chunks(data[i : i + 3] for i in range(0, len(data), 3)))
    assert wire.check_hello(await reader.message()) == "presenter"
    assert (await reader.message())["args"] == {"target": "canonical/node-1"}
    with pytest.raises(anyio.EndOfStream):
        await reader.message()


@pytest.mark.anyio
async def test_a_torn_or_endless_line_is_a_wire_error() -> None:
    with pytest.raises(wire.WireError, match="middle of a line"):
        await wire.LineReader(Chunks([b'{"id": 1, "comm'])).message()
    endless = wire.LineReader(Chunks([b"x" * 1000] * 100), max_bytes=4096)
    with pytest.raises(wire.WireError, match="longer than 4096 bytes"):
        await endless.message()
