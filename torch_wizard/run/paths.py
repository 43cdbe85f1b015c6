"""Where runs leave their traces: the log directory per OS, log file names, the receipt path.

The log folder comes from platformdirs (the library pip, virtualenv and Textual use for these
places), so it is where each OS expects it:

- Linux and other Unixes: ``$XDG_STATE_HOME/torch-wizard/logs`` (default ``~/.local/state``; a
  relative ``XDG_STATE_HOME`` is ignored, as the XDG Base Directory Specification says), since
  the specification puts logs under the state home.
- macOS: ``~/Library/Logs/torch-wizard`` (Apple's File System Programming Guide: Library/Logs).
- Windows: ``%LOCALAPPDATA%\\torch-wizard\\Logs``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from torch_wizard.plan.model import Plan

APP = "torch-wizard"
RECEIPT_NAME = "torch-wizard-receipt.json"


def default_log_dir() -> Path:
    """This machine's log folder for torch-wizard, from platformdirs (see the module docstring):
    its user state folder plus ``logs`` on Linux and other Unixes, its user log folder on macOS
    and Windows. The folder follows the process environment; nothing is created."""
    import platformdirs

    if sys.platform.startswith("win") or sys.platform == "darwin":
        return platformdirs.user_log_path(APP, appauthor=False)
    return platformdirs.user_state_path(APP, appauthor=False) / "logs"


def log_dir(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """``state_dir/logs`` when given (tests, portable setups), else the per-OS default."""
    if state_dir:
        return Path(state_dir) / "logs"
    return default_log_dir()


def plan_slug(plan: Plan) -> str:
    c = plan.choice
    raw = f"torch-{c.torch or 'latest'}-{c.backend or 'auto'}-{c.installer}"
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", raw).strip("-") or "plan"


def new_log_path(plan: Plan, directory: Path, now: float | None = None) -> Path:
    """``<directory>/<YYYYmmdd-HHMMSS>-<plan>.log``; a numeric suffix keeps names unique."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = f"{stamp}-{plan_slug(plan)}"
    path = directory / f"{base}.log"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{base}-{n}.log"
    return path


def receipt_path(venv: str | os.PathLike[str]) -> Path:
    return Path(venv) / RECEIPT_NAME


def home_problem(platform: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """ "" unless ``HOME`` is set but empty on Linux and other Unixes and no absolute
    ``XDG_STATE_HOME`` names the log folder. ``os.path.expanduser`` would make ``~`` the root
    folder (``/.local``) and platformdirs falls back to the account's home instead, so where the
    logs went would depend on the library; the run refuses, naming the fix."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if platform.startswith("win") or platform == "darwin":
        return ""
    if os.path.isabs(env.get("XDG_STATE_HOME", "")) or env.get("HOME", None) != "":
        return ""
    return (
        "HOME is set but empty, so torch-wizard has no home folder for its logs: set HOME to "
        "your home folder or XDG_STATE_HOME to a folder you can write"
    )


def _blocker(folder: Path) -> tuple[Path, str]:
    """The nearest existing part of ``folder`` and what stops a folder being made there ("")."""
    p = folder
    while True:
        try:
            if p.exists() or p == p.parent:
                break
        except OSError:
            pass
        p = p.parent
    if not p.is_dir():
        return p, "is a file, not a folder"
    if not os.access(p, os.W_OK):
        return p, "is not writable"
    return p, ""


def state_problem(
    log_path: Path, lock_path: Path, *, log_given: bool = False, default_state: bool = True
) -> str:
    """ "" when the run can write its log at ``log_path`` and its lock at ``lock_path``, else one
    sentence naming where and the fix. Nothing is created: a pre-flight check."""
    if default_state:
        problem = home_problem()
        if problem:
            return problem
    state_fix = (
        "set XDG_STATE_HOME to a folder you can write"
        if default_state and not sys.platform.startswith("win") and sys.platform != "darwin"
        else "choose a state folder you can write"
    )
    if log_given:
        if log_path.is_dir():
            return (
                f"--log {log_path} is a folder: give a file name, e.g. --log "
                f"{log_path / 'install.log'}"
            )
        where, why = _blocker(log_path.parent)
        if why:
            return (
                f"cannot write the log {log_path}: {where} {why}; pass --log with a file in a "
                "folder you can write"
            )
    else:
        where, why = _blocker(log_path.parent)
        if why:
            return f"cannot write the log under {log_path.parent}: {where} {why}; {state_fix}"
    where, why = _blocker(lock_path.parent)
    if why:
        return f"cannot keep the run's lock under {lock_path.parent}: {where} {why}; {state_fix}"
    return ""


def missing_folders(*folders: Path) -> list[Path]:
    """The folders (and their parents) of ``folders`` that do not exist yet, deepest first."""
    out: list[Path] = []
    for folder in folders:
        p = folder
        while p != p.parent:
            try:
                if p.exists():
                    break
            except OSError:
                break
            if p not in out:
                out.append(p)
            p = p.parent
    return sorted(out, key=lambda q: len(q.parts), reverse=True)


def remove_empty(folders: list[Path]) -> None:
    """Remove those of ``folders`` (deepest first) that exist and are empty."""
    for p in folders:
        with contextlib.suppress(OSError):
            p.rmdir()
