"""Keep secrets and multi-line noise off the stage: everything shown passes through here.

Every pattern runs in time linear in the text, whatever the text: each one starts at a
literal anchor (``://``, a key word, ``-----BEGIN``) that it can recognise in bounded
steps, and its unbounded parts stop at characters that end a secret, so two attempts
never scan the same stretch twice. (The old scheme pattern retried a long run of letters
from every letter in it: a 50 KB log line took seconds, a megabyte froze the screen.)
"""

from __future__ import annotations

import re

_SCHEME = r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,31}://"
"""A URL scheme, found only where a word starts and at most 32 characters long."""
_URL_USERINFO = re.compile(rf"(?P<head>{_SCHEME}[^:/?#@\s]{{0,256}}:)[^/?#@\s]*@")
"""``scheme://user:password@``: RFC 3986 userinfo holds no ``/ ? # @``."""
_URL_USERINFO_CUT = re.compile(rf"(?P<head>{_SCHEME}[^:/?#@\s]{{0,256}}:)[^/?#@\s]*$")
"""The same, cut off before its ``@`` (only asked of text that was cut)."""
_KEY_VALUE = re.compile(
    r"(?i)\b(?P<key>[a-z0-9_]{0,64}?(?:password|passwd|secret|token|api[_-]?key|credential))"
    r"(?P<sep>[\"']?[ \t]{0,8}[=:][ \t]{0,8})"
    r"(?P<value>'[^'\n]*'|\"[^\"\n]*\"|[^\s,;&]+)"
)
"""``password=x``, ``os_password: x``, ``?token=x&``, ``"client_secret": "x"``."""
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----.*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|$)",
    re.DOTALL,
)
MAX_LINE = 300
_TRIGGERS = ("password", "passwd", "secret", "token", "key", "credential", "-----begin")
"""Words one of the patterns needs: ASCII text holding none of them (in any case) and no
``://`` cannot match, so it skips the patterns, about ten times cheaper for a typical log
line. Other text takes the patterns (``(?i)`` folds some non-ASCII letters to ASCII)."""


def redact(text: str, *, cut: bool = False) -> str:
    """Mask passwords in URLs (userinfo and query), ``key=value`` secrets and PEM keys.

    ``cut`` says the text is the head of a longer one: a URL's userinfo that runs to the
    end is then masked too, since its ``@`` may lie beyond the cut.
    """
    if text.isascii() and "://" not in text:
        lowered = text.lower()
        if not any(word in lowered for word in _TRIGGERS):
            return text
    text = _PRIVATE_KEY.sub("[private key redacted]", text)
    text = _URL_USERINFO.sub(r"\g<head>***@", text)
    if cut:
        text = _URL_USERINFO_CUT.sub(r"\g<head>***", text)
    return _KEY_VALUE.sub(r"\g<key>\g<sep>***", text)


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """Redacted, whitespace folded to single spaces, and cut to ``limit`` characters."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
