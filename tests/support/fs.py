"""Real filesystems for fault tests: a tmpfs of a given size, a read-only folder, a tiny full one.

As root, permission bits do not stop writes, so a read-only folder is a read-only tmpfs mount;
as another user, a folder without write permission. Tests skip only where neither can be made.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount_tmpfs(path: Path, options: str) -> bool:
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *opts: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "100m", plus mount options such as "ro") mounted at ``path`` for
    the block; the test is skipped where it cannot be mounted (not root)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount_tmpfs(path, ",".join([f"size={size}", *opts])):
        pytest.skip("cannot mount a tmpfs here (needs root); the pure disk checks cover the logic")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def readonly_dir(parent: Path) -> Iterator[Path]:
    path = parent / "readonly"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o500)
        try:
            yield path
        finally:
            path.chmod(0o700)
        return
    if not _mount_tmpfs(path, "ro,size=1m"):
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def tiny_filesystem(parent: Path, size: str = "2m") -> Iterator[Path]:
    """A writable tmpfs of ``size`` (root only): writes past it fail with ENOSPC."""
    with tmpfs(parent / "tiny", size) as path:
        yield path
