"""Source installs through the real CLI: blockers stop the plan before anything runs, and a build
that fails before torch is installed leaves no half-made venv behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import FIXTURES, run_cli

MACHINES = FIXTURES / "machines"


def _install_via_saved_plan(
    tmp_path: Path, *choices: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`install` runs on the machine it plans for: a fixture root's plan is saved with `plan`
    and run with `install --plan`, as a lab admin would."""
    plan = run_cli("plan", *choices, "--format", "json", env=_env(tmp_path))
    assert plan.returncode == 0, plan.stderr
    saved = tmp_path / "plan.json"
    saved.write_text(plan.stdout)
    proc = run_cli("install", "--plan", str(saved), "--yes", env=_env(tmp_path), timeout=timeout)
    saved.unlink()
    return proc


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
    }


def test_source_install_with_blockers_is_refused_before_anything_runs(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    proc = _install_via_saved_plan(
        tmp_path,
        "--root",
        str(MACHINES / "src-old-toolchain"),
        "--build",
        "source",
        "--venv",
        str(venv),
        "--source-dir",
        str(tmp_path / "src"),
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "GCC 10.2.1 is older than 11.3" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not venv.exists()
    assert not (tmp_path / "src").exists()
    assert not (tmp_path / "state").exists()


def test_failed_clone_removes_the_venv_it_created(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    proc = _install_via_saved_plan(
        tmp_path,
        "--root",
        str(MACHINES / "cpu-server"),
        "--build",
        "source",
        "--venv",
        str(venv),
        "--source-url",
        str(tmp_path / "no-such-checkout"),
        "--source-dir",
        str(tmp_path / "src"),
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert not venv.exists()
    assert "before torch was installed" in proc.stderr
    logs = list((tmp_path / "state" / "torch-wizard" / "logs").glob("*.log"))
    assert len(logs) == 1
