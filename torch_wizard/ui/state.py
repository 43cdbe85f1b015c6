"""The wizard's state and the pure helpers its screens render from.

Nothing here imports Textual: the flow state, the step results and the text the screens show are
plain data and plain functions, so they are tested without an app.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import Choices, Plan
from torch_wizard.run.verify import VerifyReport, diagnose

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
    article = "an" if c.machine[:1].lower() in "aeiou" else "a"
    arch = (
        c.arch
        if not c.machine or c.machine == c.arch
        else f"{c.arch} on {article} {c.machine} kernel"
    )
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
    if machine.board.kind == "jetson" and not nv.gpus:
        name = (machine.board.model or "Jetson").removesuffix(" Developer Kit")
        lines.append(f"{name}: integrated NVIDIA GPU (CUDA through JetPack)")
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
            f"{fmt_bytes(machine.memory.total)} total, {fmt_bytes(machine.memory.available)} "
            "available"
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


@dataclass(frozen=True)
class Verdict:
    """One plain sentence about what PyTorch can use on this machine, and how it reads:
    "gpu" (a GPU PyTorch can use), "cpu" (no usable GPU: the CPU it is) or "warn" (something
    stands in the way)."""

    text: str
    level: str  # "gpu", "cpu", "warn"


# The oldest NVIDIA compute capability any current CUDA wheel covers (cu126: sm 5.0-9.0)
# [pytorch/pytorch RELEASE.md, CUDA architecture table].
MIN_COMPUTE_CAPABILITY = (5, 0)


def _cc_tuple(cc: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in cc.split("."))
    except ValueError:
        return ()


def _nvidia_names(machine: Machine) -> tuple[str, bool]:
    """ "NVIDIA GeForce RTX 4090" or "8x NVIDIA H100 80GB HBM3", and whether there are several."""
    gpus = machine.nvidia.gpus
    if not gpus:
        return "An NVIDIA GPU", False
    names = list(dict.fromkeys(g.name for g in gpus))
    if len(names) == 1:
        return (f"{len(gpus)}x {names[0]}" if len(gpus) > 1 else names[0]), len(gpus) > 1
    return " and ".join(names), True


def machine_verdict(machine: Machine) -> Verdict:
    """What this machine means for PyTorch, in one sentence a newcomer understands."""
    arch = machine.cpu.arch
    if machine.python.bits == 32 or arch in ("armv7l", "i686"):
        return Verdict(
            f"This Python is 32-bit ({arch}) and PyTorch publishes no 32-bit builds: "
            "the next step says what to do.",
            "warn",
        )
    if machine.os.libc == "musl":
        return Verdict(
            "This system uses musl libc (e.g. Alpine) and PyTorch publishes no builds for it: "
            "the next step says what to do.",
            "warn",
        )
    board = machine.board
    if board.kind == "jetson":
        name = (board.model or "Jetson").removeprefix("NVIDIA ").removesuffix(" Developer Kit")
        jetpack = f"JetPack {board.jetpack}" if board.jetpack else "JetPack unknown"
        return Verdict(
            f"{name} ({jetpack}): PyTorch can use its GPU through NVIDIA's Jetson builds.", "gpu"
        )
    nv = machine.nvidia
    if nv.present:
        names, several = _nvidia_names(machine)
        it = "them" if several else "it"
        if not nv.driver_version and nv.kernel_driver == "nvidia":
            return Verdict(
                f"{names} found with NVIDIA's driver, but its version is unknown (no nvidia-smi "
                "answered): pass --nvidia-driver VERSION to plan for the GPU; until then PyTorch "
                "will run on the CPU.",
                "warn",
            )
        if not nv.driver_version:
            return Verdict(
                f"{names} found but no NVIDIA driver is loaded: install the driver to use {it}; "
                "until then PyTorch will run on the CPU.",
                "warn",
            )
        found = f"{names} found (driver {nv.driver_version})"
        if not nv.device_nodes:
            return Verdict(
                f"{found} but not reachable from here (no /dev/nvidia*): PyTorch would run on "
                "the CPU.",
                "warn",
            )
        ccs = [_cc_tuple(g.compute_capability) for g in nv.gpus if g.compute_capability]
        if ccs and all(cc and cc < MIN_COMPUTE_CAPABILITY for cc in ccs):
            they = "they are" if several else "it is"
            return Verdict(
                f"{found}, but {they} too old for current PyTorch builds (those need compute "
                f"capability 5.0 or newer): the next step takes the newest torch whose CUDA build "
                f"still covers {it}, if there is one, else the CPU build.",
                "warn",
            )
        return Verdict(f"{found}: PyTorch can use {it}.", "gpu")
    if machine.amd.gpus:
        gpus = machine.amd.gpus
        name = gpus[0].name or "GPU"
        gfx = ", ".join(machine.amd.gfx_targets)
        found = (name if name.startswith("AMD") else f"AMD {name}") + (f" ({gfx})" if gfx else "")
        if machine.os.name != "linux":
            return Verdict(
                f"{found} found, but PyTorch supports AMD GPUs (ROCm) only on Linux: "
                "PyTorch will run on the CPU.",
                "warn",
            )
        if machine.amd.source == "pci":  # no /sys/class/kfd: amdgpu is not running (issue 11)
            return Verdict(
                f"{found} found, but ROCm cannot reach it (no /sys/class/kfd: the amdgpu kernel "
                "driver is not running here; see below): until then PyTorch will run on the CPU.",
                "warn",
            )
        return Verdict(f"{found} found: PyTorch can use it through ROCm.", "gpu")
    discrete = [g for g in machine.intel if g.discrete]
    if discrete:
        return Verdict(
            f"{discrete[0].name or 'Intel GPU'} found: PyTorch can use it through Intel's XPU "
            "builds.",
            "gpu",
        )
    if machine.apple.silicon:
        return Verdict(
            f"{machine.apple.chip or 'Apple silicon'}: PyTorch uses its GPU through MPS.", "gpu"
        )
    if machine.os.name == "macos":
        return Verdict(
            "An Intel Mac: PyTorch will run on the CPU (its last build for Intel Macs is 2.2.2).",
            "cpu",
        )
    if machine.intel:
        from torch_wizard.catalog import load as load_catalog

        listed = [f for g in machine.intel if (f := load_catalog().xpu_integrated(g.pci_id))]
        if listed:  # Core Ultra Arc graphics: on PyTorch's XPU list (catalog xpu.json)
            return Verdict(
                f"{listed[0]} (integrated) found: PyTorch can use it through Intel's XPU builds.",
                "gpu",
            )
        return Verdict("Only integrated Intel graphics found: PyTorch will run on the CPU.", "cpu")
    return Verdict("No GPU that PyTorch can use was found: PyTorch will run on the CPU.", "cpu")


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
    elif machine.board.kind == "jetson":
        gpu = "integrated NVIDIA GPU (JetPack)"
    else:
        gpu = "no GPU"
    board = f"{machine.board.model}, " if machine.board.model else ""
    return f"{board}{machine.platform_key}, Python {machine.python.minor}, {gpu}"


def _counted(names: list[str]) -> str:
    """["A", "A", "B"] -> "2x A, B"."""
    counts = dict.fromkeys(names, 0)
    for n in names:
        counts[n] += 1
    return ", ".join(f"{c}x {n}" if c > 1 else n for n, c in counts.items())


def report_lines(report: VerifyReport, backend: str, expected_torch: str = "") -> list[str]:
    """The verification report in plain words, for the Done screen: which torch, where it runs,
    how fast, whether a small exact product came out right; then any mismatch, explained."""
    build = (
        f" (CUDA {report.cuda_build})"
        if report.cuda_build
        else f" (ROCm {report.hip_build})"
        if report.hip_build
        else ""
    )
    lines = [f"torch {report.torch or '?'}{build} on Python {report.python or '?'}"]
    names = _counted([d.name for d in report.devices])
    device = report.device
    if device == "cpu":
        where = "the CPU"
        if report.cpu_capability:
            where += f", using its {report.cpu_capability} instructions"
    elif device == "cuda":
        where = "the GPU through ROCm" if report.hip_build else "the GPU through CUDA"
        where += f" ({names})" if names else ""
    elif device == "mps":
        where = "the Apple GPU through MPS"
    elif device == "xpu":
        where = "the Intel GPU through XPU" + (f" ({names})" if names else "")
    else:
        where = device or "unknown (no report)"
    lines.append(f"Runs on: {where}")
    if report.gflops:
        lines.append(f"Speed: {report.gflops:.1f} GFLOP/s on a 1024x1024 float32 matrix product")
    if not report.error:
        lines.append(
            "Check: a small matrix product came out exactly right"
            if report.matmul_ok
            else f"Check: a small matrix product came out WRONG ({report.matmul_mismatches} entries)"
        )
    lines += [f"! {d}" for d in diagnose(report, backend, expected_torch)]
    return lines


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def plan_headline(plan: Plan, dry_run: bool = False) -> str:
    """The Preview screen's first lines: what the commands below do, in plain words."""
    from torch_wizard.plan.describe import backend_label

    c = plan.choice
    pkgs = _and([f"{n} {v}".strip() for n, v in c.packages.items()] or ["torch"])
    label = backend_label(c.backend)
    if c.backend == "cpu":
        build = "the CPU-only build [cpu]"
    elif c.backend == "pypi":
        build = "the build from PyPI"
    elif c.backend.startswith("jetson"):
        build = f"NVIDIA's Jetson build [{c.backend}]"
    else:
        build = f"the {label} build [{c.backend}]"
    if c.build == "source":
        text = f"Builds {pkgs} from source ({label}) into {c.venv}."
    else:
        text = f"Installs {pkgs}, {build}, into {c.venv} with {c.installer}."
    if dry_run:
        text += "\nDry run: nothing runs here; copy or save the commands to run them."
    return text


