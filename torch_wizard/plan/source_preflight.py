"""Pre-flight for source builds: what is missing or too old, and the command that fixes it.

``preflight(machine, choices, resolved) -> tuple[Finding, ...]``. A "blocker" stops the build (the
user cannot override it); a "warning" may be overridden. Each finding names the missing piece and
an install command for the detected distribution (apt, dnf, pacman, zypper, apk, brew), with the
pip-installable alternative where one exists (cmake, ninja). Minimum versions per torch version come
from ``catalog/data/source_build.json`` (with sources).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from torch_wizard.machine.model import Machine, Tool
from torch_wizard.plan.model import Choices, Resolved
from torch_wizard.plan.source import (
    GB,
    MAIN,
    backend_kind,
    checkout_location,
    kind_label,
    load_facts,
    torch_version,
    version_tuple,
)

Level = Literal["blocker", "warning"]
Manager = Literal["apt", "dnf", "pacman", "zypper", "apk", "brew", ""]

# Package names per package manager for what a source build needs.
PACKAGES: dict[str, dict[Manager, str]] = {
    "git": {
        "apt": "git",
        "dnf": "git",
        "pacman": "git",
        "zypper": "git",
        "apk": "git",
        "brew": "git",
    },
    "cxx": {
        "apt": "build-essential",
        "dnf": "gcc-c++",
        "pacman": "base-devel",
        "zypper": "gcc-c++",
        "apk": "build-base",
    },
    "cmake": {
        "apt": "cmake",
        "dnf": "cmake",
        "pacman": "cmake",
        "zypper": "cmake",
        "apk": "cmake",
        "brew": "cmake",
    },
    "ninja": {
        "apt": "ninja-build",
        "dnf": "ninja-build",
        "pacman": "ninja",
        "zypper": "ninja",
        "apk": "samurai",
        "brew": "ninja",
    },
    "python-headers": {
        "dnf": "python3-devel",
        "zypper": "python3-devel",
        "apk": "python3-dev",
        "pacman": "python",
    },
}
PIP_ALTERNATIVE = frozenset({"cmake", "ninja"})
_INSTALL: dict[Manager, str] = {
    "apt": "sudo apt install",
    "dnf": "sudo dnf install",
    "pacman": "sudo pacman -S",
    "zypper": "sudo zypper install",
    "apk": "sudo apk add",
    "brew": "brew install",
}
_CUDNN_HEADERS = (
    "usr/include/cudnn_version.h",
    "usr/include/cudnn.h",
    "usr/local/cuda/include/cudnn_version.h",
    "usr/include/x86_64-linux-gnu/cudnn_version.h",
    "usr/include/aarch64-linux-gnu/cudnn_version.h",
)


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str  # "CMake 3.25.1 is older than 3.27, which PyTorch 2.9 needs."
    fix: str  # "sudo apt install cmake" / "python -m pip install cmake" / "brew install cmake"


def package_manager(machine: Machine) -> Manager:
    if machine.os.name == "macos":
        return "brew"
    ids = (machine.os.distro_id, *machine.os.distro_like)
    table: tuple[tuple[tuple[str, ...], Manager], ...] = (
        (("debian", "ubuntu", "raspbian", "linuxmint", "pop"), "apt"),
        (("fedora", "rhel", "centos", "rocky", "almalinux", "amzn"), "dnf"),
        (("arch", "manjaro", "endeavouros"), "pacman"),
        (("suse", "sles"), "zypper"),
        (("alpine",), "apk"),
    )
    for distro in ids:
        if distro.startswith("opensuse"):
            return "zypper"
        for names, manager in table:
            if distro in names:
                return manager
    return ""


def install_fix(machine: Machine, what: str) -> str:
    """The command that installs ``what`` (a key of PACKAGES) on this machine."""
    manager = package_manager(machine)
    if what == "python-headers" and manager == "apt":
        package = f"python{machine.python.minor}-dev"
    elif what == "cxx" and manager == "brew":
        package = ""
    else:
        package = PACKAGES.get(what, {}).get(manager, "")
    if what == "cxx" and machine.os.name == "macos":
        native = "xcode-select --install"
    elif package and manager:
        native = f"{_INSTALL[manager]} {package}"
    else:
        native = f"install {what} with your system's package manager"
    if what in PIP_ALTERNATIVE:
        return f"{native} (or: python3 -m pip install --user {what})"
    return native


def _older(found: str, minimum: str) -> bool:
    return bool(found) and version_tuple(found) < version_tuple(minimum)


def _label(resolved: Resolved) -> str:
    v = torch_version(resolved)
    return "PyTorch main" if v == MAIN else f"PyTorch {v.major}.{v.minor}"


def _compiler(machine: Machine) -> Tool:
    for name in ("clang", "g++", "gcc") if machine.os.name == "macos" else ("g++", "gcc", "clang"):
        tool = machine.tool(name)
        if tool.found:
            return tool
    return Tool("")


def check_platform(machine: Machine) -> list[Finding]:
    out: list[Finding] = []
    if machine.os.name == "windows":
        out.append(
            Finding(
                "blocker",
                "The wizard builds PyTorch from source on Linux and macOS only; Windows builds need Visual Studio and a hand-made setup.",
                "build inside WSL2, or follow 'From Source' on Windows in PyTorch's README",
            )
        )
    if machine.os.libc == "musl":
        out.append(
            Finding(
                "warning",
                "PyTorch is not built or tested on musl (Alpine); expect build failures.",
                "build in a glibc distribution or container, e.g. Debian",
            )
        )
    if machine.python.bits == 32 or machine.cpu.pointer_bits == 32:
        out.append(
            Finding(
                "warning",
                "PyTorch does not build or test 32-bit Python; the build will probably fail.",
                "use a 64-bit OS and Python (on a Raspberry Pi: 64-bit Raspberry Pi OS)",
            )
        )
    return out


def check_tools(machine: Machine, resolved: Resolved) -> list[Finding]:
    facts = load_facts()
    v = torch_version(resolved)
    label = _label(resolved)
    out: list[Finding] = []
    if not machine.tool("git").found:
        out.append(
            Finding(
                "blocker",
                "git was not found; it fetches the sources and their submodules.",
                install_fix(machine, "git"),
            )
        )
    tc = facts.toolchain(v)
    cxx = _compiler(machine)
    if not cxx.found:
        out.append(
            Finding(
                "blocker",
                f"No C++ compiler was found; {label} needs one for C++{tc.cxx}.",
                install_fix(machine, "cxx"),
            )
        )
    else:
        minimum = tc.clang if cxx.name == "clang" else tc.gcc
        family = "clang" if cxx.name == "clang" else "GCC"
        if _older(cxx.version, minimum):
            major = version_tuple(tc.gcc)[0] + 1
            manager = package_manager(machine)
            fix = (
                f"sudo apt install g++-{major}, then export CC=gcc-{major} CXX=g++-{major}"
                if manager == "apt" and family == "GCC"
                else f"install {family} {minimum} or newer and point CC/CXX at it"
            )
            out.append(
                Finding(
                    "blocker",
                    f"{family} {cxx.version} is older than {minimum}, which {label} needs for C++{tc.cxx}.",
                    fix,
                )
            )
    provided = facts.requirements_provide
    cmake_min, _ = facts.cmake_min(v)
    cmake = machine.tool("cmake")
    # The build requirements install cmake and ninja into the venv, and the build step puts the
    # venv's bin first on PATH: a missing or old system copy is then only a warning.
    level: Level = "warning" if "cmake" in provided else "blocker"
    if not cmake.found:
        out.append(
            Finding(
                level,
                f"CMake was not found; {label} needs {cmake_min} or newer (the build requirements install one into the venv).",
                install_fix(machine, "cmake"),
            )
        )
    elif _older(cmake.version, cmake_min):
        out.append(
            Finding(
                level,
                f"CMake {cmake.version} is older than {cmake_min}, which {label} needs (the build requirements install a newer one into the venv).",
                install_fix(machine, "cmake"),
            )
        )
    if not machine.tool("ninja").found:
        out.append(
            Finding(
                "warning" if "ninja" in provided else "blocker",
                "ninja was not found (the build requirements install one into the venv).",
                install_fix(machine, "ninja"),
            )
        )
    return out


def check_python(machine: Machine, resolved: Resolved) -> list[Finding]:
    facts = load_facts()
    out: list[Finding] = []
    minimum, _ = facts.python_min(torch_version(resolved))
    if _older(machine.python.version, minimum):
        out.append(
            Finding(
                "blocker",
                f"Python {machine.python.version} is older than {minimum}, which {_label(resolved)} needs.",
                f"use Python {minimum} or newer (--python), or an older --torch",
            )
        )
    if not machine.python.has_headers and machine.os.name != "macos":
        out.append(
            Finding(
                "blocker",
                f"The Python {machine.python.minor} headers (Python.h) were not found; the build compiles against them.",
                install_fix(machine, "python-headers"),
            )
        )
    return out


def check_resources(machine: Machine, choices: Choices, resolved: Resolved) -> list[Finding]:
    from torch_wizard.plan.source import decide, estimate

    facts = load_facts()
    kind = backend_kind(resolved.backend)
    out: list[Finding] = []
    where, mode = checkout_location(machine, choices, resolved)
    need = estimate(
        machine, choices, resolved, decide(machine, choices, resolved, facts), mode, facts
    ).disk
    free = machine.disk.free
    if not free:
        out.append(
            Finding(
                "warning",
                f"The free disk space could not be measured; the build needs about {need / GB:.0f} GB.",
                "check with: df -h",
            )
        )
    elif free < need:
        out.append(
            Finding(
                "blocker",
                f"{free / GB:.1f} GB of disk is free at {machine.disk.path or 'the target'}, but the clone and build need about {need / GB:.0f} GB.",
                "free some space or choose another --source-dir and --venv",
            )
        )
    per = facts.per_job_gb(kind)
    ram = machine.memory.available or machine.memory.total
    if ram and ram < per * GB:
        out.append(
            Finding(
                "warning",
                f"{ram / GB:.1f} GB of RAM is free, less than the ~{per:g} GB one {kind_label(kind)} compile job needs; the compiler may be killed.",
                "add swap (e.g. sudo fallocate -l 8G /swapfile && sudo mkswap /swapfile && sudo swapon /swapfile)",
            )
        )
    if mode == "clone" and _probe(machine):
        path = Path(where)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            out.append(
                Finding(
                    "blocker",
                    f"{where} exists and is not an empty directory or a git checkout, so git cannot clone into it.",
                    "remove it or choose another --source-dir",
                )
            )
    return out


def _probe(machine: Machine) -> bool:
    return not machine.source.startswith("profile:")


def _root(machine: Machine) -> str:
    if machine.source.startswith("root:"):
        return machine.source[len("root:") :].split("+", 1)[0]
    return "/"


def has_cudnn(machine: Machine) -> bool | None:
    """True/False when the headers could be looked for; None for a saved profile."""
    if not _probe(machine):
        return None
    root = _root(machine)
    nvcc = machine.tool("nvcc")
    candidates = list(_CUDNN_HEADERS)
    if nvcc.found and not machine.source.startswith("root:"):
        home = posixpath.dirname(posixpath.dirname(nvcc.path)).lstrip("/")
        candidates.append(posixpath.join(home, "include", "cudnn_version.h"))
    return any((Path(root) / c).is_file() for c in candidates)


def check_backend(machine: Machine, resolved: Resolved) -> list[Finding]:
    kind = backend_kind(resolved.backend)
    out: list[Finding] = []
    if kind == "cuda":
        nvcc = machine.tool("nvcc")
        jetson = machine.board.kind == "jetson"
        if not nvcc.found:
            fix = (
                "JetPack puts nvcc in /usr/local/cuda/bin: export PATH=/usr/local/cuda/bin:$PATH (or sudo apt install nvidia-jetpack)"
                if jetson
                else "install the CUDA Toolkit (https://developer.nvidia.com/cuda-downloads) and put its bin/ on PATH"
            )
            out.append(
                Finding(
                    "blocker",
                    "nvcc (the CUDA Toolkit) was not found; a CUDA build compiles with it.",
                    fix,
                )
            )
        elif resolved.backend.startswith("cu") and resolved.backend[2:].isdigit() and nvcc.version:
            wanted = resolved.backend[2:]
            have = "".join(nvcc.version.split(".")[:2])
            if have != wanted:
                out.append(
                    Finding(
                        "warning",
                        f"nvcc is CUDA {nvcc.version}, not {wanted[:-1]}.{wanted[-1]}: the build uses the toolkit it finds.",
                        "build with --backend cu" + have + " or install the matching toolkit",
                    )
                )
        if nvcc.found and has_cudnn(machine) is False:
            out.append(
                Finding(
                    "warning",
                    "cuDNN was not found; PyTorch builds without it (much slower convolutions).",
                    "sudo apt install nvidia-cudnn"
                    if jetson
                    else "install cuDNN (https://developer.nvidia.com/cudnn) for your CUDA version",
                )
            )
    elif kind == "rocm":
        if not machine.amd.rocm_version and not machine.tool("hipcc").found:
            out.append(
                Finding(
                    "blocker",
                    "ROCm was not found (no /opt/rocm, no hipcc); a ROCm build compiles with it.",
                    "install ROCm: https://rocm.docs.amd.com/projects/install-on-linux/",
                )
            )
    return out


def preflight(machine: Machine, choices: Choices, resolved: Resolved) -> tuple[Finding, ...]:
    """Everything a source build needs that this machine lacks, blockers first."""
    findings = [
        *check_platform(machine),
        *check_tools(machine, resolved),
        *check_python(machine, resolved),
        *check_backend(machine, resolved),
        *check_resources(machine, choices, resolved),
    ]
    return tuple(sorted(findings, key=lambda f: f.level != "blocker"))
