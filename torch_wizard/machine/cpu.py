"""The CPU: architecture as the *interpreter* sees it, model, vendor, relevant flags, cores.

The architecture decides which wheels fit, and wheels are picked for the interpreter, not the
kernel: a 32-bit Python on an aarch64 kernel (Raspberry Pi OS with a 64-bit kernel and 32-bit
userland) installs armv7l wheels, and PyTorch publishes none. So the arch comes from the pointer
size and ``sysconfig.get_platform()`` (Windows) / ``platform.machine()`` (macOS, where Rosetta
reports x86_64 for an x86_64 interpreter), and ``CPUInfo.machine`` keeps the kernel's view.

Model, vendor, flags and cores come from ``proc/cpuinfo`` (Linux; x86 "vendor_id"/"model name"/
"flags", ARM "CPU implementer"/"Features"), from ``sysctl`` on macOS, and ``os.cpu_count()``.
Off Linux (a Windows or macOS host: no /proc/cpuinfo) the feature flags and micro-architecture
come from archspec (``archspec.cpu.host()``: CPUID on Windows, sysctl on macOS; its
microarchitectures.json names each target's features with Linux's flag names), so the AVX2 check
works there too. archspec is imported only then.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import cast

from torch_wizard.machine.model import Arch, CPUInfo, OSName
from torch_wizard.machine.root import Found, Root, TargetDefaults

# The flags that matter for PyTorch's CPU kernels (x86 AVX levels, ARM NEON/SVE).
RELEVANT_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "neon",
    "asimd",
    "sve",
)

# "CPU implementer" codes, from the Arm Architecture Reference Manual (MIDR_EL1.Implementer).
ARM_IMPLEMENTERS = {
    "0x41": "ARM",
    "0x42": "Broadcom",
    "0x43": "Cavium",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x50": "APM",
    "0x51": "Qualcomm",
    "0x61": "Apple",
    "0xc0": "Ampere",
}

# "CPU part" of Arm Ltd cores (implementer 0x41), from Linux arch/arm64/include/asm/cputype.h.
ARM_PARTS = {
    "0xd03": "Cortex-A53",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd40": "Neoverse-V1",
    "0xd41": "Cortex-A78",
    "0xd42": "Cortex-A78AE",
    "0xd49": "Neoverse-N2",
    "0xd4f": "Neoverse-V2",
}


def normalise_arch(machine: str, bits: int, os_name: str) -> Arch:
    """Map a ``uname -m`` style name and the interpreter's pointer size to an ``Arch``."""
    m = machine.strip().lower()
    if m in ("x86_64", "amd64", "x64", "win-amd64"):
        arch: Arch = "x86_64"
    elif m in ("aarch64", "arm64", "armv8b", "aarch64_be", "win-arm64"):
        arch = "arm64" if os_name in ("macos", "windows") else "aarch64"
    elif m in ("armv7l", "armv8l", "armv7", "armhf"):
        arch = "armv7l"
    elif m in ("i386", "i486", "i586", "i686", "x86", "win32"):
        arch = "i686"
    else:
        return "other"
    if bits == 32:
        if arch == "x86_64":
            return "i686"
        if arch in ("aarch64", "arm64"):
            return "armv7l"
    return arch


def host_machine() -> tuple[str, int, Arch]:
    """(kernel machine, interpreter pointer bits, interpreter arch) of this host."""
    import platform

    bits = struct.calcsize("P") * 8
    machine = platform.machine() or ""
    if sys.platform == "win32":
        import sysconfig

        plat = sysconfig.get_platform()  # "win-amd64", "win-arm64", "win32"
        return machine, bits, normalise_arch(plat, bits, "windows")
    os_name = "macos" if sys.platform == "darwin" else "linux"
    return machine, bits, normalise_arch(machine, bits, os_name)


def parse_cpuinfo(text: str) -> dict[str, object]:
    """Model, vendor, filtered flags and core counts from /proc/cpuinfo text."""
    model = vendor = ""
    flags: set[str] = set()
    logical = 0
    cores: set[tuple[str, str]] = set()
    phys = core = ""
    pi_model = hardware = part = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "processor" and value.isdigit():
            logical += 1
        elif key == "model name" and not model:
            model = value
        elif key == "vendor_id" and not vendor:
            vendor = value
        elif key == "cpu part" and not part:
            part = value.lower()
        elif key == "cpu implementer" and not vendor:
            vendor = ARM_IMPLEMENTERS.get(value.lower(), value)
        elif key in ("flags", "features"):
            flags.update(value.split())
        elif key == "physical id":
            phys = value
        elif key == "core id":
            core = value
            cores.add((phys, core))
        elif key == "model":  # Raspberry Pi kernels name the board here
            pi_model = value
        elif key == "hardware":
            hardware = value
    if (not model or model.startswith("ARMv")) and vendor == "ARM" and part in ARM_PARTS:
        model = f"ARM {ARM_PARTS[part]}"
    if not model:
        model = pi_model or hardware
    return {
        "model": model,
        "vendor": vendor,
        "flags": tuple(f for f in RELEVANT_FLAGS if f in flags),
        "logical": logical,
        "physical": len(cores) or logical,
    }


