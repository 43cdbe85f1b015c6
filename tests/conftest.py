"""Shared fixtures. Each area keeps its own helpers in tests/support/."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The note about a catalog older than 120 days depends on today's date: off for the suite (the
# tests of the note itself turn it on), so no output changes the day the catalog turns 121.
os.environ.setdefault("TORCH_WIZARD_DISABLE_CATALOG_AGE_CHECK", "1")
# Every process the suite starts behaves the same on a developer's machine as on CI: no user
# config of the developer's (an answers-style config.toml would change the plans) and no
# activated venv (VIRTUAL_ENV is a default target). Tests of those set them explicitly.
_CONFIG_HOME = tempfile.mkdtemp(prefix="torch-wizard-test-config-")
atexit.register(shutil.rmtree, _CONFIG_HOME, True)
os.environ["XDG_CONFIG_HOME"] = _CONFIG_HOME
for _name in ("TORCH_WIZARD_CONFIG", "VIRTUAL_ENV"):
    os.environ.pop(_name, None)
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``torch-wizard`` command (as ``python -m torch_wizard``) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
        check=False,
    )
