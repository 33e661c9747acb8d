"""Step failures the runner understands: transient ones are retried, the rest stop one cloud.

Messages are one line, meant for the stage, and must never carry a secret.
"""

from __future__ import annotations


class StepError(Exception):
    """A step could not do its work; ``message`` is the one line the presenter sees."""

    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())


class TransientStepError(StepError):
    """Worth retrying with backoff: 5xx, connection reset, a busy resource."""

    transient = True


class PermanentStepError(StepError):
    """Retrying cannot help: bad credentials, quota exceeded, image not found."""


class ConfigError(Exception):
    """Bad input in a demo file; ``lines`` are ``file:line: field: problem`` strings."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
