"""Pre-flight for source builds: missing or old pieces, blockers vs warnings, install commands per
distribution; one fixture machine root (src-old-toolchain) probed by the real detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_source_plan import AMD, JETSON, PI, RTX4090, TOOLS, mk, res
from torch_wizard.machine import detect
from torch_wizard.machine.model import MemoryInfo, OSInfo, PythonInfo, Tool
from torch_wizard.plan.model import Choices, SourceOptions
from torch_wizard.plan.source_preflight import Finding, install_fix, preflight

G = 10**9
CHOICES = Choices(build="source")


def find(findings: tuple[Finding, ...], text: str) -> Finding:
    hits = [f for f in findings if text in f.message]
    assert hits, [f.message for f in findings]
    return hits[0]


def without(*names: str) -> tuple[Tool, ...]:
    return tuple(t for t in TOOLS if t.name not in names)


def test_a_complete_machine_has_no_findings() -> None:
    assert preflight(mk(), CHOICES, res("cpu")) == ()
    assert preflight(AMD, CHOICES, res("rocm6.4")) == ()


def test_missing_git_and_compiler_are_blockers_with_distro_commands() -> None:
    findings = preflight(mk(tools=without("git", "g++")), CHOICES, res("cpu"))
    git = find(findings, "git was not found")
    assert (git.level, git.fix) == ("blocker", "sudo apt install git")
    cxx = find(findings, "No C++ compiler")
    assert cxx.level == "blocker" and cxx.fix == "sudo apt install build-essential"
    assert "C++20" in cxx.message
    assert findings[0].level == "blocker"


@pytest.mark.parametrize(
    ("distro", "like", "cmake_fix", "cxx_fix"),
    [
        ("fedora", (), "sudo dnf install cmake", "sudo dnf install gcc-c++"),
        ("arch", (), "sudo pacman -S cmake", "sudo pacman -S base-devel"),
        (
            "opensuse-tumbleweed",
            ("opensuse", "suse"),
            "sudo zypper install cmake",
            "sudo zypper install gcc-c++",
        ),
        ("alpine", (), "sudo apk add cmake", "sudo apk add build-base"),
        (
            "rocky",
            ("rhel", "centos", "fedora"),
            "sudo dnf install cmake",
            "sudo dnf install gcc-c++",
        ),
    ],
)
def test_install_commands_per_distribution(
    distro: str, like: tuple[str, ...], cmake_fix: str, cxx_fix: str
) -> None:
    m = mk(os=OSInfo("linux", distro_id=distro, distro_like=like), tools=without("cmake", "g++"))
    findings = preflight(m, CHOICES, res("cpu"))
    assert (
        find(findings, "CMake was not found").fix
        == f"{cmake_fix} (or: python3 -m pip install --user cmake)"
    )
    assert find(findings, "No C++ compiler").fix == cxx_fix


def test_macos_uses_brew_and_xcode() -> None:
    m = mk(os=OSInfo("macos", macos_version="14.5"), tools=())
    assert install_fix(m, "cmake").startswith("brew install cmake")
    assert install_fix(m, "cxx") == "xcode-select --install"
    assert install_fix(m, "ninja").startswith("brew install ninja")


def test_old_cmake_is_a_warning_because_the_requirements_bring_one() -> None:
    m = mk(tools=(*without("cmake"), Tool("cmake", "/usr/bin/cmake", "3.25.1")))
    f = find(preflight(m, CHOICES, res("cpu", torch="2.15.0")), "CMake 3.25.1 is older than 3.27")
    assert f.level == "warning" and "PyTorch 2.15" in f.message
    # PyTorch 2.9 needed only 3.18.
    assert preflight(m, CHOICES, res("cpu", torch="2.9.1")) == ()


def test_gcc_minimum_depends_on_the_version() -> None:
    m = mk(tools=(*without("g++"), Tool("g++", "/usr/bin/g++", "10.2.1")))
    f = find(preflight(m, CHOICES, res("cpu", torch="2.15.0")), "GCC 10.2.1 is older than 11.3")
    assert f.level == "blocker" and "C++20" in f.message
    assert f.fix == "sudo apt install g++-12, then export CC=gcc-12 CXX=g++-12"
    assert not [x for x in preflight(m, CHOICES, res("cpu", torch="2.11.0")) if "GCC" in x.message]


def test_python_headers_and_floor() -> None:
    m = mk(python=PythonInfo("3.10.12", has_headers=False))
    findings = preflight(m, CHOICES, res("cpu", torch="2.15.0"))
    assert find(findings, "headers (Python.h)").fix == "sudo apt install python3.10-dev"
    assert find(findings, "Python 3.10.12 is older than 3.11").level == "blocker"


def test_disk_and_memory() -> None:
    m = mk(disk=mk().disk.__class__("/home", free=5 * G), memory=MemoryInfo(2 * G, int(1.2 * G)))
    findings = preflight(m, CHOICES, res("cpu"))
    assert find(findings, "5.0 GB of disk is free").level == "blocker"
    assert find(findings, "1.2 GB of RAM is free").level == "warning"
    assert (
        find(
            preflight(mk(disk=mk().disk.__class__()), CHOICES, res("cpu")), "could not be measured"
        ).level
        == "warning"
    )


def test_cuda_needs_nvcc_and_jetson_gets_its_path_hint() -> None:
    no_nvcc = JETSON.with_overrides(tools=TOOLS)
    f = find(preflight(no_nvcc, CHOICES, res("cu126")), "nvcc (the CUDA Toolkit) was not found")
    assert f.level == "blocker" and "/usr/local/cuda/bin" in f.fix
    mismatch = find(preflight(RTX4090, CHOICES, res("cu128")), "nvcc is CUDA 12.6.85, not 12.8")
    assert mismatch.level == "warning"


def test_rocm_missing_is_a_blocker() -> None:
    m = AMD.with_overrides(amd=AMD.amd.__class__(gpus=AMD.amd.gpus), tools=TOOLS)
    assert find(preflight(m, CHOICES, res("rocm")), "ROCm was not found").level == "blocker"


def test_platform_limits() -> None:
    win = mk(os=OSInfo("windows"))
    assert find(preflight(win, CHOICES, res("cpu")), "Linux and macOS only").level == "blocker"
    musl = mk(os=OSInfo("linux", distro_id="alpine", libc="musl"))
    assert find(preflight(musl, CHOICES, res("cpu")), "musl").level == "warning"
    pi32 = PI.with_overrides(python=PythonInfo("3.11.2", bits=32, has_headers=True))
    assert find(preflight(pi32, CHOICES, res("cpu")), "32-bit").level == "warning"


def test_checkout_dir_in_the_way(tmp_path: Path) -> None:
    busy = tmp_path / "src"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    m = mk(source="host")
    choices = Choices(build="source", source=SourceOptions(checkout=str(busy)))
    assert (
        find(
            preflight(m, choices, res("cpu", venv=str(tmp_path / ".venv"))),
            "not an empty directory",
        ).level
        == "blocker"
    )


def test_fixture_root_with_an_old_toolchain() -> None:
    root = Path(__file__).parent / "fixtures" / "machines" / "src-old-toolchain"
    m = detect(root=root)
    findings = preflight(m, CHOICES, res("cpu", torch="2.15.0", venv="/home/ci/.venv"))
    gcc = find(findings, "GCC 10.2.1 is older than 11.3")
    assert gcc.level == "blocker" and gcc.fix.startswith("sudo apt install g++-12")
    cmake = find(findings, "CMake was not found")
    assert cmake.level == "warning" and cmake.fix.startswith("sudo apt install cmake")
    assert find(findings, "ninja was not found").fix.startswith("sudo apt install ninja-build")
    assert find(findings, "6.0 GB of disk is free").level == "blocker"
    assert all(
        f.level == "blocker" for f in findings[: sum(f.level == "blocker" for f in findings)]
    )
