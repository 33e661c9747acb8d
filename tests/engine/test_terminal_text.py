"""Outside text made safe to show (``engine.terminal_text``) and secrets masked in it.

Property tests drive arbitrary text (escape sequences, C1 controls, BEL, CR, bidi
overrides, lone surrogates, markup brackets) through ``visible``, ``shown`` and the
stream every headless command prints through.
"""

from __future__ import annotations

import io
import logging
import re
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.library_logs import LIBRARY_LOGGERS, route_library_logs
from engine.redact import redact
from engine.terminal_text import SHOWN_LIMIT, TerminalSafeStream, shown, visible

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
"""What must never reach a terminal from outside text (a newline only from us)."""
HOSTILE = (
    "\x1b]0;pwned\x07",  # OSC: retitles the terminal
    "\x1b[31;1mred",  # CSI: paints
    "\x9b2J",  # C1 CSI: clears the screen on 8-bit terminals
    "a\rb",  # carriage return: overwrites the line
    "\x1b[2J\x1b[H",  # clear screen, cursor home
    "[reverse]x[/reverse] [/b]",  # markup
    "\u202eevil",  # right-to-left override
    "\ud800",  # lone surrogate: cannot even be encoded
)
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(),
    st.text(alphabet=st.sampled_from(list("\x1b\x9b\x07\r\n\t\x00\x7f[]/;0ab\u202e\u2028"))),
)


@given(hostile_text)
@settings(max_examples=300)
def test_visible_makes_every_control_visible_one_for_one(text: str) -> None:
    out = visible(text)
    assert not UNSAFE.search(out)
    assert len(out) == len(text)
    assert visible(out) == out
    for before, after in zip(text, out, strict=True):
        if before.isprintable() and before not in "\u115f\u1160":  # Hangul fillers: blank
            assert before == after  # everything printable passes untouched
    out.encode("utf-8")  # a lone surrogate would raise here


def test_visible_uses_control_pictures() -> None:
    assert visible("\x1b]0;t\x07") == "␛]0;t␇"
    assert visible("a\r\nb\x7f") == "a␍␊b␡"
    assert visible("\x9b2J") == "\ufffd2J"


@given(hostile_text, st.integers(min_value=1, max_value=50))
@settings(max_examples=200)
def test_shown_is_safe_and_capped_with_a_mark(text: str, limit: int) -> None:
    out = shown(text, limit)
    assert not UNSAFE.search(out)
    if len(text) > limit:
        assert out.endswith(f"… [+{len(text) - limit:,} chars]")
        assert len(out) <= limit + len(f"… [+{len(text):,} chars]")


def test_a_megabyte_line_is_shown_capped() -> None:
    out = shown("x" * 1_000_000)
    assert out == "x" * SHOWN_LIMIT + f"… [+{1_000_000 - SHOWN_LIMIT:,} chars]"


@given(st.lists(hostile_text, max_size=8), st.lists(st.integers(0, 30), max_size=8))
@settings(max_examples=200)
@example(["\x1b]0;pwn", "ed\x07 password=", "hunter2\n"], [])
def test_the_print_stream_lets_no_control_through(pieces: list[str], cuts: list[int]) -> None:
    raw = io.StringIO()
    stream = TerminalSafeStream(raw)
    text = "".join(pieces)
    at = 0
    for cut in cuts:  # written in arbitrary pieces, as print() does
        stream.write(text[at : at + cut])
        at += cut
    stream.write(text[at:])
    stream.flush()
    out = raw.getvalue()
    assert not UNSAFE.search(out.replace("\n", ""))
    assert out.count("\n") == text.count("\n")
    assert "hunter2" not in out


SECRET = "s3cr3t-Pw.42"


def test_secrets_in_urls_and_pairs_are_masked() -> None:
    lines = [
        f"http://admin:{SECRET}@127.0.0.1:5000/v3",
        f"https://keystone/v3?password={SECRET}&x=1",
        f"https://keystone/v3?os_password={SECRET}",
        f'{{"application_credential_secret": "{SECRET}"}}',
        f"client_secret={SECRET}",
        f"X-Auth-Token: {SECRET}",
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END OPENSSH PRIVATE KEY-----",
    ]
    for line in lines:
        assert SECRET not in redact(line), line
        assert SECRET not in shown(line), line


@given(st.integers(min_value=1, max_value=80))
def test_a_secret_cut_by_the_cap_is_masked_too(limit: int) -> None:
    for line in (f"go http://admin:{SECRET}@host/", f"password={SECRET} more"):
        assert SECRET[:4] not in shown(line, limit)


def test_library_loggers_go_through_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """keystoneauth's warning names the auth URL with its credentials."""
    route_library_logs()
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)  # the handler writes to stderr as it is now
    logging.getLogger("keystoneauth.identity.generic.base").warning(
        "Failed to discover available identity versions when contacting %s.",
        f"http://admin:{SECRET}@127.0.0.1:9/v3?password={SECRET}\x1b]0;t\x07",
    )
    for name in LIBRARY_LOGGERS:  # openstacksdk, urllib3 and kubernetes log URLs as well
        logging.getLogger(f"{name}.sub").warning("%s: retry /v3?token=%s", name, SECRET)
    out = err.getvalue()
    assert "Failed to discover" in out
    assert all(f"{name}: retry" in out for name in LIBRARY_LOGGERS)
    assert SECRET not in out
    assert "\x1b" not in out
