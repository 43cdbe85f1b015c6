"""``torch-wizard detect [--json] [TARGET]``: the machine profile, as text or JSON."""

from __future__ import annotations

import argparse
import sys

from torch_wizard.machine import dump_profile, target_from_args
from torch_wizard.machine.model import Machine

GB = 1024**3


def _size(n: int) -> str:
    return f"{n / GB:.1f} GiB" if n else "unknown"


def _or(value: str, fallback: str = "unknown") -> str:
    return value or fallback


def render_text(m: Machine) -> str:
    lines: list[str] = []

    def row(label: str, value: str) -> None:
        lines.append(f"{label:<12} {value}")

    os_name = m.os.pretty_name or m.os.name
    extra = []
    if m.os.kernel:
        extra.append(f"kernel {m.os.kernel}")
    if m.os.libc:
        extra.append(f"{m.os.libc} {m.os.libc_version}".strip())
    if m.os.wsl:
        extra.append("WSL")
    row("OS", f"{os_name} ({', '.join(extra)})" if extra else os_name)
    py = m.python
    py_bits = [f"{py.bits}-bit"]
    if py.in_venv:
        py_bits.append("venv")
    if py.externally_managed:
        py_bits.append("externally managed (PEP 668)")
    if not py.has_ensurepip:
        py_bits.append("no ensurepip")
    where = f" at {py.executable}" if py.executable else ""
    row("Python", f"{_or(py.version)} {py.implementation}{where} ({', '.join(py_bits)})")
    cpu = m.cpu
    arch = (
        cpu.arch
        if not cpu.machine or cpu.machine == cpu.arch
        else f"{cpu.arch} (kernel {cpu.machine})"
    )
    cores = f", {cpu.cores_logical} threads" if cpu.cores_logical else ""
    row("CPU", f"{_or(cpu.model)} [{arch}{cores}]")
    if cpu.flags:
        row("", "flags: " + " ".join(cpu.flags))
    row("RAM", f"{_size(m.memory.total)} total, {_size(m.memory.available)} available")
    row("Disk", f"{_size(m.disk.free)} free at {_or(m.disk.path)}")

    nv = m.nvidia
    if nv.present:
        cuda = f", CUDA {nv.cuda_driver_version}" if nv.cuda_driver_version else ""
        src = f" (from {nv.driver_source})" if nv.driver_source else ""
        none = "not loaded" + (" (nouveau in use)" if nv.kernel_driver == "nouveau" else "")
        row("NVIDIA", f"driver {_or(nv.driver_version, none)}{cuda}{src}")
        for g in nv.gpus:
            mem = f", {_size(g.memory)}" if g.memory else ""
            cc = (
                f"compute capability {g.compute_capability}"
                if g.compute_capability
                else "compute capability unknown"
            )
            arch = f"{g.architecture}, " if g.architecture else ""
            row("", f"GPU {g.index}: {g.name} ({arch}{cc}{mem})")
        if not nv.device_nodes:
            row("", "no /dev/nvidia* device nodes: the GPU is not usable here")
    for a in m.amd.gpus:
        row("AMD", f"{_or(a.name, 'AMD GPU')} ({_or(a.gfx, 'gfx target unknown')})")
    if m.amd.gpus or m.amd.rocm_version:
        row("ROCm", _or(m.amd.rocm_version, "not installed"))
    for ig in m.intel:
        kind = "discrete" if ig.discrete else "integrated"
        row("Intel GPU", f"{ig.name} [{ig.pci_id}] ({kind})")
    if m.apple.silicon or m.apple.chip:
        row(
            "Apple",
            f"{_or(m.apple.chip, 'Apple silicon')} (MPS)" if m.apple.silicon else m.apple.chip,
        )
    if m.board.kind == "jetson":
        row(
            "Board",
            f"{_or(m.board.model, 'NVIDIA Jetson')}, L4T {_or(m.board.l4t)}, JetPack {_or(m.board.jetpack)}",
        )
    elif m.board.kind:
        row("Board", m.board.model)
    if not (nv.present or m.amd.gpus or m.intel or m.apple.silicon or m.board.kind == "jetson"):
        row("GPU", "none found")

    found = [t for t in m.tools if t.found]
    missing = [t.name for t in m.tools if not t.found]
    tools = ", ".join(f"{t.name} {t.version}".strip() for t in found) or "none"
    row("Tools", tools)
    if missing:
        row("", "not found: " + ", ".join(missing))
    if m.torch.version:
        backend = (
            f"CUDA {m.torch.cuda}"
            if m.torch.cuda
            else (f"HIP {m.torch.hip}" if m.torch.hip else "CPU")
        )
        row("torch", f"{m.torch.version} ({backend}) in {m.torch.location}")
    else:
        row("torch", "not installed in the target venv")
    row("Source", m.source)
    if m.notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in m.notes)
    if (nv.gpus and not nv.driver_version) or m.amd.source == "pci":
        from torch_wizard.plan.advice import driver_advice

        advice = driver_advice(m)
        if advice:
            lines.append("")
            lines.append("Driver:")
            lines.extend(f"  {line}" for line in advice)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    machine = target_from_args(args)
    if getattr(args, "json", False):
        import json

        sys.stdout.write(json.dumps(dump_profile(machine), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(machine))
    return 0
