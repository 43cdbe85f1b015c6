"""Reading the small files a user names (a profile, a saved plan): never block, never flood.
And ``sha256_of``, the digest of a (large) file read in blocks.

``read_small_text(path, what, hint)`` opens without blocking (a FIFO or a device would otherwise
hang the open or the read), accepts only a regular file, and reads at most ``limit`` bytes, so
``--profile /dev/zero`` or a named pipe is one clear ``UsageError`` instead of a hang or an
exhausted memory.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from torch_wizard.errors import UsageError

LIMIT = 8 * 1024 * 1024  # a profile is ~5 KB and a plan ~20 KB; this is far beyond both


def read_small_text(path: str | Path, what: str, hint: str, limit: int = LIMIT) -> str:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file; {hint}") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a directory, not a file; {hint}") from None
    except OSError as err:
        raise UsageError(f"{what} {path}: cannot read it ({err.strerror}); {hint}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{what} {path} is a directory, not a file; {hint}")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{what} {path} is not a regular file (a pipe or a device?); {hint}")
        data = os.read(fd, limit + 1)
        chunks = [data]
        while data and sum(map(len, chunks)) <= limit:
            data = os.read(fd, limit + 1)
            chunks.append(data)
    except OSError as err:
        raise UsageError(f"{what} {path}: cannot read it ({err.strerror}); {hint}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise UsageError(
            f"{what} {path} is larger than {limit // (1024 * 1024)} MB, far more than a "
            f"torch-wizard file; {hint}"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path} is not UTF-8 text; {hint}") from None


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of the file at ``path``, read 1 MiB at a time (wheels are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