def run_heading(plan: Plan) -> str:
    """The line at the top of the Run screen."""
    verb = "Building PyTorch from source" if plan.choice.build == "source" else "Installing PyTorch"
    return f"{verb} into {plan.choice.venv}"


def progress_text(label: str, done: int, total: int) -> str:
    """Beside the progress bar: "torch 2.15.0+cu126  96.0 MB / 192.0 MB" for a wheel download
    (the wheel's name and version, not its 60-character file name), or the build's step count."""
    if label == "build":
        return f"compiling: {done} of {total} build steps" if total else "compiling"
    name = label
    if label.endswith(".whl") and label.count("-") >= 4:
        project, version = label.split("-")[:2]
        name = f"{project} {version}"
    if total:
        return f"{name}  {fmt_bytes(done)} / {fmt_bytes(total)}"
    return f"downloading {name}" if name else ""


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


def answers_toml(choices: Choices) -> str:
    """The choices as an answers file (``--config FILE``), written by ``torch_wizard.answers``, the
    module that reads it back: only what differs from the built-in defaults, so ``backend =
    "auto"`` stays "pick per machine", and the venv."""
    from torch_wizard.answers import answers_of_choices, dump_answers

    return dump_answers(
        answers_of_choices(choices),
        header="torch-wizard answers: torch-wizard plan --config THIS_FILE (or install, or the wizard)",
    )


