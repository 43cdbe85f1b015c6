"""Pre-flight checks: pure numbers, real paths, a real tiny filesystem, a python without ensurepip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fs import tmpfs
from tests.support.runplan import make_plan, py_step
from torch_wizard.plan.model import Estimate, Step
from torch_wizard.run.preflight import (
    CACHE_MARGIN,
    GB,
    check_plan,
    disk_problem,
    free_bytes,
    uv_problem,
    venv_problem,
    venv_tool_problem,
)


def test_disk_check_is_a_pure_function_of_numbers() -> None:
    assert disk_problem(10 * GB, 900_000_000, 192_000_000, "/x") == ""
    msg = disk_problem(1 * GB, 900_000_000, 192_000_000, "/x")
    assert msg.startswith("only 1.0 GB free at /x") and "1.2 GB" in msg and "--venv" in msg
    # The cache margin applies even for a tiny download; a big download counts in full.
    assert disk_problem(900_000_000 + CACHE_MARGIN, 900_000_000, 1, "/x") == ""
    assert disk_problem(5_400_000_000 + 2 * GB, 5_400_000_000, 3 * GB, "/x") != ""


def test_venv_paths(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert "is a file" in venv_problem(f, True)
    full = tmp_path / "full"
    full.mkdir()
    (full / "a").write_text("x")
    assert "not a virtual environment" in venv_problem(full, True)
    assert venv_problem(tmp_path / "new" / "deeper", True) == ""
    assert venv_problem(tmp_path / "empty", True) == ""
    existing = tmp_path / "venv"
    existing.mkdir()
    (existing / "pyvenv.cfg").write_text("")
    assert venv_problem(existing, False) == ""
    assert "does not exist" in venv_problem(tmp_path / "nope", False)
    assert "system Python" in venv_problem(
        Path(sys.base_prefix), True, {Path(sys.base_prefix).resolve()}
    )
    managed = tmp_path / "managed"
    managed.mkdir()
    (managed / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    assert "system Python" in venv_problem(managed, True)


def test_plan_for_system_prefix_is_refused() -> None:
    plan = make_plan(Path(sys.base_prefix), py_step("create-venv", "pass"))
    problems = check_plan(plan)
    assert problems and "system Python" in problems[0]


def _fake_python(tmp_path: Path, has_ensurepip: bool) -> Path:
    """A stand-in interpreter: answers the version query, fails `import ensurepip` when told to."""
    exe = tmp_path / "bin" / "python3.11"
    exe.parent.mkdir(parents=True, exist_ok=True)
    code = "exit 0" if has_ensurepip else 'case "$2" in *ensurepip*) exit 1;; esac'
    exe.write_text(f'#!/bin/sh\n{code}\ncase "$2" in *version_info*) echo 3.11;; esac\nexit 0\n')
    exe.chmod(0o755)
    return exe


def _quiet(argv: list[str]) -> int:
    return subprocess.run(argv, capture_output=True, check=False, timeout=30).returncode


def test_python_without_ensurepip_names_the_debian_package(tmp_path: Path) -> None:
    exe = _fake_python(tmp_path, has_ensurepip=False)
    step = Step("create-venv", "Create", (str(exe), "-m", "venv", str(tmp_path / "v")))
    msg = venv_tool_problem(step, "ubuntu", (), _quiet)
    assert "sudo apt install python3.11-venv" in msg and "--installer uv" in msg
    msg = venv_tool_problem(step, "fedora", (), _quiet)
    assert "apt" not in msg and "virtualenv" in msg
    assert venv_tool_problem(step, "ubuntu", (), lambda argv: 0) == ""
    ok = _fake_python(tmp_path / "ok", has_ensurepip=True)
    assert (
        venv_tool_problem(
            Step("create-venv", "c", (str(ok), "-m", "venv", "v")), "debian", (), _quiet
        )
        == ""
    )
    # uv steps need no ensurepip
    assert (
        venv_tool_problem(Step("create-venv", "c", ("uv", "venv", "v")), "debian", (), _quiet) == ""
    )


def test_real_interpreter_passes(tmp_path: Path) -> None:
    plan = make_plan(
        tmp_path / "v",
        Step("create-venv", "c", (sys.executable, "-m", "venv", str(tmp_path / "v"))),
    )
    assert check_plan(plan) == []


def test_uv_steps_need_that_uv_here(tmp_path: Path) -> None:
    fix = "install uv (pip install uv) or use --installer pip"
    real_uv = Path(sys.executable).parent / "uv"  # a dev dependency: beside the interpreter
    empty = tmp_path / "empty"
    empty.mkdir()

    def steps(uv: str) -> list[Step]:
        return [
            Step("create-venv", "c", (uv, "venv", str(tmp_path / "v"))),
            Step("install-torch", "i", (uv, "pip", "install", "torch")),
        ]

    missing = str(tmp_path / "gone" / "bin" / "uv")
    msg = uv_problem(steps(missing))
    assert msg.startswith(f"the plan installs with uv, but {missing} does not exist here")
    assert msg.endswith(fix) and "\n" not in msg
    msg = uv_problem(steps("uv"), path=str(empty))
    assert "no uv was found here" in msg and msg.endswith(fix)
    assert uv_problem(steps(str(real_uv))) == ""
    assert uv_problem(steps("uv"), path=str(real_uv.parent)) == ""
    not_executable = tmp_path / "bin" / "uv"
    not_executable.parent.mkdir()
    not_executable.write_text("")
    assert uv_problem(steps(str(not_executable))) != ""
    # Steps that do not run uv are not its business.
    assert uv_problem([py_step("install-torch", "pass")], path=str(empty)) == ""


def test_check_plan_reports_a_missing_uv(tmp_path: Path) -> None:
    uv = str(tmp_path / "no-uv" / "uv")
    plan = make_plan(tmp_path / "v", Step("create-venv", "c", (uv, "venv", str(tmp_path / "v"))))
    problems = check_plan(plan)
    assert len(problems) == 1 and uv in problems[0] and "--installer pip" in problems[0]


def test_disk_check_uses_the_estimate(tmp_path: Path) -> None:
    plan = make_plan(
        tmp_path / "v",
        py_step("create-venv", "pass"),
        estimate=Estimate(download=10**9, disk=10**18),
    )
    problems = check_plan(plan)
    assert len(problems) == 1 and "free at" in problems[0]
    assert free_bytes(tmp_path / "v" / "deep") > 0


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="mounting a tmpfs needs root on Linux",
)
def test_tiny_real_filesystem_is_refused(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "20m") as small:
        plan = make_plan(
            small / "venv",
            py_step("create-venv", "pass"),
            estimate=Estimate(download=192_000_000, disk=900_000_000),
        )
        problems = check_plan(plan)
        assert len(problems) == 1
        assert problems[0].startswith("only ") and f"MB free at {small}" in problems[0]


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="mounting a tmpfs needs root on Linux",
)
def test_read_only_filesystem_is_not_writable(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m", "ro") as ro:
        plan = make_plan(ro / "venv", py_step("create-venv", "pass"))
        problems = check_plan(plan)
        assert problems and "not writable" in problems[0]
