"""One run per venv: an OS lock on a file named after the venv's real path.

The lock file lives in the state directory (``<logs>/locks/<hash>.lock``), not beside the venv, so
no run leaves anything in the user's folders. It holds the holder's pid, start time and venv, for
the message a second run gets. The lock itself is ``flock`` (``msvcrt.locking`` on Windows): the
kernel releases it when the holder dies, however it died, so a lock file left by a killed run is
recognised as stale (its lock is free) and taken over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from torch_wizard.run.paths import log_dir


@dataclass(frozen=True)
class Holder:
    pid: int = 0
    started: str = ""
    venv: str = ""


class VenvBusy(Exception):
    """Another live run holds the venv's lock."""

    def __init__(self, venv: Path, holder: Holder) -> None:
        self.venv = venv
        self.holder = holder
        who = f"pid {holder.pid}, started {holder.started}" if holder.pid else "another process"
        super().__init__(
            f"another torch-wizard run ({who}) is installing into {venv}: wait for it to finish "
            "or stop it, then run this again"
        )


def lock_path(venv: Path, state_dir: str | os.PathLike[str] | None = None) -> Path:
    key = hashlib.sha256(os.path.realpath(venv).encode("utf-8", "surrogateescape")).hexdigest()
    return log_dir(state_dir) / "locks" / f"{key[:24]}.lock"


def _try_lock(fh: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _read_holder(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data.get("pid", 0)), str(data.get("started", "")), str(data["venv"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Holder()


class VenvLock:
    """``acquire()`` raises ``VenvBusy``; ``stale`` says whether a dead run's file was taken over."""

    def __init__(self, venv: Path, state_dir: str | os.PathLike[str] | None = None) -> None:
        self.venv = venv
        self.path = lock_path(venv, state_dir)
        self.stale: Holder | None = None
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
            if not _try_lock(fh):
                fh.close()
                raise VenvBusy(self.venv, _read_holder(self.path))
            # The holder before us may have unlinked the file between our open and our lock:
            # then we locked a file nobody else can see; start again on the current one.
            try:
                same = os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same and os.name != "nt":
                fh.close()
                continue
            previous = _read_holder(self.path)
            if previous.pid and previous.pid != os.getpid():
                self.stale = previous
            fh.seek(0)
            fh.truncate()
            holder = {
                "pid": os.getpid(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                "venv": str(self.venv),
            }
            fh.write(json.dumps(holder) + "\n")
            fh.flush()
            self._fh = fh
            return
        raise VenvBusy(self.venv, _read_holder(self.path))  # pragma: no cover - a lock storm

    def release(self) -> None:
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # before unlocking: a waiter then sees the inode change
        self._fh.close()
        self._fh = None
