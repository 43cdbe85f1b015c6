"""The wizard's state and the pure helpers its screens render from.

Nothing here imports Textual: the flow state, the step results and the text the screens show are
plain data and plain functions, so they are tested without an app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from wizard.machine.model import Machine
from wizard.plan.model import Choices, Plan

T = TypeVar("T")

# The steps of the flow, in order. "source" is visited only for source builds.
STEPS = ("machine", "choices", "source", "preview", "run", "done")


@dataclass(frozen=True)
class Next(Generic[T]):
    """A screen finished and hands its value forward."""

    value: T


@dataclass(frozen=True)
class Back:
    """Go to the previous step, prefilled with what was chosen there."""


@dataclass(frozen=True)
class Cancel:
    """Leave the wizard."""


StepResult = Next[T] | Back | Cancel


@dataclass(frozen=True)
class WizardState:
    """Everything the flow has gathered so far; each step returns a new one."""

    choices: Choices = field(default_factory=Choices)
    machine: Machine | None = None
    plan: Plan | None = None


def flow_steps(build: str, dry_run: bool) -> tuple[str, ...]:
    """The steps this flow visits: source options only for source builds, no run in dry-run mode."""
    steps = [s for s in STEPS if s != "source" or build == "source"]
    if dry_run:
        steps = steps[: steps.index("preview") + 1]
    return tuple(steps)


# --------------------------------------------------------------------------------------------------
# Text for the screens


def fmt_bytes(n: int) -> str:
    """1_500_000_000 -> "1.5 GB"; 0 -> "unknown"."""
    if n <= 0:
        return "unknown"
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def fmt_gib(n: int) -> str:
    """Memory the way tools print it: 68719476736 -> "64.0 GiB"."""
    if n <= 0:
        return "unknown"
    return f"{n / 2**30:.1f} GiB"


def fmt_duration(seconds: float) -> str:
    """75.2 -> "1:15"; 3725 -> "1:02:05"."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def os_line(machine: Machine) -> str:
    o = machine.os
    name = o.pretty_name or " ".join(p for p in (o.distro_id, o.distro_version) if p) or o.name
    parts = [name]
    if o.kernel:
        parts.append(f"kernel {o.kernel}")
    if o.libc:
        parts.append(f"{o.libc} {o.libc_version}".strip())
    if o.wsl:
        parts.append("WSL")
    return ", ".join(parts)


def python_line(machine: Machine) -> str:
    p = machine.python
    parts = [
        f"{p.implementation.capitalize() if p.implementation != 'cpython' else 'CPython'} {p.version}"
    ]
    if p.bits != 64:
        parts.append(f"{p.bits}-bit")
    if p.free_threaded:
        parts.append("free-threaded")
    if p.executable:
        parts.append(p.executable)
    if p.externally_managed:
        parts.append("externally managed (PEP 668)")
    if not p.has_ensurepip:
        parts.append("no ensurepip")
    return ", ".join(parts)


IMPORTANT_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx", "neon", "asimd", "sve")


def cpu_line(machine: Machine) -> str:
    c = machine.cpu
    arch = c.arch if not c.machine or c.machine == c.arch else f"{c.arch} on a {c.machine} kernel"
    parts = [c.model or c.vendor or "unknown CPU", arch]
    if c.cores_logical:
        cores = f"{c.cores_logical} threads"
        if c.cores_physical and c.cores_physical != c.cores_logical:
            cores = f"{c.cores_physical} cores, {cores}"
        parts.append(cores)
    return ", ".join(parts)


def flags_line(machine: Machine) -> str:
    flags = machine.cpu.flags
    if not flags:
        return "unknown"
    shown = [f for f in IMPORTANT_FLAGS if f in flags] + [
        f for f in flags if f not in IMPORTANT_FLAGS
    ]
    line = " ".join(shown)
    if machine.cpu.arch == "x86_64" and "avx2" not in flags:
        line += "  (no AVX2)"
    return line


def gpu_lines(machine: Machine) -> list[str]:
    """One line per GPU, with driver and compute capability where they matter."""
    lines: list[str] = []
    nv = machine.nvidia
    for g in nv.gpus:
        bits = [f"NVIDIA #{g.index} {g.name}"]
        if g.compute_capability:
            bits.append(f"compute capability {g.compute_capability}")
        if g.memory:
            bits.append(fmt_gib(g.memory))
        lines.append(", ".join(bits))
    if nv.present:
        drv = f"NVIDIA driver {nv.driver_version or 'not found'}"
        if nv.cuda_driver_version:
            drv += f" (supports CUDA {nv.cuda_driver_version})"
        if nv.driver_source:
            drv += f", from {nv.driver_source}"
        if not nv.device_nodes:
            drv += ", no /dev/nvidia* device visible"
        lines.append(drv)
    for a in machine.amd.gpus:
        lines.append(", ".join(p for p in (f"AMD {a.name or 'GPU'}", a.gfx) if p))
    if machine.amd.gpus:
        lines.append(f"ROCm {machine.amd.rocm_version or 'not installed'}")
    for i in machine.intel:
        kind = "discrete" if i.discrete else "integrated"
        lines.append(f"Intel {i.name or 'GPU'} ({kind})")
    if machine.apple.silicon:
        lines.append(f"{machine.apple.chip or 'Apple silicon'} (MPS)")
    return lines or ["none found"]


