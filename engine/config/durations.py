"""Durations as text: CockroachDB's duration strings read (Go's ``time.ParseDuration``
subset the settings use), and the room's short words for a time shown."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    """``"1m15s"`` -> 75.0; raise ``ValueError`` for anything else."""
    s = text.strip()
    if not s:
        raise ValueError("empty duration")
    pos, total = 0, 0.0
    for match in _PART.finditer(s):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos != len(s):
        raise ValueError(f"bad duration {text!r}: expected e.g. 1m15s, 90s, 500ms")
    return total


def duration_words(seconds: float) -> str:
    """``7m32s``, ``45s``, ``1h05m``: whole seconds, as the leaderboard shows them."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
