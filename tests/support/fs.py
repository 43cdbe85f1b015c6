"""Real filesystems for fault tests: a read-only folder and a tiny full one.

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
    path = parent / "tiny"
    path.mkdir()
    if os.geteuid() != 0 or not _mount_tmpfs(path, f"size={size}"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
