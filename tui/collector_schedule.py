"""The garbage collector on the room's tick, not on the allocator's count.

Every frame Textual renders leaves its strips as cyclic garbage (a ``Strip`` caches
itself when a crop or a divide leaves it whole, so only the collector frees it). Left
to the allocator's count, a young collection came every ~50,000 allocations and freed
~34,000 such objects at once: 25-85 ms in which a key waited (``bench.key_latency``,
20,000 log lines/s). On the tick instead, each collection frees one tick's garbage
(~1 ms), and never in the middle of a key's frame.

Textual pauses the collector while it scrolls (``App.PAUSE_GC_ON_SCROLL``) for the same
reason. Process-wide, so only the room's App keeps the schedule.
"""

from __future__ import annotations

import gc

MIDDLE_EVERY = 5
"""Ticks between collections of the middle generation (what survived a few ticks)."""
FULL_EVERY = 600
"""Ticks between full collections (a minute at 10 Hz, ~25 ms each): cached strips that
lived long enough to grow old are freed, and the memory stays flat."""
THRESHOLDS = (200_000, 1_000, 1_000)
"""The allocator's own collections, kept only as a backstop for when ticks stop (the
room's loop is busy or the room has closed): far above one tick's allocations
(~12,000 under the flood), so while the room ticks it never collects by itself."""


def start_schedule() -> None:
    """Once the room is built: its tens of thousands of long-lived objects (widgets,
    styles, modules) leave the collector's sight (``gc.freeze``), and the allocator's
    count no longer starts collections while the room ticks."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


PHASE = 3
"""The older collections fall off the multiples of ten, where the room's slow frames
(pane logs, the sparkline) are: their costs never add up in one tick."""


def collect_on_tick(tick: int) -> None:
    """The collection due on ``tick``: the young generation every tick, the middle one
    every ``MIDDLE_EVERY`` and all of them every ``FULL_EVERY``."""
    if tick % FULL_EVERY == PHASE:
        gc.collect(2)
    elif tick % MIDDLE_EVERY == PHASE % MIDDLE_EVERY:
        gc.collect(1)
    else:
        gc.collect(0)
