"""Where the libraries' own loggers go: through the same redaction as our text.

keystoneauth logs the auth URL it failed to reach as a warning, credentials and all
(``Failed to discover available identity versions when contacting
http://user:password@host/v3?password=...``), and Python's last-resort handler prints
that raw to stderr. openstacksdk, urllib3 (retries name the URL with its query) and the
kubernetes client log in the same way. ``route_library_logs`` gives the root logger one
handler that writes every record ``shown`` (secrets masked, controls visible, capped) to
whatever ``sys.stderr`` is at that moment: the terminal for a headless command, Textual's
capture while the screen runs (never over the screen).
"""

from __future__ import annotations

import logging
import sys

from engine.terminal_text import shown

LIBRARY_LOGGERS = ("keystoneauth", "openstack", "urllib3", "kubernetes", "stevedore")
"""The loggers known to carry URLs, tokens or cloud answers; all end at the root handler."""


class RedactingFormatter(logging.Formatter):
    """The usual formatting (with the traceback, if any), then ``shown`` line by line."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(shown(line) for line in super().format(record).split("\n"))


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler bound to ``sys.stderr`` when it writes, not when it was made."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        """The stream is always the current ``sys.stderr``."""


def route_library_logs(level: int = logging.WARNING) -> logging.Handler:
    """Install the redacting handler on the root logger (once); returns it."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, CurrentStderrHandler):
            return handler
    handler = CurrentStderrHandler()
    handler.setFormatter(RedactingFormatter("%(name)s: %(levelname)s: %(message)s"))
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return handler
