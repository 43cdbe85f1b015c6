"""``doctor``: judging an installed torch against a machine (catalog floors and arch gates), and the
real command on real venvs."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from tests.conftest import run_cli
from tests.support.runplan import machine
from torch_wizard import catalog
from torch_wizard.commands.doctor import assess, variant_of
from torch_wizard.machine.model import NvidiaGPU, NvidiaInfo
from torch_wizard.run.verify import VerifyReport

CAT = catalog.load()


def gpu_machine(driver: str, name: str, cc: str):  # type: ignore[no-untyped-def]
    nv = NvidiaInfo(
        driver_version=driver, gpus=(NvidiaGPU(0, name, compute_capability=cc),), device_nodes=True
    )
    return replace(machine(), nvidia=nv)


def cuda_report(torch: str, cuda: str, available: bool = True) -> VerifyReport:
    return VerifyReport(
        ok=available,
        torch=torch,
        cuda_build=cuda,
        cuda_available=available,
        device="cuda" if available else "cpu",
        matmul_ok=True,
    )


def test_variant_of_reports() -> None:
    assert variant_of(cuda_report("2.13.0+cu130", "13.0")) == "cu130"
    assert (
        variant_of(VerifyReport(ok=True, torch="2.13.0+rocm7.0", hip_build="7.0.51831"))
        == "rocm7.0"
    )
    assert variant_of(VerifyReport(ok=True, torch="2.13.0+cpu")) == "cpu"


def test_cu130_wheel_under_an_old_driver() -> None:
    m = gpu_machine("550.54.14", "NVIDIA GeForce RTX 4090", "8.9")
    problems, _ = assess(cuda_report("2.13.0+cu130", "13.0", available=False), m, CAT)
    floor = CAT.driver_floor("13.0", "linux")
    assert any(
        f"needs NVIDIA driver {floor} or newer; this machine has 550.54.14" in p for p in problems
    )
    assert any("driver is likely too old" in p for p in problems)


def test_gpu_not_covered_by_the_build() -> None:
    m = gpu_machine("590.10", "NVIDIA GeForce GTX 1080", "6.1")
    problems, _ = assess(cuda_report("2.13.0+cu130", "13.0"), m, CAT)
    assert any(
        "GeForce GTX 1080 (compute capability 6.1) is not among the architectures" in p
        for p in problems
    )
    ok, _ = assess(
        cuda_report("2.13.0+cu130", "13.0"), gpu_machine("590.10", "RTX 4090", "8.9"), CAT
    )
    assert ok == []


def test_cuda_wheel_without_gpu_and_cpu_wheel_with_gpu() -> None:
    problems, _ = assess(cuda_report("2.13.0+cu128", "12.8", available=False), machine(), CAT)
    assert "no NVIDIA GPU" in problems[0]
    problems, _ = assess(
        VerifyReport(ok=True, torch="2.13.0+cpu", device="cpu", matmul_ok=True),
        gpu_machine("580.65.06", "RTX 4090", "8.9"),
        CAT,
    )
    assert "CPU-only" in problems[0] and "RTX 4090" in problems[0]


def test_healthy_cpu_install() -> None:
    assert assess(
        VerifyReport(ok=True, torch="2.13.0+cpu", device="cpu", matmul_ok=True), machine(), CAT
    ) == ([], [])


def test_doctor_cli_on_a_venv_without_torch(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    r = run_cli("doctor", "--venv", str(venv))
    assert r.returncode == 1
    assert (
        "PROBLEM: torch does not work in this venv: import torch failed: ModuleNotFoundError"
        in r.stdout
    )
    assert "fix:" in r.stdout and "No torch-wizard receipt" in r.stdout


def test_doctor_cli_rejects_a_non_venv(tmp_path: Path) -> None:
    r = run_cli("doctor", "--venv", str(tmp_path))
    assert (
        r.returncode == 2
        and "no virtual environment at" in r.stderr
        and "Traceback" not in r.stderr
    )
