"""Keep secrets and multi-line noise off the stage: everything shown passes through here."""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)[^@\s]+@")
_KEY_VALUE = re.compile(
    r"(?i)\b(?P<key>password|passwd|secret|token|api[_-]?key|x-auth-token|sslpassword)"
    r"(?P<sep>\s*[=:]\s*)(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;&]+)"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL
)
MAX_LINE = 300


def redact(text: str) -> str:
    """Mask passwords in URLs, ``password=...``-style pairs and PEM private keys."""
    text = _PRIVATE_KEY.sub("[private key redacted]", text)
    text = _URL_PASSWORD.sub(r"\g<scheme>***@", text)
    return _KEY_VALUE.sub(r"\g<key>\g<sep>***", text)


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """Redacted, whitespace folded to single spaces, and cut to ``limit`` characters."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
