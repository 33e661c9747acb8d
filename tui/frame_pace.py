"""How soon the screen may repaint after a frame: Textual's frame cap, chosen before
Textual is imported (it reads ``TEXTUAL_FPS`` once, at import).

Textual paints at most ``TEXTUAL_FPS`` frames a second (60 by default) on a fixed grid
of slots, and after a frame the next one waits for the next-but-one slot: a key pressed
just after a frame waited 17-33 ms for its own (textual 8.2.8: ``src/textual/timer.py``
``Timer._run`` skips to the slot after the next; ``src/textual/screen.py``
``UPDATE_PERIOD``). The room paints on its own 10 Hz tick and on keys, never per event,
so a higher cap costs no extra frames; at 240 a key's frame follows within 4-8 ms.
A value already in the environment (textual-serve sets its own) is kept.
"""

from __future__ import annotations

import os
import sys

FRAME_CAP = 240
"""Frames a second Textual may paint; the room's own tick keeps it near 10-20."""


def allow_fast_frames() -> bool:
    """Set the frame cap for this process unless one is set; False when Textual's
    screens were already imported (then it is too late to take effect)."""
    os.environ.setdefault("TEXTUAL_FPS", str(FRAME_CAP))
    return "textual.screen" not in sys.modules
