"""Where runs leave their traces: the log directory per OS, log file names, the receipt path.

- Linux and other Unixes: ``$XDG_STATE_HOME/torch-wizard/logs`` (default ``~/.local/state``), as
  the XDG Base Directory Specification puts logs under the state home.
- macOS: ``~/Library/Logs/torch-wizard`` (Apple's File System Programming Guide: Library/Logs).
- Windows: ``%LOCALAPPDATA%\\torch-wizard\\logs``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from wizard.plan.model import Plan

APP = "torch-wizard"
RECEIPT_NAME = "torch-wizard-receipt.json"


def default_log_dir(
    platform: str | None = None, env: Mapping[str, str] | None = None, home: str | None = None
) -> Path:
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home_dir = Path(home or os.path.expanduser("~"))
    if platform.startswith("win"):
        base = env.get("LOCALAPPDATA") or str(home_dir / "AppData" / "Local")
        return Path(base) / APP / "logs"
    if platform == "darwin":
        return home_dir / "Library" / "Logs" / APP
    state = env.get("XDG_STATE_HOME", "")
    base_path = Path(state) if state and os.path.isabs(state) else home_dir / ".local" / "state"
    return base_path / APP / "logs"


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
