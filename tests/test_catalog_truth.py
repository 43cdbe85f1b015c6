"""Catalog truth (issue 14): each corrected fact, seen through real ``torch-wizard plan`` runs over
fixture machine roots and target overrides. The sources of every fact are in the catalog data
(torch_wizard/catalog/data/*.json) next to the fact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_cli
from torch_wizard import catalog

MACHINES = FIXTURES / "machines"
CPU = str(MACHINES / "cpu-server")


def plan(*args: str, venv: Path | None = None) -> dict[str, Any]:
    where = str(venv) if venv else "/tmp/torch-wizard-truth-never-created"
    proc = run_cli("plan", "--format", "json", "--venv", where, *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def refused(*args: str) -> str:
    proc = run_cli("plan", "--venv", "/tmp/torch-wizard-truth-never-created", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    return proc.stderr


def install_argv(p: dict[str, Any]) -> list[str]:
    return next(s["argv"] for s in p["steps"] if s["id"] == "install-torch")  # type: ignore[no-any-return]


def chosen(p: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    c = p["choice"]
    return c["backend"], c["torch"], c["packages"]


def text(p: dict[str, Any]) -> str:
    return "\n".join(p["reasons"] + p["warnings"])


# ---------------------------------------------------------------------------------------------
# Missing builds: cu129 (2.9.x-2.11.0, Linux x86_64 and aarch64), rocm6.3 (2.9.x), rocm7.0 (2.10.0)


@pytest.mark.parametrize("torch", ["2.9.0", "2.9.1", "2.10.0", "2.11.0"])
def test_cu129_is_offered_where_pytorch_built_it(torch: str) -> None:
    p = plan("--root", CPU, "--nvidia-driver", "550.54.14", "--compute-capability", "8.9",
             "--backend", "cu129", "--torch", torch)  # fmt: skip
    assert chosen(p)[:2] == ("cu129", torch)
    assert p["choice"]["index_url"] == "https://download.pytorch.org/whl/cu129"
    assert f"torch=={torch}" in install_argv(p)


def test_cu129_is_not_offered_after_pytorch_dropped_it() -> None:
    msg = refused("--root", CPU, "--nvidia-driver", "550.54.14", "--compute-capability", "8.9",
                  "--backend", "cu129", "--torch", "2.12.0")  # fmt: skip
    assert "torch 2.12.0 has no cu129 build for linux-x86_64" in msg


def test_auto_picks_cu129_the_newest_build_for_a_cuda_12_driver() -> None:
    # Driver 550 cannot run CUDA 13 builds; 2.9.1's newest CUDA 12 build is cu129, not cu128.
    p = plan("--root", CPU, "--nvidia-driver", "550.54.14", "--compute-capability", "8.9",
             "--torch", "2.9.1")  # fmt: skip
    assert chosen(p)[:2] == ("cu129", "2.9.1")
    assert "CUDA 12.9 (cu129), the newest build that fits" in text(p)
    # Blackwell (12.0) on a 570 driver: no torch 2.12+ build fits (CUDA 13 needs 580, cu126 lacks
    # 12.0), so 2.11.0, whose newest fitting build is cu129.
    p = plan("--root", CPU, "--nvidia-driver", "570.86.10", "--compute-capability", "12.0")
    assert chosen(p)[:2] == ("cu129", "2.11.0")


def test_cu129_on_linux_aarch64() -> None:
    p = plan("--os", "linux", "--arch", "aarch64", "--python", "3.12", "--nvidia-driver",
             "570.86.10", "--compute-capability", "9.0", "--torch", "2.10.0")  # fmt: skip
    assert chosen(p)[:2] == ("cu129", "2.10.0")


@pytest.mark.parametrize(("torch", "rocm"), [("2.9.1", "rocm6.3"), ("2.10.0", "rocm7.0")])
def test_second_rocm_builds(torch: str, rocm: str) -> None:
    p = plan("--root", CPU, "--amd-arch", "gfx1100", "--backend", rocm, "--torch", torch)
    assert chosen(p)[:2] == (rocm, torch)
    assert p["choice"]["index_url"] == f"https://download.pytorch.org/whl/{rocm}"


# ---------------------------------------------------------------------------------------------
# torchaudio did not stop: 2.11.1 (pure Python, torch>=2.11) serves torch 2.12 and newer


def test_torchaudio_2_11_1_for_torch_2_15() -> None:
    p = plan("--root", CPU, "--packages", "torch,torchaudio", "--torch", "2.15.0")
    assert chosen(p)[2] == {"torch": "2.15.0", "torchaudio": "2.11.1"}
    assert "torchaudio==2.11.1" in install_argv(p)
    assert "not confirmed here" in text(p)  # PyPI has it; PyTorch's cpu index is unconfirmed


def test_torchaudio_by_default_only_where_its_index_is_known() -> None:
    cpu = plan("--root", CPU)
    assert "torchaudio" not in chosen(cpu)[2]
    assert "torchaudio 2.11.1 (PyPI) works with torch 2.15.0" in text(cpu)
    mac = plan("--root", str(MACHINES / "macbook-m2"))  # plain PyPI, which has it
    assert chosen(mac)[2]["torchaudio"] == "2.11.1"


# ---------------------------------------------------------------------------------------------
# Jetson: JetPack 6 index's newer torch, Thor on JetPack 7, Orin on JetPack 7.2


def test_jetpack6_index_has_newer_torch_with_its_companions() -> None:
    root = str(MACHINES / "jetson-orin-jp62")
    p = plan("--root", root)
    assert chosen(p) == ("jetson-jp6-cu126", "2.10.0", {"torch": "2.10.0", "torchvision": "0.25.0"})
    assert p["choice"]["index_url"] == "https://pypi.jetson-ai-lab.io/jp6/cu126"
    assert any("cuDSS" in w for w in p["warnings"])  # NVIDIA's 2.10.0 wheel links libcudss
    p = plan("--root", root, "--torch", "2.9.1")
    assert chosen(p)[2] == {"torch": "2.9.1", "torchvision": "0.24.1", "torchaudio": "2.9.1"}
    assert not any("cuDSS" in w for w in p["warnings"])


def test_thor_on_jetpack7_uses_pytorchs_aarch64_cu130_build() -> None:
    p = plan("--root", str(MACHINES / "jetson-thor-jp7"))
    backend, torch, _ = chosen(p)
    # JetPack 7.0/7.1 ship CUDA 13.0: cu132 would be newer than JetPack's CUDA.
    assert (backend, torch) == ("cu130", catalog.load().releases()[0].version)
    assert p["choice"]["index_url"] == "https://download.pytorch.org/whl/cu130"
    why = text(p)
    assert "covers compute capability 11.0" in why
    assert "cannot drive" not in why  # the old, wrong claim about PyPI's aarch64 wheels
    assert "https://pypi.jetson-ai-lab.io/sbsa/cu130" in why  # the alternative is named
    verify = next(s for s in p["steps"] if s["id"] == "verify")
    assert "cu130" in verify["argv"]  # verification expects CUDA


def test_orin_on_jetpack7_2_is_no_longer_refused() -> None:
    root = MACHINES / "jetson-orin-jp72"
    proc = run_cli("detect", "--json", "--root", str(root))
    board = json.loads(proc.stdout)["board"]
    assert (board["l4t"], board["jetpack"]) == ("39.2.0", "7.2")
    p = plan("--root", str(root))
    assert chosen(p)[0] == "cu132"  # JetPack 7.2 ships CUDA 13.2
    assert "covers compute capability 8.7" in text(p)


# ---------------------------------------------------------------------------------------------
# Intel: Core Ultra Arc iGPUs are on PyTorch's XPU list; plain integrated graphics are not


@pytest.mark.parametrize(
    ("root", "family"),
    [
        ("intel-meteor-lake-igpu", "Meteor Lake-H"),
        ("intel-lunar-lake-igpu", "Lunar Lake"),
    ],
)
def test_core_ultra_arc_igpus_get_xpu(root: str, family: str) -> None:
    p = plan("--root", str(MACHINES / root))
    assert chosen(p)[0] == "xpu"
    assert p["choice"]["index_url"] == "https://download.pytorch.org/whl/xpu"
    assert family in text(p) and "integrated" in text(p)


def test_integrated_graphics_not_on_the_list_stay_on_cpu(tmp_path: Path) -> None:
    """Arrow Lake-S 'Intel Graphics' (8086:7d67) and Raptor Lake UHD 770 (8086:a780): CPU;
    Arrow Lake-H Arc (8086:7d51): XPU. The same root with only the device id changed."""
    cat = catalog.load()
    assert cat.xpu_integrated("8086:7d51") and not cat.xpu_integrated("8086:7d67")
    for device, backend in (("7d67", "cpu"), ("a780", "cpu"), ("7d51", "xpu")):
        root = tmp_path / device
        src = MACHINES / "intel-meteor-lake-igpu"
        for f in src.rglob("*"):
            if f.is_file():
                dest = root / f.relative_to(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(f.read_bytes())
        (root / "sys/bus/pci/devices/0000:00:02.0/device").write_text(f"0x{device}\n")
        p = plan("--root", str(root))
        assert chosen(p)[0] == backend, (device, text(p))
        if backend == "cpu":
            assert f"8086:{device}" in text(p) and "not on PyTorch's list" in text(p)


# ---------------------------------------------------------------------------------------------
# Intel Mac: torch 2.2.2 needs numpy<2; free-threaded Python; Windows ARM64 wheel tags


def test_intel_mac_pins_numpy_below_2() -> None:
    p = plan("--os", "macos", "--arch", "x86_64", "--python", "3.12")
    assert chosen(p)[:2] == ("pypi", "2.2.2")
    argv = install_argv(p)
    assert "torch==2.2.2" in argv and "numpy<2" in argv
    assert "NumPy 1.x" in text(p)
    assert "numpy<2" not in install_argv(plan("--root", CPU))  # newer torch: no pin


def test_free_threaded_python_uses_the_recorded_t_wheels() -> None:
    p = plan("--root", CPU, "--python", "3.13t")
    assert chosen(p)[1] == "2.12.0"  # the last release with cp313t wheels
    assert p["target"]["python"]["free_threaded"] is True
    create = next(s for s in p["steps"] if s["id"] == "create-venv")
    assert any(a.endswith("python3.13t") for a in create["argv"]), create["argv"]
    assert "no free-threaded wheels for Python 3.13t" in text(p)  # why not 2.15.0
    assert chosen(plan("--root", CPU, "--python", "3.14t"))[1] == "2.15.0"
    msg = refused("--root", CPU, "--python", "3.13t", "--torch", "2.13.0")
    assert "torch 2.13.0" in msg and "3.13" in msg


def test_free_threaded_spelling_is_checked() -> None:
    assert "3.13t for free-threaded" in refused("--root", CPU, "--python", "3.13x")


def test_windows_arm64_checks_the_recorded_python_tags() -> None:
    msg = refused("--os", "windows", "--arch", "arm64", "--python", "3.14")
    assert "windows-arm64 wheels for Python 3.14" in msg and "3.11, 3.12, 3.13 only" in msg
    msg = refused("--os", "windows", "--arch", "arm64", "--python", "3.14", "--torch", "2.9.1")
    assert "3.14" in msg
    p = plan("--os", "windows", "--arch", "arm64", "--python", "3.12")
    backend, torch, _ = chosen(p)
    assert backend == "cpu" and torch == "2.14.1"  # 2.15.0's Windows ARM64 tags: unconfirmed
    assert "not confirmed" in text(p)


# ---------------------------------------------------------------------------------------------
# NVIDIA's documented CUDA 13 floor; ROCm on Windows; rocm7.14's unconfirmed targets


def test_cuda13_floor_is_the_r580_branch() -> None:
    p = plan("--root", CPU, "--nvidia-driver", "580.00", "--compute-capability", "8.9")
    assert chosen(p)[0] == "cu132"
    assert "meets its floor 580 " in text(p)


def test_amd_on_windows_says_why_not_rocm() -> None:
    p = plan("--os", "windows", "--amd-arch", "gfx1201", "--python", "3.12")
    assert chosen(p)[0] == "cpu"
    assert "repo.amd.com" in text(p) and "Linux only" in text(p)
    msg = refused("--os", "windows", "--amd-arch", "gfx1201", "--python", "3.12",
                  "--backend", "rocm7.14")  # fmt: skip
    assert "ROCm wheels exist only for Linux" in msg


def test_rocm_7_14_targets_are_said_to_be_unconfirmed() -> None:
    p = plan("--root", CPU, "--amd-arch", "gfx1100")
    assert chosen(p)[0] == "rocm7.14"
    assert "Not confirmed here: which gfx targets rocm7.14 is built for" in text(p)


def test_the_machine_screen_agrees_about_arc_igpus() -> None:
    """The wizard's first screen says the same as the plan: a Core Ultra Arc iGPU is usable."""
    from torch_wizard.machine import detect
    from torch_wizard.ui.state import machine_verdict

    verdict = machine_verdict(detect(root=MACHINES / "intel-meteor-lake-igpu"))
    assert verdict.text.startswith("Intel Core Ultra (Meteor Lake-H) Arc Graphics (integrated)")
    assert "XPU" in verdict.text


def test_the_choices_screen_offers_thors_builds_as_the_plan_judges_them() -> None:
    """explore() (the Choices screen) judges each CUDA build of Thor the way the plan does:
    cu130 fits, cu132 is newer than JetPack 7's CUDA, cu126's aarch64 build lacks 11.0."""
    from torch_wizard.machine import detect
    from torch_wizard.plan import Choices, explore

    options = explore(detect(root=MACHINES / "jetson-thor-jp7"), Choices(venv="/tmp/x"))
    by = {o.value: o for o in options.backends}
    assert by["cu130"].available and by["cu130"].recommended
    assert not by["cu132"].available and "newer than JetPack's CUDA 13.0" in by["cu132"].why
    assert not by["cu126"].available and "11.0" in by["cu126"].why
