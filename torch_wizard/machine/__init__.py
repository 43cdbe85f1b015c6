"""Machine detection: probe the host (or a fixture machine root) into a ``Machine`` profile.

API contract:
- ``detect(root=None, target_path=".venv", timeout=3.0) -> Machine``: probe everything. ``root``
  (a directory) makes every file read happen under it and every tool lookup happen only in
  ``root/bin`` (see shared/design.md, "Fixture machine roots", and ``torch_wizard.machine.root``). Never
  raises for a failing, missing, hanging or garbage-printing tool: such findings go to
  ``Machine.notes``. Independent probes run concurrently in threads.
- ``apply_overrides(machine, **overrides) -> Machine``: --os/--arch/--python/--nvidia-driver/
  --compute-capability/--amd-arch from the CLI.
- ``load_profile(path) -> Machine`` / ``dump_profile(machine) -> dict``: the ``detect --json`` form.
- ``target_from_args(args) -> Machine``: --profile FILE, --root DIR or this host, then overrides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, cast

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import (
    AMDGPU,
    AMDInfo,
    AppleInfo,
    Arch,
    BoardInfo,
    CPUInfo,
    DiskInfo,
    ExistingTorch,
    IntelGPU,
    Machine,
    MemoryInfo,
    NvidiaGPU,
    NvidiaInfo,
    OSInfo,
    OSName,
    PythonInfo,
    Tool,
)
from torch_wizard.machine.root import Found, Root

__all__ = [
    "AMDGPU",
    "PROFILE_SCHEMA_VERSION",
    "AMDInfo",
    "AppleInfo",
    "BoardInfo",
    "CPUInfo",
    "DiskInfo",
    "ExistingTorch",
    "IntelGPU",
    "Machine",
    "MemoryInfo",
    "NvidiaGPU",
    "NvidiaInfo",
    "OSInfo",
    "PythonInfo",
    "Root",
    "Tool",
    "apply_overrides",
    "detect",
    "dump_profile",
    "load_profile",
    "target_from_args",
]

PROFILE_SCHEMA_VERSION = 1
T = TypeVar("T")


def _root(root: str | Path | None) -> Root:
    if root is None:
        return Root()
    path = Path(root)
    if not path.is_dir():
        raise UsageError(
            f"--root {root}: no such directory; give a fixture machine root (a directory)"
        )
    return Root(path.absolute())


def detect(
    root: str | Path | None = None, target_path: str = ".venv", timeout: float = 3.0
) -> Machine:
    """Probe the host, or the fixture machine root ``root``, into a ``Machine``."""
    from torch_wizard.machine import (
        amd,
        apple,
        boards,
        cpu,
        disk,
        intel,
        memory,
        nvidia,
        pci,
        system,
        toolchain,
    )

    r = _root(root)
    defaults, notes0 = r.defaults()
    os_found = system.probe_os(r, defaults)
    os_info = os_found.value
    _, bits, arch = cpu.target_arch(r, defaults, os_info.name)

    with ThreadPoolExecutor(max_workers=12) as pool:
        # The display devices first: the GPU probes wait on them (on Windows a PowerShell query).
        f_pci = pool.submit(pci.probe_display, r, os_info.name, timeout)

        def devices() -> list[pci.PCIDevice]:
            return f_pci.result().value

        # Slow ones (subprocesses) next.
        f_nvidia = pool.submit(nvidia.probe_nvidia, r, timeout, os_info.wsl, devices)
        f_tools = [pool.submit(toolchain.probe_tool, r, name, timeout) for name in toolchain.TOOLS]
        f_torch: Future[Found[ExistingTorch]] | None = None
        if r.is_host:
            from torch_wizard.machine import torch_env

            f_torch = pool.submit(torch_env.probe_torch, target_path, timeout)
        f_python = pool.submit(_python, r, defaults.python, bits, os_info.name, arch)
        f_amd = pool.submit(amd.probe_amd, r, timeout, devices, os_info.name)
        f_apple = pool.submit(apple.probe_apple, r, os_info.name, arch, timeout)
        f_cpu = pool.submit(cpu.probe_cpu, r, defaults, os_info.name, timeout)
        f_memory = pool.submit(memory.probe_memory, r, os_info.name, timeout)
        f_disk = pool.submit(disk.probe_disk, r, target_path)
        f_intel = pool.submit(intel.probe_intel, r, devices)
        f_board = pool.submit(boards.probe_board, r)

        notes: list[str] = [*notes0, *os_found.notes]
        try:
            notes.extend(f_pci.result().notes)
        except Exception as err:  # a probe bug must not take detection down
            notes.append(f"Listing the GPUs failed unexpectedly ({type(err).__name__}: {err}).")

        def take(name: str, fut: Future[Found[T]], fallback: T) -> T:
            try:
                found = fut.result()
            except Exception as err:  # a probe bug must not take detection down
                notes.append(f"Probing {name} failed unexpectedly ({type(err).__name__}: {err}).")
                return fallback
            notes.extend(found.notes)
            return found.value

        cpu_info = take("the CPU", f_cpu, CPUInfo(arch=arch, pointer_bits=bits))
        python_info = take("Python", f_python, PythonInfo(version="", bits=bits))
        memory_info = take("memory", f_memory, MemoryInfo())
        disk_info = take("disk space", f_disk, DiskInfo())
        nvidia_notes_start = len(notes)
        nvidia_info = take("NVIDIA GPUs", f_nvidia, NvidiaInfo())
        nvidia_notes_end = len(notes)
        amd_notes_start = len(notes)
        amd_info = take("AMD GPUs", f_amd, AMDInfo())
        if amd_info.source == "pci" and nvidia_info.present:
            # An AMD iGPU beside a working NVIDIA GPU needs no ROCm advice.
            del notes[amd_notes_start:]
        intel_info = take("Intel GPUs", f_intel, ())
        apple_info = take("Apple silicon", f_apple, AppleInfo())
        board_info = take("the board", f_board, BoardInfo())
        if board_info.kind == "jetson":
            # A Jetson's integrated GPU is driven by nvgpu, not by the desktop driver stack: no
            # /dev/nvidia* nodes and no nvidia-smi are expected, so those findings are no news.
            del notes[nvidia_notes_start:nvidia_notes_end]
        tools = tuple(take(n, f, Tool(n)) for n, f in zip(toolchain.TOOLS, f_tools, strict=True))
        torch_info = take("torch", f_torch, ExistingTorch()) if f_torch else ExistingTorch()

    return Machine(
        os=os_info,
        cpu=cpu_info,
        python=python_info,
        memory=memory_info,
        disk=disk_info,
        nvidia=nvidia_info,
        amd=amd_info,
        intel=intel_info,
        apple=apple_info,
        board=board_info,
        tools=tools,
        torch=torch_info,
        notes=tuple(dict.fromkeys(notes)),
        source=r.label,
    )


def _python(r: Root, version: str, bits: int, os_name: OSName, arch: Arch) -> Found[PythonInfo]:
    from torch_wizard.machine import python_env

    if not r.is_host and version:
        return Found(python_env.fixture_python(version, bits))
    found = python_env.host_python()
    if r.is_host:
        return found
    from torch_wizard.machine import cpu, system

    if (os_name, arch) != (system.host_os_name(), cpu.host_machine()[2]):
        # The host interpreter's path and wheel tags mean nothing on another platform.
        return Found(replace(found.value, executable="", base_executable="", tags=(), bits=bits))
    return Found(found.value)


# ----------------------------------------------------------------------------- overrides

_PY = re.compile(r"^3\.\d{1,2}(?:\.\d{1,2})?t?$")  # "3.13t": free-threaded
_DRIVER = re.compile(r"^\d{2,4}(?:\.\d{1,3}){1,2}$")
_CC = re.compile(r"^\d{1,2}\.\d$")
_GFX = re.compile(r"^gfx[0-9a-f]{3,5}$")
_ARCHES = ("x86_64", "aarch64", "arm64", "armv7l", "i686")


def _os_override(machine: Machine, os_name: str) -> Machine:
    if os_name not in ("linux", "windows", "macos"):
        raise UsageError(f"--os {os_name!r}: use linux, windows or macos")
    if os_name == machine.os.name:
        return machine
    name = cast(OSName, os_name)
    m = replace(machine, os=OSInfo(name=name), board=BoardInfo())  # boards run Linux
    if name == "macos":  # no CUDA, ROCm or XPU builds for macOS
        m = replace(m, nvidia=NvidiaInfo(), amd=AMDInfo(), intel=())
    elif name == "windows":  # no ROCm wheels for Windows
        m = replace(m, amd=AMDInfo(), apple=AppleInfo())
    else:
        m = replace(m, apple=AppleInfo())
    return m


def _arch_override(machine: Machine, arch: str) -> Machine:
    if arch not in _ARCHES:
        raise UsageError(f"--arch {arch!r}: use one of {', '.join(_ARCHES)}")
    from torch_wizard.machine.cpu import normalise_arch

    bits = 32 if arch in ("armv7l", "i686") else 64
    new = normalise_arch(arch, bits, machine.os.name)
    x86 = ("x86_64", "i686")
    same_family = (machine.cpu.arch in x86) == (new in x86)
    cpu_info = replace(
        machine.cpu,
        arch=new,
        machine=arch if new != machine.cpu.arch else machine.cpu.machine,
        pointer_bits=bits,
        flags=machine.cpu.flags if same_family else (),
        model=machine.cpu.model if same_family else "",
        vendor=machine.cpu.vendor if same_family else "",
    )
    return replace(machine, cpu=cpu_info, python=replace(machine.python, bits=bits))


def apply_overrides(
    machine: Machine,
    *,
    os: str | None = None,
    arch: str | None = None,
    python: str | None = None,
    nvidia_driver: str | None = None,
    compute_capability: str | None = None,
    amd_arch: str | None = None,
) -> Machine:
    """The machine with the CLI's overrides applied; bad values raise ``UsageError``.

    --os replaces the OS (distribution and libc facts belong to the detected one) and drops what
    that OS cannot use (a board; on macOS the GPUs; on Windows ROCm; on another platform the
    detected interpreter and uv); without --arch it also picks the usual arch (macOS: arm64;
    Windows: x86_64 or arm64 after the detected one).
    --arch sets the interpreter's architecture (32-bit for armv7l/i686); CPU flags are dropped when
    the family changes. --python replaces the interpreter with an unknown one of that version.
    --nvidia-driver / --compute-capability describe a usable NVIDIA GPU: without detected GPUs a
    synthetic one is created. --amd-arch sets (or creates) the AMD GPU's gfx target.
    Any override adds "+overrides" to ``Machine.source``.
    """
    given = [v for v in (os, arch, python, nvidia_driver, compute_capability, amd_arch) if v]
    if not given:
        return machine
    m = machine
    old_platform = (m.os.name, m.cpu.arch)
    if os:
        m = _os_override(m, os)
        if not arch and m.os.name != old_platform[0]:
            if m.os.name == "macos":
                arch = "arm64"
            elif m.os.name == "windows":
                arch = "arm64" if m.cpu.arch in ("aarch64", "arm64") else "x86_64"
            elif m.cpu.arch == "arm64":
                arch = "aarch64"
    if arch:
        m = _arch_override(m, arch)
    if m.os.name == "macos":
        m = replace(m, apple=replace(m.apple, silicon=m.cpu.arch == "arm64"))
    if (m.os.name, m.cpu.arch) != old_platform:
        # The detected interpreter cannot run there: its path and wheel tags do not apply; nor
        # does the detected uv, a binary of this platform that plans name by its path.
        m = replace(
            m,
            python=replace(m.python, executable="", base_executable="", tags=(), in_venv=False),
            tools=tuple(t for t in m.tools if t.name != "uv"),
        )
    if python:
        if not _PY.match(python):
            raise UsageError(
                f"--python {python!r}: give a Python 3 version such as 3.12 (3.13t for "
                "free-threaded)"
            )
        ft = python.endswith("t")
        m = replace(
            m,
            python=PythonInfo(version=python.rstrip("t"), bits=m.python.bits, free_threaded=ft),
        )
    if nvidia_driver or compute_capability:
        m = _nvidia_override(m, nvidia_driver, compute_capability)
    if amd_arch:
        if not _GFX.match(amd_arch.lower()):
            raise UsageError(f"--amd-arch {amd_arch!r}: give a gfx target such as gfx1100")
        gfx = amd_arch.lower()
        gpus = tuple(replace(g, gfx=gfx) for g in m.amd.gpus) or (
            AMDGPU(name=f"AMD GPU ({gfx}, from --amd-arch)", gfx=gfx),
        )
        m = replace(m, amd=replace(m.amd, gpus=gpus, source="override"))
    source = m.source if m.source.endswith("+overrides") else f"{m.source}+overrides"
    return replace(m, source=source)


def _nvidia_override(m: Machine, driver: str | None, cc: str | None) -> Machine:
    nv = m.nvidia
    if driver:
        if not _DRIVER.match(driver):
            raise UsageError(f"--nvidia-driver {driver!r}: give a driver version such as 550.54.14")
        nv = replace(nv, driver_version=driver, driver_source="override")
    if cc:
        if not _CC.match(cc):
            raise UsageError(f"--compute-capability {cc!r}: give it as X.Y, e.g. 8.9")
        gpus = tuple(replace(g, compute_capability=cc) for g in nv.gpus) or (
            NvidiaGPU(
                index=0,
                name=f"NVIDIA GPU (compute capability {cc}, from --compute-capability)",
                compute_capability=cc,
            ),
        )
        nv = replace(nv, gpus=gpus)
    return replace(m, nvidia=replace(nv, device_nodes=True))


# ------------------------------------------------------------------------------ profiles


def dump_profile(machine: Machine) -> dict[str, Any]:
    """The ``detect --json`` object: ``schema_version`` and every field of the ``Machine``."""
    from torch_wizard.serial import to_json

    data = cast(dict[str, Any], to_json(machine))
    return {"schema_version": PROFILE_SCHEMA_VERSION, **data}


def load_profile(path: str | Path) -> Machine:
    """A ``Machine`` from a saved ``detect --json`` (or the ``target`` of a ``plan --format json``)."""
    import json

    from torch_wizard.serial import SchemaError, from_json

    hint = "save one with 'torch-wizard detect --json > FILE'"
    from torch_wizard.files import read_small_text

    text = read_small_text(path, "--profile", hint)
    try:
        data = json.loads(text)
    except ValueError as err:
        raise UsageError(f"--profile {path}: not valid JSON ({err}); {hint}") from None
    if isinstance(data, dict) and "os" not in data and isinstance(data.get("target"), dict):
        data = data["target"]
    if not isinstance(data, dict):
        raise UsageError(f"--profile {path}: expected a JSON object; {hint}")
    version = data.get("schema_version", PROFILE_SCHEMA_VERSION)
    if type(version) is not int:
        raise UsageError(
            f"--profile {path}: profile.schema_version {version!r} is not a whole number (this "
            f"torch-wizard writes {PROFILE_SCHEMA_VERSION}); {hint}"
        )
    if version < 1:
        raise UsageError(
            f"--profile {path}: profile.schema_version {version} is not a profile version "
            f"(they start at 1; this torch-wizard writes {PROFILE_SCHEMA_VERSION}); {hint}"
        )
    if version > PROFILE_SCHEMA_VERSION:
        raise UsageError(
            f"--profile {path}: schema_version {version!r} is newer than this torch-wizard "
            f"understands ({PROFILE_SCHEMA_VERSION}); upgrade torch-wizard or re-run detect"
        )
    try:
        machine = from_json(Machine, data, "profile")
    except SchemaError as err:
        raise UsageError(f"--profile {path}: not a machine profile ({err}); {hint}") from None
    bad = profile_field_problem(machine)
    if bad:
        raise UsageError(f"--profile {path}: {bad}; fix that field or {hint}")
    return replace(machine, source=f"profile:{path}")


def profile_field_problem(machine: Machine) -> str:
    """ "" when the fields the planner reads hold values the CLI would accept for its overrides
    (``--python``, ``--nvidia-driver``, ``--compute-capability``, ``--amd-arch``), else a phrase
    naming the profile's field, as the CLI names its flag."""
    checks: list[tuple[str, str, re.Pattern[str], str]] = [
        ("profile.python.version", machine.python.version, _PY, "a Python 3 version such as 3.12"),
        (
            "profile.nvidia.driver_version",
            machine.nvidia.driver_version,
            _DRIVER,
            "a driver version such as 550.54.14",
        ),
    ]
    for i, gpu in enumerate(machine.nvidia.gpus):
        checks.append(
            (
                f"profile.nvidia.gpus[{i}].compute_capability",
                gpu.compute_capability,
                _CC,
                "X.Y, e.g. 8.9",
            )
        )
    for i, amd in enumerate(machine.amd.gpus):
        checks.append(
            (f"profile.amd.gpus[{i}].gfx", amd.gfx.lower(), _GFX, "a gfx target such as gfx1100")
        )
    for field_name, value, pattern, want in checks:
        if value and not pattern.match(value):
            return f"{field_name} is {value!r}, not {want}"
    return ""


# ------------------------------------------------------------------------------- the CLI


def target_from_args(args: Any, detector: Callable[..., Machine] = detect) -> Machine:
    """The machine to plan for: --profile FILE, --root DIR or this host, then the overrides.

    ``args`` is an argparse namespace whose attributes may be absent (argparse.SUPPRESS).
    """

    def get(name: str) -> Any:
        return getattr(args, name, None)

    root, profile = get("root"), get("profile")
    if root and profile:
        raise UsageError("--root and --profile both name the target machine: give only one")
    if profile:
        machine = load_profile(profile)
    else:
        machine = detector(root=root, target_path=get("venv") or ".venv")
    return apply_overrides(
        machine,
        os=get("target_os"),
        arch=get("arch"),
        python=get("target_python"),
        nvidia_driver=get("nvidia_driver"),
        compute_capability=get("compute_capability"),
        amd_arch=get("amd_arch"),
    )