# Where each command-line option lives on the screens: (field, kind), kind "list" (pick a value),
# "input" (type a value) or "tick" (a checkbox). Prose from the core names options as flags (it is
# shared with the command line); the screens say where to click instead (``screen_words``).
FLAG_FIELDS: dict[str, tuple[str, str]] = {
    "backend": ("the Backend list", "list"),
    "channel": ("Channel", "list"),
    "build": ("Build", "list"),
    "installer": ("Installer", "list"),
    "torch": ("the Torch version list", "list"),
    "packages": ("Packages", "list"),
    "venv": ("the Venv field", "input"),
    "cache-dir": ("Cache folder under Advanced (a)", "input"),
    "no-cache": ("No cache under Advanced (a)", "tick"),
    "index-base": ("Index base under Advanced (a)", "input"),
    "allow-insecure-index": ("Allow plain http under Advanced (a)", "tick"),
    "compute-capability": ("Compute capability under Advanced (a)", "input"),
    "nvidia-driver": ("NVIDIA driver under Advanced (a)", "input"),
    "amd-arch": ("AMD gfx target under Advanced (a)", "input"),
    "source-url": ("Source on the Source step", "input"),
    "source-ref": ("Ref on the Source step", "input"),
    "source-dir": ("Checkout on the Source step", "input"),
    "source-profile": ("Profile on the Source step", "list"),
    "max-jobs": ("Max jobs on the Source step", "input"),
    "cuda-arch-list": ("CUDA archs on the Source step", "input"),
    "develop": ("Editable on the Source step", "tick"),
}
_NOT_VALUES = {"on", "if", "to", "and", "or", "with", "for", "in", "the", "a", "is", "first"}
_FLAG = re.compile(
    r"(?:(?P<verb>\b(?:pass|use|select|pick|set|give|with|drop|choose another|choose|make the plan with)) |(?<![\w-]))"
    r"--(?P<flag>[a-z][a-z-]*)(?:[ =](?P<value>[A-Za-z0-9][A-Za-z0-9.,+_/:-]*(?<![.:,])))?"
)


def screen_words(text: str) -> str:
    """``text`` (a sentence from the core) with "pass --backend cuXYZ" and the like turned into
    where that is on screen ("pick cuXYZ in the Backend list"); other flags are left alone."""

    def swap(m: re.Match[str]) -> str:
        known = FLAG_FIELDS.get(m["flag"])
        if known is None:
            return m[0]
        field_name, kind = known
        value = m["value"] or ""
        lead = ": " if m["verb"] == "with" else ""
        if m["flag"] == "packages" and value:  # "--packages torch,...,torchaudio": the one to add
            return f"{lead}tick {value.split(',')[-1]} in Packages"
        value = {"cuXYZ": "a CUDA entry", "X.Y": "X.Y (e.g. 8.6)"}.get(value, value)
        rest = ""
        if value.lower() in _NOT_VALUES:
            value, rest = "", " " + value
        if kind == "tick":
            said = f"tick {field_name}" + (f" {value}" if value else "")
        elif kind == "list":
            said = f"pick {value} in {field_name}" if value else f"change {field_name}"
        else:
            said = f"set {field_name} to {value}" if value else f"change {field_name}"
        return lead + said + rest

    return _FLAG.sub(swap, text).replace(" : ", ": ")