def _sysctl(root: Root, key: str, timeout: float) -> str:
    run = root.run_tool("sysctl", ["-n", key], timeout)
    return run.stdout.strip() if run.ok else ""


def target_arch(root: Root, defaults: TargetDefaults, os_name: OSName) -> tuple[str, int, Arch]:
    """(kernel machine, pointer bits, interpreter arch): the host's, or the fixture's machine.json."""
    machine, bits, arch = host_machine()
    if root.is_host:
        return machine, bits, arch
    if defaults.machine:
        machine = defaults.machine
    if defaults.pointer_bits in (32, 64):
        bits = defaults.pointer_bits
    if defaults.arch:
        arch = normalise_arch(defaults.arch, bits, os_name)
        bits = 32 if arch in ("armv7l", "i686") else 64
        if not defaults.machine:
            machine = defaults.arch
    elif defaults.machine:
        arch = normalise_arch(defaults.machine, bits, os_name)
    return machine, bits, arch


def probe_cpu(
    root: Root, defaults: TargetDefaults, os_name: OSName, timeout: float
) -> Found[CPUInfo]:
    notes: list[str] = []
    machine, bits, arch = target_arch(root, defaults, os_name)
    info = CPUInfo(arch=arch, machine=machine, pointer_bits=bits)

    text = root.read("proc/cpuinfo")
    model = vendor = ""
    flags: tuple[str, ...] = ()
    logical = physical = 0
    if text:
        parsed = parse_cpuinfo(text)
        model, vendor = cast(str, parsed["model"]), cast(str, parsed["vendor"])
        flags = cast(tuple[str, ...], parsed["flags"])
        logical, physical = cast(int, parsed["logical"]), cast(int, parsed["physical"])
    elif os_name == "macos":
        model = _sysctl(root, "machdep.cpu.brand_string", timeout)
        vendor = (
            "Apple" if model.startswith("Apple") else ("GenuineIntel" if "Intel" in model else "")
        )
        phys = _sysctl(root, "hw.physicalcpu", timeout)
        physical = int(phys) if phys.isdigit() else 0
        if arch == "arm64":
            flags = ("neon", "asimd")
    elif root.is_host and sys.platform == "win32":
        import platform

        model = platform.processor()
    if root.is_host and not text and arch in ("x86_64", "i686"):
        found_flags, found_vendor, why = archspec_cpu()
        flags = found_flags or flags
        vendor = vendor or found_vendor
        if why:
            notes.append(why)
    if not logical and root.is_host:
        logical = os.cpu_count() or 0
    info = CPUInfo(
        arch=info.arch,
        machine=info.machine,
        pointer_bits=info.pointer_bits,
        model=model,
        vendor=vendor,
        flags=flags,
        cores_logical=logical,
        cores_physical=physical or logical,
    )
    return Found(info, tuple(notes))


def flags_from_features(features: set[str] | frozenset[str]) -> tuple[str, ...]:
    """The relevant flags among an archspec microarchitecture's features (Linux flag names;
    archspec says "asimd" where the kernel says so, and NEON is its 32-bit name)."""
    found = set(features)
    if "asimd" in found:
        found.add("neon")
    return tuple(f for f in RELEVANT_FLAGS if f in found)


def archspec_cpu() -> tuple[tuple[str, ...], str, str]:
    """(flags, vendor, problem) of this host's CPU from archspec; a failure is a note, not a crash."""
    try:
        import archspec.cpu  # type: ignore[import-untyped]
    except ImportError:
        return (), "", "archspec is not installed, so CPU features (AVX2) are unknown here."
    try:
        uarch = archspec.cpu.host()
    except Exception as err:  # archspec reads CPUID / sysctl: any failure is only a note
        return (), "", f"archspec could not read the CPU features ({type(err).__name__}: {err})."
    return flags_from_features(frozenset(uarch.features)), str(uarch.vendor or ""), ""
