"""Issue 11: plans for driverless, old, mixed and Windows GPU machines (fixture roots, the real
CLI), each with its expected backend, torch and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from torch_wizard.machine import detect
from torch_wizard.plan import Choices, explore

MACHINES = Path(__file__).parent / "fixtures" / "machines"


def plan(name: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch_wizard",
            "plan",
            "--root",
            str(MACHINES / name),
            "--venv",
            str(tmp_path / "venv"),
            "--format",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def said(data: dict[str, Any], *parts: str) -> str:
    """The one reason or warning containing every part."""
    hits = [s for s in data["reasons"] + data["warnings"] if all(p in s for p in parts)]
    assert hits, f"no message with {parts}: {data['reasons'] + data['warnings']}"
    return hits[0]


def test_rtx4090_with_nouveau_plans_cpu_now_and_names_the_driver(tmp_path: Path) -> None:
    data = plan("rtx4090-nouveau", tmp_path)
    assert (data["choice"]["backend"], data["choice"]["torch"]) == ("cpu", "2.15.0")
    assert data["choice"]["index_url"].endswith("/whl/cpu")
    said(data, "NVIDIA GeForce RTX 4090 (8.9) found", "nouveau driver in use cannot run CUDA")
    advice = said(data, "Install NVIDIA's driver")
    assert "580 or newer" in advice and "CUDA 13.x" in advice
    assert "`sudo ubuntu-drivers install`" in advice
    assert "torch 2.15.0 with CUDA 13.2 (cu132)" in advice
    said(data, "Until then, the CPU build", "--backend cu132")
    assert not any("pip install" in s and "nvidia" in s for s in json.dumps(data["steps"]))


def test_driver_and_then_the_cuda_build_it_promised(tmp_path: Path) -> None:
    """Once the driver is there, the plan is the one the advice named."""
    data = plan("rtx4090-nouveau", tmp_path, "--nvidia-driver", "580.95.05")
    assert (data["choice"]["backend"], data["choice"]["torch"]) == ("cu132", "2.15.0")


def test_rtx3060_fedora_command(tmp_path: Path) -> None:
    data = plan("rtx3060-no-driver", tmp_path)
    assert data["choice"]["backend"] == "cpu"
    advice = said(data, "Install NVIDIA's driver")
    assert "`sudo dnf install akmod-nvidia xorg-x11-drv-nvidia-cuda`" in advice
    assert "RPM Fusion" in advice
    said(data, "NVIDIA GeForce RTX 3060 (8.6) found, but no NVIDIA driver is loaded.")


def test_explicit_cuda_backend_without_a_driver_is_allowed_with_a_warning(tmp_path: Path) -> None:
    data = plan("rtx4090-nouveau", tmp_path, "--backend", "cu132")
    assert data["choice"]["backend"] == "cu132"
    said(data, "cu132 may not work on this machine", "no NVIDIA driver")


def test_rx7900xtx_without_amdgpu(tmp_path: Path) -> None:
    data = plan("rx7900xtx-no-rocm", tmp_path)
    assert data["choice"]["backend"] == "cpu"
    said(data, "(gfx1100) found, but the amdgpu kernel driver is not running")
    host = said(data, "A ROCm wheel bundles the ROCm libraries")
    assert "render and video groups" in host and "linux-modules-extra" in host
    said(data, "the plan will then install torch 2.15.0 with ROCm", "--backend rocm")


def test_amd_with_rocm_gets_the_explanation(tmp_path: Path) -> None:
    data = plan("amd-gfx1100-rocm6.4", tmp_path)
    assert data["choice"]["backend"].startswith("rocm")
    said(data, "A ROCm wheel bundles the ROCm libraries", "/dev/kfd")


def test_k80_gets_the_newest_torch_whose_build_covers_sm37(tmp_path: Path) -> None:
    data = plan("k80-driver470", tmp_path)
    assert (data["choice"]["backend"], data["choice"]["torch"]) == ("cu118", "2.4.1")
    said(data, "2x Tesla K80 (compute capability 3.7) on driver 470.256.02", "cu118")
    said(data, "no wheels for Python 3.8")


def test_mixed_gpus_get_a_build_covering_both(tmp_path: Path) -> None:
    data = plan("gtx1080-rtx4090", tmp_path)
    assert (data["choice"]["backend"], data["choice"]["torch"]) == ("cu126", "2.15.0")
    said(
        data,
        "Mixed GPUs (NVIDIA GeForce RTX 4090 (8.9) and NVIDIA GeForce GTX 1080 (6.1))",
        "cu126 is the newest build that covers all of them",
        "cu132, cu130 would leave NVIDIA GeForce GTX 1080 (6.1) out",
    )


def test_mixed_gpus_source_build_arch_list_covers_all(tmp_path: Path) -> None:
    data = plan("gtx1080-rtx4090", tmp_path, "--build", "source")
    archs = [
        s["env"]["TORCH_CUDA_ARCH_LIST"]
        for s in data["steps"]
        if "TORCH_CUDA_ARCH_LIST" in s["env"]
    ]
    assert archs == ["6.1;8.9"]


def test_mixed_gpus_no_build_covers_all_names_who_is_left_out() -> None:
    m = detect(root=MACHINES / "gtx1080-rtx4090")
    gpus = (
        replace(m.nvidia.gpus[0], name="NVIDIA GeForce RTX 5090", compute_capability="12.0"),
        replace(m.nvidia.gpus[1], name="Tesla K40", compute_capability="3.5"),
    )
    m = replace(m, nvidia=replace(m.nvidia, gpus=gpus))
    opts = explore(m, Choices(venv="/tmp/tw-mixed"))
    assert opts.resolved is not None and opts.resolved.backend.startswith("cu13")
    assert any(
        "Tesla K40 (3.5) is left out" in w and "No build of any torch release covers every GPU" in w
        for w in opts.warnings
    ), opts.warnings
    assert any(
        "Tesla K40 (3.5) stays unused" in r and "CUDA_VISIBLE_DEVICES=0" in r for r in opts.reasons
    ), opts.reasons


def test_windows_amd_is_named_and_gets_cpu(tmp_path: Path) -> None:
    data = plan("windows-amd-rx7900xtx", tmp_path)
    assert data["choice"]["backend"] == "cpu"
    said(data, "AMD Radeon RX 7900 XTX (gfx1100)")
    said(data, "ROCm wheels for Linux only")


def test_windows_intel_arc_gets_xpu(tmp_path: Path) -> None:
    data = plan("windows-intel-arc", tmp_path)
    assert data["choice"]["backend"] == "xpu"
    assert data["choice"]["index_url"].endswith("/whl/xpu")
    said(data, "Intel Arc A770 is a discrete Intel GPU")


def test_driverless_kepler_is_told_its_last_branch_not_the_newest() -> None:
    """A K80 cannot take a 5xx driver: the advice names the 470 branch and the CUDA 11 build."""
    m = detect(root=MACHINES / "rtx4090-nouveau")
    k80 = replace(m.nvidia.gpus[0], name="Tesla K80", compute_capability="3.7", architecture="")
    m = replace(m, nvidia=replace(m.nvidia, gpus=(k80,)))
    opts = explore(m, Choices(venv="/tmp/tw-k80"))
    assert opts.resolved is not None and opts.resolved.backend == "cpu"
    advice = next(r for r in opts.reasons if r.startswith("Install NVIDIA's driver"))
    assert "the 470 branch, the last NVIDIA driver branch for this GPU generation" in advice
    assert "`sudo ubuntu-drivers install nvidia:470`" in advice
    assert "with CUDA 11.8 (cu118)" in advice


def test_windows_nvidia_without_driver_points_to_nvidias_download(tmp_path: Path) -> None:
    """Windows lists a driverless NVIDIA card as the Basic Display Adapter, PCI id intact."""
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "outputs").mkdir()
    (root / "outputs" / "cim.json").write_text(
        json.dumps(
            {
                "Name": "Microsoft Basic Display Adapter",
                "PNPDeviceID": "PCI\\VEN_10DE&DEV_2684&SUBSYS_16F310DE&REV_A1\\4&1A2B3C4D&0&0008",
                "DriverVersion": "10.0.22621.1",
                "AdapterRAM": 0,
            }
        )
    )
    ps = root / "bin" / "powershell"
    ps.write_text('#!/bin/sh\nexec cat "$(dirname "$0")/../outputs/cim.json"\n')
    ps.chmod(0o755)
    (root / "machine.json").write_text('{"os": "windows", "arch": "x86_64", "python": "3.12.7"}')
    m = detect(root=root)
    assert [(g.name, g.compute_capability) for g in m.nvidia.gpus] == [
        ("NVIDIA GeForce RTX 4090", "8.9")
    ]
    opts = explore(m, Choices(venv="C:\\tw\\venv"))
    assert opts.resolved is not None and opts.resolved.backend == "cpu"
    advice = next(r for r in opts.reasons if r.startswith("Install NVIDIA's driver"))
    assert "https://www.nvidia.com/Download/index.aspx" in advice


def test_windows_nvidia_driver_installed_but_no_nvidia_smi(tmp_path: Path) -> None:
    """A named NVIDIA adapter with a DriverVersion has NVIDIA's driver; its version needs
    nvidia-smi, so the plan asks for --nvidia-driver instead of claiming there is no driver."""
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "cim.json").write_text(
        json.dumps(
            {
                "Name": "NVIDIA GeForce RTX 4090",
                "PNPDeviceID": "PCI\\VEN_10DE&DEV_2684&SUBSYS_16F310DE&REV_A1\\4&1A2B3C4D&0&0008",
                "DriverVersion": "32.0.15.6636",
            }
        )
    )
    ps = root / "bin" / "powershell"
    ps.write_text('#!/bin/sh\nexec cat "$(dirname "$0")/../cim.json"\n')
    ps.chmod(0o755)
    (root / "machine.json").write_text('{"os": "windows", "arch": "x86_64", "python": "3.12.7"}')
    m = detect(root=root)
    assert m.nvidia.kernel_driver == "nvidia" and m.nvidia.driver_version == ""
    assert any("driver is installed but its version is unknown" in n for n in m.notes)
    opts = explore(m, Choices(venv="C:\\tw\\venv"))
    assert opts.resolved is not None and opts.resolved.backend == "cpu"
    assert any("pass --nvidia-driver VERSION" in r for r in opts.reasons)
    assert not any(r.startswith("Install NVIDIA's driver") for r in opts.reasons)
    from torch_wizard.machine import apply_overrides

    later = explore(apply_overrides(m, nvidia_driver="566.36"), Choices(venv="C:\\tw\\venv"))
    assert later.resolved is not None and later.resolved.backend == "cu126"