def disk_for_venv(machine: Machine, venv: str) -> Machine:
    """``machine`` with its free-disk figure measured where ``venv`` goes (the figure the Preview
    shows and the planner's cache decision uses), the way detection measured it: on the host at
    the venv's nearest existing folder; a fixture root keeps what it recorded. A profile of
    another machine keeps its own figure."""
    from dataclasses import replace
    from pathlib import Path

    from torch_wizard.machine.disk import probe_disk
    from torch_wizard.machine.root import Root

    source = machine.source.split("+", 1)[0]
    if source == "host":
        root = Root()
    elif source.startswith("root:"):
        root = Root(Path(source.removeprefix("root:")))
    else:
        return machine
    found = probe_disk(root, os.path.expanduser(venv))
    return replace(machine, disk=found.value)


def own_venv_default(
    venv: str, cwd: str, prefix: str, base_prefix: str, home: str
) -> tuple[str, str]:
    """The default venv, and why it changed: ``.venv`` in the current folder unless that is the
    environment torch-wizard itself runs in (as after the README's first command); then a
    ``torch-venv`` in the home folder. ("", "") when nothing changes."""
    if prefix == base_prefix:  # not running from a venv
        return venv, ""
    path = os.path.realpath(os.path.join(cwd, os.path.expanduser(venv)))
    if path != os.path.realpath(prefix):
        return venv, ""
    other = os.path.join(home, "torch-venv")
    return other, (
        f"{venv} here is the environment torch-wizard itself runs in, so PyTorch goes into "
        f"{other} instead (change the Venv field to choose another)."
    )


GB = 1_000_000_000


def machine_warnings(machine: Machine) -> list[str]:
    """What the Machine step warns about before any choice (the planner's own thresholds): too
    little RAM, too little disk for even the CPU build, no AVX2."""
    from torch_wizard.plan.estimate import estimate_size

    out: list[str] = []
    if machine.memory.total and machine.memory.total < 4 * GB:
        out.append(
            f"Only {fmt_bytes(machine.memory.total)} of RAM: torch installs and imports, but "
            "takes several hundred MB of it; keep models small."
        )
    _, cpu_disk = estimate_size("cpu")
    if machine.disk.free and machine.disk.free < cpu_disk + 2 * GB:
        out.append(
            f"Only {fmt_bytes(machine.disk.free)} free at {machine.disk.path or 'the target'}: "
            f"even the CPU build needs about {fmt_bytes(cpu_disk)} plus room for the download. "
            "Free some space, or put the venv on another disk (the next step)."
        )
    if machine.cpu.arch == "x86_64" and machine.cpu.flags and "avx2" not in machine.cpu.flags:
        out.append("This CPU has no AVX2: torch runs, but on its slowest generic CPU kernels.")
    return out


def phase_of(step_id: str, line: str, current: str) -> str:
    """The phase a step is in, from its id and its latest output line: "resolving",
    "downloading", "installing", "verifying", "building", or ``current`` when the line says
    nothing new. pip and uv print these words themselves."""
    if step_id == "verify":
        return "verifying"
    if step_id in ("build", "configure"):
        return "building"
    text = line.strip().lower()
    if text.startswith(("installing collected packages", "installing build dependencies")):
        return "installing"
    if text.startswith(("successfully installed", "installed ")):
        return "installed"
    if text.startswith(("downloading", "progress ", "downloaded ")):
        return "downloading"
    if text.startswith(("collecting", "looking in indexes", "resolved ", "using cached")):
        return "resolving" if current in ("", "resolving") else current
    return current


def rate_text(samples: list[tuple[float, int]], total: int) -> str:
    """ "12.3 MB/s, 0:08 left" from (time, bytes done) samples of one download; "" until two
    samples a moment apart exist."""
    if len(samples) < 2:
        return ""
    (t0, d0), (t1, d1) = samples[0], samples[-1]
    if t1 - t0 < 0.2 or d1 <= d0:
        return ""
    speed = (d1 - d0) / (t1 - t0)
    text = f"{fmt_bytes(int(speed))}/s"
    if total > d1:
        text += f", {fmt_duration((total - d1) / speed)} left"
    return text
