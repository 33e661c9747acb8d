"""Text from outside (clouds, the cluster, recordings, demo files) made safe to show.

Outside text is data: it must reach the terminal literally. A log line holding
``ESC ] 0 ; title BEL`` would retitle the presenter's terminal, ``ESC [ 41 m`` would paint
it, a C1 ``CSI`` (U+009B) does the same on terminals that read 8-bit controls, and a
bidi override or a line separator reorders or breaks what the presenter reads. Neither
Rich nor Textual removes these (Rich's ``Text`` drops only BEL, BS, VT, FF and CR;
Textual's ``Log`` replaces only U+0000-U+0014), so every place that shows outside
text, on the screen or in a printed line, goes through ``visible`` or ``shown``.

``visible`` maps each such character to one visible character, so the text keeps its
length and a layout measured before it still fits: C0 controls and DEL become their
Unicode control pictures (``ESC`` -> ``␛``), a tab becomes a space, and C1 controls,
invisible format characters, line/paragraph separators and lone surrogates (which a
terminal cannot even be sent as UTF-8) become ``�``.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from engine.redact import redact

SHOWN_LIMIT = 2_000
"""Characters of one outside line shown at most (a terminal is a few hundred wide; the
full line stays in the run directory). Past it: ``… [+N chars]``."""
LOOKAHEAD = 256
"""Characters past the cut still given to redaction, so a quoted secret that begins
before the cut is recognised whole. (A secret cut short is masked anyway: redaction of
cut text masks a value, a URL's userinfo or a PEM key that runs to the end.)"""

_PICTURES: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
_PICTURES[0x09] = " "
_PICTURES[0x7F] = "\u2421"
_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u00ad\u061c\u115f\u1160\u180e"  # soft hyphen, Arabic letter mark, fillers
    "\u200b-\u200f"  # zero-width space/joiners, LRM/RLM
    "\u2028-\u202e"  # line/paragraph separators, bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates
    "\ufeff\ufff9-\ufffb"  # byte-order mark, interlinear annotation
    "\ud800-\udfff"  # lone surrogates
    "\U000e0000-\U000e007f"  # tag characters
    "]"
)


def _picture(match: re.Match[str]) -> str:
    return _PICTURES.get(ord(match.group()), "\ufffd")


def visible(text: str) -> str:
    """``text`` with every terminal control and invisible format character made visible,
    one character for one (so it measures as before)."""
    if text.isprintable():
        return text
    return _UNSAFE.sub(_picture, text)


def shown(text: str, limit: int = SHOWN_LIMIT) -> str:
    """One piece of outside text as it may be shown: secrets masked (``engine.redact``),
    cut to ``limit`` characters with ``… [+N chars]``, and made ``visible``.

    Linear in ``limit``, not in the text: a megabyte line costs what a short one does.
    """
    if len(text) <= limit:
        return visible(redact(text))
    head = redact(text[: limit + LOOKAHEAD], cut=True)[:limit]
    return visible(head) + f"… [+{len(text) - limit:,} chars]"


class TerminalSafeStream(io.TextIOBase):
    """A text stream for the terminal that passes on every line ``shown`` (in full:
    printed lines are not cut), so no printed line, whoever prints it, carries a secret
    or a control sequence. Lines are joined before they are cleaned (``print`` writes a
    line in pieces); ``flush`` passes on a partial line.
    """

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw
        self._pending: list[str] = []

    def _clean(self, line: str) -> str:
        return visible(redact(line))

    def write(self, s: str) -> int:
        if "\n" not in s:
            self._pending.append(s)
            return len(s)
        *lines, rest = s.split("\n")
        lines[0] = "".join(self._pending) + lines[0]
        self._pending = [rest] if rest else []
        self.raw.write("".join(self._clean(line) + "\n" for line in lines))
        return len(s)

    def flush(self) -> None:
        if self._pending:
            self.raw.write(self._clean("".join(self._pending)))
            self._pending = []
        self.raw.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.raw.errors


@contextmanager
def safe_standard_streams() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as ``TerminalSafeStream`` while the block runs;
    partial lines are flushed and the old streams put back after it."""
    old_out, old_err = sys.stdout, sys.stderr
    out, err = TerminalSafeStream(old_out), TerminalSafeStream(old_err)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        out.flush()
        err.flush()