def board_line(machine: Machine) -> str:
    b = machine.board
    if not b.kind:
        return ""
    parts = [b.model or b.kind]
    if b.jetpack:
        parts.append(f"JetPack {b.jetpack}")
    if b.l4t:
        parts.append(f"L4T {b.l4t}")
    return ", ".join(parts)


TOOLS_SHOWN = ("gcc", "g++", "clang", "cmake", "ninja", "git", "nvcc", "hipcc", "ccache", "uv")


def tools_line(machine: Machine) -> str:
    found = [t for t in machine.tools if t.found]
    if not found:
        return "none found"
    order = {name: i for i, name in enumerate(TOOLS_SHOWN)}
    found.sort(key=lambda t: order.get(t.name, len(order)))
    return ", ".join(f"{t.name} {t.version}".strip() for t in found)


def torch_line(machine: Machine) -> str:
    t = machine.torch
    if not t.version:
        return "none"
    extra = f" (CUDA {t.cuda})" if t.cuda else f" (HIP {t.hip})" if t.hip else ""
    where = f" in {t.location}" if t.location else ""
    return f"torch {t.version}{extra}{where}"


def machine_rows(machine: Machine) -> list[tuple[str, str]]:
    """The machine profile as (label, value) rows, in the order the Machine screen shows them."""
    rows: list[tuple[str, str]] = [
        ("OS", os_line(machine)),
        ("Python", python_line(machine)),
        ("CPU", cpu_line(machine)),
        ("CPU flags", flags_line(machine)),
        (
            "Memory",
            f"{fmt_gib(machine.memory.total)} total, {fmt_gib(machine.memory.available)} available"
            if machine.memory.total
            else "unknown",
        ),
        (
            "Disk",
            f"{fmt_bytes(machine.disk.free)} free at {machine.disk.path}"
            if machine.disk.path
            else "unknown",
        ),
    ]
    for n, line in enumerate(gpu_lines(machine)):
        rows.append(("GPU" if n == 0 else "", line))
    board = board_line(machine)
    if board:
        rows.append(("Board", board))
    rows.append(("Toolchain", tools_line(machine)))
    rows.append(("torch now", torch_line(machine)))
    return rows


def machine_summary(machine: Machine) -> str:
    """One line for the top of the later screens."""
    gpu = ""
    if machine.nvidia.gpus:
        g = machine.nvidia.gpus[0]
        count = f"{len(machine.nvidia.gpus)}x " if len(machine.nvidia.gpus) > 1 else ""
        cc = f" (sm {g.compute_capability})" if g.compute_capability else ""
        gpu = f"{count}{g.name}{cc}, driver {machine.nvidia.driver_version or '?'}"
    elif machine.amd.gpus:
        gpu = f"AMD {', '.join(machine.amd.gfx_targets) or 'GPU'}"
    elif any(i.discrete for i in machine.intel):
        gpu = next(i.name for i in machine.intel if i.discrete) or "Intel GPU"
    elif machine.apple.silicon:
        gpu = machine.apple.chip or "Apple silicon"
    else:
        gpu = "no GPU"
    board = f"{machine.board.model}, " if machine.board.model else ""
    return f"{board}{machine.platform_key}, Python {machine.python.minor}, {gpu}"


def venv_hints(venv: str, os_name: str) -> list[str]:
    """How to use the venv afterwards, for the Done screen."""
    if os_name == "windows":
        return [
            f"{venv}\\Scripts\\activate    (PowerShell: {venv}\\Scripts\\Activate.ps1)",
            f"{venv}\\Scripts\\python.exe your_script.py",
        ]
    return [f"source {venv}/bin/activate", f"{venv}/bin/python your_script.py"]


def failure_hints(step_id: str, tail: tuple[str, ...]) -> list[str]:
    """What to try after a failed step, from the step and its last output lines."""
    text = "\n".join(tail).lower()
    hints: list[str] = []
    if "no space left" in text:
        hints.append("The disk is full: free some space or choose a venv on another disk.")
    if "could not find a version" in text or "no matching distribution" in text:
        hints.append(
            "The index has no matching wheel: check the index base (a mirror may lag) or pick "
            "another torch version or backend."
        )
    if any(w in text for w in ("connection", "timed out", "temporary failure", "name resolution")):
        hints.append("The network failed: check the connection or proxy, then run it again.")
    if "permission denied" in text:
        hints.append("A permission problem: choose a venv folder you own.")
    if step_id == "create-venv":
        hints.append(
            "Creating the venv failed: on Debian/Ubuntu install python3-venv, or choose the uv "
            "installer."
        )
    if step_id == "verify":
        hints.append(
            "torch installed but did not import or run: the log above has the error; the driver "
            "or backend may not fit."
        )
    hints.append("Go back to the preview to change a choice, or run the saved script by hand.")
    return hints
