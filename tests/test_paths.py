"""Where torch-wizard keeps its own files on this machine: the folders come from platformdirs
and follow the process environment (XDG_STATE_HOME and XDG_CONFIG_HOME on Linux), checked in a
real child process so nothing of this test's environment is patched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the XDG folders are Linux's"
)

SHOW = (
    "from torch_wizard.run.paths import log_dir; from torch_wizard.run.lock import lock_path; "
    "from pathlib import Path; print(log_dir()); print(lock_path(Path('/v')).parent)"
)


def _folders(home: Path, **env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    base.update(HOME=str(home), **env)
    proc = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=home.parent,
        capture_output=True,
        text=True,
        env=base,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_logs_and_locks_follow_an_absolute_xdg_state_home(tmp_path: Path) -> None:
    state = tmp_path / "state"
    logs = state / "torch-wizard" / "logs"
    assert _folders(tmp_path / "home", XDG_STATE_HOME=str(state)) == [
        str(logs),
        str(logs / "locks"),
    ]


@pytest.mark.parametrize("xdg", [None, "", "relative/state"])
def test_no_or_a_relative_xdg_state_home_means_the_home_state_folder(
    tmp_path: Path, xdg: str | None
) -> None:
    home = tmp_path / "home"
    env = {} if xdg is None else {"XDG_STATE_HOME": xdg}
    logs = home / ".local" / "state" / "torch-wizard" / "logs"
    assert _folders(home, **env)[0] == str(logs)
    assert not (tmp_path / "relative").exists() and not home.exists()  # nothing is created
