"""The old name of ``engine.room_api``, kept only while the screen's app still imports it.

Delete once ``tui/app.py`` and ``bench/`` import ``engine.room_api``.
"""

from __future__ import annotations

from engine.room_api import ACCEPTED, Playback, Reply, RoomCommands, RoomOptions, refused

__all__ = ["ACCEPTED", "Playback", "Reply", "RoomCommands", "RoomOptions", "refused"]
