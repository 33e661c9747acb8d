"""Reading a small file the user named, safely: never block, never read without bound.

A demo file or kubeconfig path may name a FIFO (``open`` would wait for a writer forever),
a device (``/dev/zero`` never ends), a huge file, an unknown ``~user`` or a path longer than
the system allows. Each becomes one short reason instead of a hang, a memory blow-up or a
traceback. The file is opened non-blocking and checked with ``fstat`` on the open
descriptor, so what is checked is what is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

DEMO_FILE_MAX_BYTES = 1 << 20
"""A demo file for 200 clouds with comments is well under 100 KB."""
KUBECONFIG_MAX_BYTES = 4 << 20
"""Kubeconfigs carry certificates; big ones with many contexts stay under a megabyte."""


class UnreadableFile(Exception):
    """``reason`` is a short phrase to follow the file's name: ``is a FIFO, not a file``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def expand_user(text: str) -> Path:
    """``Path(text).expanduser()``, with an unknown ``~user`` as an ``UnreadableFile``."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text.split("/", 1)[0]
        raise UnreadableFile(f"cannot resolve {user}: no such user or home folder") from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    return "is not a regular file"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ENAMETOOLONG:
        return "path too long"
    if exc.errno == errno.ELOOP:
        return "too many symbolic links"
    if exc.errno == errno.ENOTDIR:
        return "file not found (a part of the path is not a folder)"
    return f"cannot read: {exc.strerror or exc}"


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; else ``UnreadableFile``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise UnreadableFile(_reason(exc)) from None
    except ValueError:  # an embedded NUL byte
        raise UnreadableFile("not a valid path") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(_kind(info.st_mode))
        if info.st_size > limit:
            raise UnreadableFile(f"too large ({info.st_size} bytes; at most {limit})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while being read
            raise UnreadableFile(f"too large (over {limit} bytes)")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(_reason(exc)) from None
    finally:
        os.close(fd)


def regular_file_problem(path: Path) -> str | None:
    """Why ``path`` is not an existing regular file (without opening it), or ``None``."""
    try:
        info = path.stat()
    except OSError as exc:
        return _reason(exc)
    except ValueError:  # an embedded NUL byte
        return "not a valid path"
    return None if stat.S_ISREG(info.st_mode) else _kind(info.st_mode)
