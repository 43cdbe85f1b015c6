"""Source builds: the steps between "create the venv" and "verify" for ``--build source``.

One options dict (environment variable -> value) decides the build. The build step gets it as its
environment (PyTorch's build forwards ``USE_*``/``BUILD_*``/``CMAKE_*`` variables to CMake: setup.py
until 2.13, ``cmake/EnvVarForwarding.cmake`` from 2.14); ``cmake_argv`` turns the very same dict
into ``-D`` flags for ``--configure-only``, so the two can never disagree. Every variable set is
one PyTorch's build recognises for that version (``catalog/data/source_build.json``, with sources).

API: ``source_plan(machine, choices, resolved, venv_python, catalog) -> SourcePlan``;
``load_facts() -> SourceFacts``; helpers shared with ``source_preflight``.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.cache import cached_network
from torch_wizard.plan.isolation import pip_argv, pip_env
from torch_wizard.plan.model import Choices, Estimate, Network, Resolved, Step

Kind = Literal["cpu", "cuda", "rocm", "xpu"]
CloneMode = Literal["clone", "fetch", "local"]

GB = 1_000_000_000
# A nightly build is made from main, newer than every release in the data.
MAIN = Version("999.0")
# Variables read from the environment only, never passed as -D (MAX_JOBS drives the build tool;
# DEBUG/REL_WITH_DEB_INFO become CMAKE_BUILD_TYPE; PYTORCH_ROCM_ARCH is read with $ENV{} by
# cmake/public/utils.cmake; CUDA_HOME is read by FindCUDA/CMake natively).
ENV_ONLY = frozenset({"MAX_JOBS", "DEBUG", "REL_WITH_DEB_INFO", "PYTORCH_ROCM_ARCH", "CUDA_HOME"})
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ARCH_RE = re.compile(r"^\d+\.\d+[af]?(\+PTX)?$")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{7,40}$")


def _net(resolved: Resolved) -> Network:
    """The host's network settings with the plan's cache choice (``torch_wizard.plan.wheel.step_network``)."""
    return cached_network(resolved.network, resolved.cache_dir, resolved.cache)


@dataclass(frozen=True)
class SourcePlan:
    steps: tuple[Step, ...]  # clone/fetch, submodules, requirements, (hipify), build or configure
    reasons: tuple[str, ...]  # one sentence per decision
    warnings: tuple[str, ...]
    estimate: Estimate
    # the build environment (also set on the build step)
    env: dict[str, str] = field(default_factory=dict)
    cmake_argv: tuple[str, ...] = ()  # the equivalent configure command (``--configure-only``)


@dataclass(frozen=True)
class Toolchain:
    cxx: str  # "17" / "20"
    gcc: str  # minimum gcc, "11.3"
    clang: str  # minimum clang
    source: str


class SourceFacts:
    """The facts in ``source_build.json``, answered per torch version."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.sources: dict[str, str] = data["sources"]

    def _pick(self, table: str, v: Version) -> dict[str, Any]:
        for row in self.data[table]:
            if v in SpecifierSet(row["torch"], prereleases=True):
                return dict(row)
        raise LookupError(f"{table}: no row for torch {v}")

    def cite(self, key: str) -> str:
        return self.sources.get(key, key)

    def build_system(self, v: Version) -> str:
        return str(self._pick("build_systems", v)["name"])

    def requirements(self, v: Version) -> tuple[str, str]:
        """("requirements.txt", "") or ("group:dev", "25.1" = the pip it needs)."""
        row = self._pick("requirements", v)
        return str(row["how"]), str(row.get("pip", ""))

    def toolchain(self, v: Version) -> Toolchain:
        row = self._pick("toolchain", v)
        return Toolchain(row["cxx"], row["gcc"], row["clang"], self.cite(row["source"]))

    def cmake_min(self, v: Version) -> tuple[str, str]:
        row = self._pick("cmake", v)
        return str(row["min"]), self.cite(row["source"])

    def python_min(self, v: Version) -> tuple[str, str]:
        row = self._pick("python", v)
        return str(row["min"]), self.cite(row["source"])

    @property
    def requirements_provide(self) -> frozenset[str]:
        return frozenset(self.data["requirements_provide"]["tools"])

    def recognises(self, name: str, v: Version) -> bool:
        if name in self.data["never"]["names"]:
            return False
        var = self.data["variables"].get(name)
        return bool(var) and v in SpecifierSet(var["torch"], prereleases=True)

    def per_job_gb(self, kind: Kind) -> float:
        table = self.data["memory_per_job_gb"]
        return float(table["cpu"] if kind == "cpu" else table["gpu"])

    @property
    def ci_max_jobs(self) -> int:
        return int(self.data["ci_max_jobs"])

    def jetson_cc(self, model: str) -> str:
        low = model.lower()
        for row in self.data["jetson_compute_capability"]["by_model"]:
            if row["match"] in low:
                return str(row["cc"])
        return ""

    @property
    def estimates(self) -> dict[str, Any]:
        return dict(self.data["estimates"])


@functools.cache
def load_facts() -> SourceFacts:
    text = (
        resources.files("torch_wizard.catalog")
        .joinpath("data")
        .joinpath("source_build.json")
        .read_text("utf-8")
    )
    return SourceFacts(json.loads(text))


# ---- small pure helpers -------------------------------------------------------------------------


def torch_version(resolved: Resolved) -> Version:
    if resolved.channel == "nightly" or resolved.torch in ("", "main"):
        return MAIN
    try:
        return Version(resolved.torch)
    except InvalidVersion:
        return MAIN


def version_label(resolved: Resolved) -> str:
    v = torch_version(resolved)
    return "main (nightly)" if v == MAIN else f"PyTorch {v.major}.{v.minor}"


def backend_kind(backend: str) -> Kind:
    if backend == "cuda" or backend.startswith(("cu", "jetson")):
        return "cuda"
    if backend.startswith("rocm"):
        return "rocm"
    if backend == "xpu":
        return "xpu"
    return "cpu"


def kind_label(kind: Kind) -> str:
    return {"cpu": "CPU", "cuda": "CUDA", "rocm": "ROCm", "xpu": "XPU"}[kind]


def version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def is_local(url: str) -> bool:
    return "://" not in url and not re.match(r"^[\w.-]+@[\w.-]+:", url)


def _probe_fs(machine: Machine) -> bool:
    """Only look at this host's files when the plan is for this host (or a fixture root of it)."""
    return not machine.source.startswith("profile:")


def _is_checkout(path: str) -> bool:
    return (Path(path) / ".git").exists()


def checkout_location(
    machine: Machine, choices: Choices, resolved: Resolved
) -> tuple[str, CloneMode]:
    """Where the sources go and how they get there."""
    src = choices.source
    probe = _probe_fs(machine)
    local_url = os.path.abspath(os.path.expanduser(src.url)) if is_local(src.url) else ""
    if src.checkout:
        where = os.path.abspath(os.path.expanduser(src.checkout))
    elif local_url and probe and _is_checkout(local_url):
        where = local_url
    else:
        where = posixpath.join(posixpath.dirname(resolved.venv.rstrip("/")), "pytorch-src")
    if local_url and where == local_url:
        return where, "local"
    if probe and _is_checkout(where):
        return where, "fetch"
    return where, "clone"


def git_ref(choices: Choices, resolved: Resolved) -> str:
    if choices.source.ref:
        return choices.source.ref
    v = torch_version(resolved)
    if v == MAIN:
        return "main"
    if resolved.channel == "test":
        return f"release/{v.major}.{v.minor}"
    return f"v{resolved.torch}"


# ---- decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decisions:
    options: dict[str, str]
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    jobs: int
    archs: int  # how many GPU archs are compiled (0 = not a GPU build or PyTorch's default list)


def backend_options(kind: Kind) -> tuple[dict[str, str], str]:
    opts = {
        "USE_CUDA": "1" if kind == "cuda" else "0",
        "USE_ROCM": "1" if kind == "rocm" else "0",
        "USE_XPU": "1" if kind == "xpu" else "0",
    }
    on = [k for k, v in opts.items() if v == "1"]
    if on:
        why = f"{on[0]}=1 and the other GPU backends off: a {kind_label(kind)} build."
    else:
        why = "USE_CUDA=0 USE_ROCM=0 USE_XPU=0: a CPU-only build, nothing is compiled for a GPU."
    return opts, why


def _split_archs(text: str) -> list[str]:
    return [a for a in re.split(r"[;,\s]+", text.strip()) if a]


def _cc_key(cc: str) -> tuple[int, ...]:
    return version_tuple(cc.replace("+PTX", "")) or (0,)


def cuda_arch_list(machine: Machine, choices: Choices, facts: SourceFacts) -> tuple[str, str, str]:
    """(value, reason, warning) for TORCH_CUDA_ARCH_LIST."""
    asked = choices.source.cuda_arch_list
    if asked:
        archs = _split_archs(asked)
        bad = [a for a in archs if not _ARCH_RE.match(a)]
        if bad or not archs:
            raise UsageError(
                f"invalid CUDA arch list {asked!r}: give compute capabilities like 8.6;8.9 (optionally 9.0a or 8.6+PTX)"
            )
        value = ";".join(dict.fromkeys(archs))
        return value, f"TORCH_CUDA_ARCH_LIST={value}: set by you.", ""
    found = {g.compute_capability: g.name for g in machine.nvidia.gpus if g.compute_capability}
    if not found and machine.board.kind == "jetson":
        cc = facts.jetson_cc(machine.board.model)
        if cc:
            found = {cc: machine.board.model}
    if not found:
        return (
            "",
            "",
            "No NVIDIA GPU compute capability was found, so PyTorch compiles kernels for every "
            "architecture it supports (a build several times longer); pass the GPU's, e.g. "
            "TORCH_CUDA_ARCH_LIST=8.6.",
        )
    ordered = sorted(found, key=_cc_key)
    value = ";".join(ordered)
    which = ", ".join(f"{found[cc]}: {cc}" for cc in ordered)
    return (
        value,
        f"TORCH_CUDA_ARCH_LIST={value}: only the compute capability of the GPU found ({which}), "
        "instead of every architecture, which cuts the CUDA compile time several-fold.",
        "",
    )


def rocm_arch(machine: Machine) -> tuple[str, str, str]:
    gfx = machine.amd.gfx_targets
    if not gfx:
        return (
            "",
            "",
            "No AMD GPU target (gfx...) was found, so PyTorch builds for its whole default list of "
            "targets; set PYTORCH_ROCM_ARCH, e.g. gfx1100.",
        )
    value = ";".join(sorted(gfx))
    return value, f"PYTORCH_ROCM_ARCH={value}: only the GPU targets found on this machine.", ""


def max_jobs(
    machine: Machine, choices: Choices, kind: Kind, facts: SourceFacts
) -> tuple[int, str, str]:
    """(jobs, reason, warning): RAM per compile job, capped by the cores."""
    per = facts.per_job_gb(kind)
    per_text = f"~{per:g} GB per {kind_label(kind)} compile job"
    ram = machine.memory.available or machine.memory.total
    cores = machine.cpu.cores_logical
    if choices.source.max_jobs > 0:
        n = choices.source.max_jobs
        warning = ""
        if ram and n * per * GB > ram:
            warning = (
                f"MAX_JOBS={n} may need about {n * per:.0f} GB of RAM but {ram / GB:.0f} GB is free "
                f"({per_text}): the compiler may be killed for lack of memory."
            )
        return n, f"MAX_JOBS={n}: set by you.", warning
    if not ram:
        n = max(1, min(cores or 1, 4))
        return (
            n,
            f"MAX_JOBS={n}: the free RAM is unknown, so at most 4 jobs ({per_text}).",
            "",
        )
    by_ram = max(1, int(ram / GB // per))
    n = min(by_ram, cores) if cores else by_ram
    n = max(1, n)
    free = f"{ram / GB:.0f} GB RAM free"
    if cores and by_ram > cores:
        reason = f"MAX_JOBS={n}: {free} at {per_text}, capped by {cores} cores."
    elif cores and by_ram < cores:
        reason = f"MAX_JOBS={n}: {free} at {per_text}, fewer than the {cores} cores, so the compiler is not killed for lack of memory."
    else:
        reason = f"MAX_JOBS={n}: {free} at {per_text}, one per core."
    if n > facts.ci_max_jobs:
        reason = reason[:-1] + f" (PyTorch's own CI uses at most {facts.ci_max_jobs})."
    warning = ""
    if ram < per * GB:
        warning = (
            f"Only {ram / GB:.1f} GB RAM is free and one {kind_label(kind)} compile job needs "
            f"about {per:g} GB: add swap or the compiler may be killed."
        )
    return n, reason, warning


def profile_options(
    machine: Machine, choices: Choices, kind: Kind
) -> tuple[dict[str, str], list[str]]:
    profile = choices.source.profile
    opts: dict[str, str] = {"BUILD_TEST": "0"}
    reasons = [
        "BUILD_TEST=0: the C++ test binaries are for PyTorch's own developers and add much build time."
    ]
    if profile == "debug":
        opts["DEBUG"] = "1"
        reasons.append(
            "DEBUG=1: built with -O0 -g for a debugger (slow at run time, about twice the disk)."
        )
    elif profile == "relwithdebinfo":
        opts["REL_WITH_DEB_INFO"] = "1"
        reasons.append("REL_WITH_DEB_INFO=1: optimised, with debug symbols (about twice the disk).")
    elif profile == "lean":
        lean = {"USE_DISTRIBUTED": "0", "USE_FBGEMM": "0", "USE_KINETO": "0", "USE_MKLDNN": "0"}
        arm = machine.cpu.arch in ("aarch64", "arm64", "armv7l")
        if not arm:
            lean.update(
                {"USE_NNPACK": "0", "USE_XNNPACK": "0", "USE_PYTORCH_QNNPACK": "0", "USE_ITT": "0"}
            )
        if kind in ("cuda", "rocm"):
            lean.update({"USE_NCCL": "0", "USE_FLASH_ATTENTION": "0", "USE_MEM_EFF_ATTENTION": "0"})
        opts.update(lean)
        reasons.append(
            "Lean build: "
            + " ".join(f"{k}={v}" for k, v in lean.items())
            + ": no distributed, profiler, oneDNN or FBGEMM"
            + (
                ""
                if not arm
                else "; XNNPACK and NNPACK stay on, they are the fast CPU kernels on ARM"
            )
            + (
                ", and no flash/memory-efficient attention kernels (SDPA falls back to the math kernel)"
                if kind in ("cuda", "rocm")
                else ""
            )
            + "."
        )
    else:
        reasons.append("Release build: optimised, no debug symbols.")
    return opts, reasons


def gpu_extras(machine: Machine, kind: Kind) -> tuple[dict[str, str], list[str]]:
    opts: dict[str, str] = {}
    reasons: list[str] = []
    if kind == "cuda" and machine.board.kind == "jetson":
        opts["USE_NCCL"] = "0"
        reasons.append("USE_NCCL=0: NCCL supports discrete GPUs only, not Jetson's integrated GPU.")
    nvcc = machine.tool("nvcc")
    if kind == "cuda" and nvcc.found:
        home = posixpath.dirname(posixpath.dirname(nvcc.path))
        if posixpath.basename(home).startswith("cuda"):
            opts["CUDA_HOME"] = home
            reasons.append(f"CUDA_HOME={home}: the toolkit of the nvcc found ({nvcc.path}).")
    return opts, reasons


def ccache_options(machine: Machine, kind: Kind) -> tuple[dict[str, str], str]:
    if not machine.tool("ccache").found:
        return {}, "ccache was not found; installing it makes rebuilds much faster."
    opts = {"CMAKE_C_COMPILER_LAUNCHER": "ccache", "CMAKE_CXX_COMPILER_LAUNCHER": "ccache"}
    if kind == "cuda":
        opts["CMAKE_CUDA_COMPILER_LAUNCHER"] = "ccache"
    return opts, (
        "ccache found: "
        + " ".join(f"{k}=ccache" for k in opts)
        + " so a rebuild reuses what was compiled before."
    )


def decide(machine: Machine, choices: Choices, resolved: Resolved, facts: SourceFacts) -> Decisions:
    kind = backend_kind(resolved.backend)
    options: dict[str, str] = {}
    reasons: list[str] = []
    warnings: list[str] = []

    opts, why = backend_options(kind)
    options.update(opts)
    reasons.append(why)
    archs = 0
    if kind == "cuda":
        value, why, warn = cuda_arch_list(machine, choices, facts)
        if value:
            options["TORCH_CUDA_ARCH_LIST"] = value
            archs = len(_split_archs(value))
            reasons.append(why)
        else:
            warnings.append(warn)
    elif kind == "rocm":
        value, why, warn = rocm_arch(machine)
        if value:
            options["PYTORCH_ROCM_ARCH"] = value
            archs = len(_split_archs(value))
            reasons.append(why)
        else:
            warnings.append(warn)
    elif kind == "xpu":
        warnings.append(
            "XPU builds need Intel's oneAPI compiler environment (Intel Deep Learning Essentials) "
            "sourced in the shell that runs the build: source /opt/intel/oneapi/setvars.sh."
        )

    opts, whys = profile_options(machine, choices, kind)
    options.update(opts)
    reasons.extend(whys)
    opts, whys = gpu_extras(machine, kind)
    options.update(opts)
    reasons.extend(whys)
    opts, why = ccache_options(machine, kind)
    options.update(opts)
    reasons.append(why)

    jobs, why, warn = max_jobs(machine, choices, kind, facts)
    options["MAX_JOBS"] = str(jobs)
    reasons.append(why)
    if warn:
        warnings.append(warn)

    options["CMAKE_PREFIX_PATH"] = resolved.venv
    reasons.append(
        f"CMAKE_PREFIX_PATH={resolved.venv}: CMake finds the build requirements installed in the venv."
    )
    v = torch_version(resolved)
    unknown = sorted(n for n in options if not facts.recognises(n, v))
    if unknown:  # a defect in this module, never the user's doing
        raise RuntimeError(f"{', '.join(unknown)} not recognised by the build of torch {v}")
    return Decisions(options, tuple(reasons), tuple(warnings), jobs, archs)


# ---- commands -----------------------------------------------------------------------------------


def build_type(options: dict[str, str]) -> str:
    if options.get("DEBUG") == "1":
        return "Debug"
    if options.get("REL_WITH_DEB_INFO") == "1":
        return "RelWithDebInfo"
    return "Release"


def cmake_argv(options: dict[str, str], venv_python: str) -> tuple[str, ...]:
    """The configure command equivalent to the build environment ``options``."""
    argv = [
        "cmake",
        "-S",
        ".",
        "-B",
        "build",
        "-G",
        "Ninja",
        f"-DCMAKE_BUILD_TYPE={build_type(options)}",
    ]
    for name in sorted(options):
        if name in ENV_ONLY:
            continue
        value = options[name]
        if name.startswith(("USE_", "BUILD_")) and value in ("0", "1"):
            value = "ON" if value == "1" else "OFF"
        argv.append(f"-D{name}={value}")
    argv.append(f"-DPython_EXECUTABLE={venv_python}")
    return tuple(argv)


def build_path(machine: Machine, venv: str) -> str:
    """PATH for the build: the venv's bin first (the cmake and ninja the requirements installed),
    then the CUDA toolkit's bin (JetPack leaves it off PATH), then this host's PATH when the plan is
    for this host, else a standard one."""
    host = machine.source.startswith("host")
    inherited = os.environ.get("PATH", DEFAULT_PATH) if host else DEFAULT_PATH
    parts = [posixpath.join(venv, "bin")]
    nvcc = machine.tool("nvcc")
    if nvcc.found and posixpath.basename(
        posixpath.dirname(posixpath.dirname(nvcc.path))
    ).startswith("cuda"):
        parts.append(posixpath.dirname(nvcc.path))
    parts.extend(p for p in inherited.split(os.pathsep) if p)
    return os.pathsep.join(dict.fromkeys(parts))


def source_steps(
    machine: Machine, choices: Choices, resolved: Resolved, venv_python: str, facts: SourceFacts
) -> tuple[list[Step], list[str], CloneMode, str]:
    """The checkout and requirements steps (everything before the build)."""
    where, mode = checkout_location(machine, choices, resolved)
    url = choices.source.url
    ref = git_ref(choices, resolved)
    steps: list[Step] = []
    reasons: list[str] = []
    if mode == "clone":
        if _SHA_RE.match(ref):
            steps.append(
                Step("clone", f"Clone {url}", ("git", "clone", "--recurse-submodules", url, where))
            )
            steps.append(
                Step("checkout", f"Check out {ref}", ("git", "-C", where, "checkout", ref))
            )
        else:
            argv = (
                "git",
                "clone",
                "--branch",
                ref,
                "--depth",
                "1",
                "--recurse-submodules",
                "--shallow-submodules",
                url,
                where,
            )
            steps.append(Step("clone", f"Clone {ref} of {url} with its submodules", argv))
        reasons.append(
            f"The sources of {version_label(resolved)} ({ref}) are cloned shallowly into {where}."
        )
    elif mode == "fetch":
        steps.append(
            Step(
                "fetch",
                f"Fetch {ref} into the existing checkout {where}",
                ("git", "-C", where, "fetch", url, ref),
            )
        )
        steps.append(
            Step(
                "checkout",
                f"Check out {ref}",
                ("git", "-C", where, "checkout", "--detach", "FETCH_HEAD"),
            )
        )
        reasons.append(
            f"{where} is already a git checkout, so {ref} is fetched into it instead of cloning again."
        )
    else:
        if choices.source.ref:
            steps.append(
                Step("checkout", f"Check out {ref}", ("git", "-C", where, "checkout", ref))
            )
        reasons.append(f"{where} is a local checkout and is built as it is checked out.")
    steps.append(
        Step(
            "submodule-sync",
            "Sync submodule URLs",
            ("git", "-C", where, "submodule", "sync", "--recursive"),
        )
    )
    steps.append(
        Step(
            "submodules",
            "Check out the submodules",
            ("git", "-C", where, "submodule", "update", "--init", "--recursive"),
        )
    )
    how, pip_min = facts.requirements(torch_version(resolved))
    if how == "requirements.txt":
        steps.append(
            Step(
                "requirements",
                "Install the build requirements",
                pip_argv(venv_python, _net(resolved), "-r", "requirements.txt"),
                env=pip_env(machine.os.name),
                cwd=where,
                progress="pip",
            )
        )
        reasons.append(
            "Build requirements come from requirements.txt, as the README of that version says."
        )
    else:
        group = how.split(":", 1)[1]
        steps.append(
            Step(
                "upgrade-pip",
                f"Make sure pip is {pip_min} or newer (pip install --group)",
                pip_argv(venv_python, _net(resolved), f"pip>={pip_min}"),
                env=pip_env(machine.os.name),
            )
        )
        steps.append(
            Step(
                "requirements",
                "Install the build requirements",
                pip_argv(venv_python, _net(resolved), "--group", group),
                env=pip_env(machine.os.name),
                cwd=where,
                progress="pip",
            )
        )
        reasons.append(
            f"Build requirements come from the '{group}' dependency group in pyproject.toml (PyTorch 2.9 and newer), which needs pip {pip_min} or newer."
        )
    if backend_kind(resolved.backend) == "rocm":
        steps.append(
            Step(
                "hipify",
                "Translate the CUDA sources to HIP (ROCm)",
                (venv_python, "tools/amd_build/build_amd.py"),
                cwd=where,
            )
        )
        reasons.append(
            "ROCm builds run tools/amd_build/build_amd.py first to turn the CUDA sources into HIP."
        )
    return steps, reasons, mode, where


def estimate(
    machine: Machine,
    choices: Choices,
    resolved: Resolved,
    d: Decisions,
    mode: CloneMode,
    facts: SourceFacts,
) -> Estimate:
    e = facts.estimates
    kind = backend_kind(resolved.backend)
    gpu = kind != "cpu"
    profile = choices.source.profile
    build_gb = float(e["build_gb"]["gpu" if gpu else "cpu"])
    if profile in ("debug", "relwithdebinfo"):
        build_gb *= float(e["debug_factor"])
    if profile == "lean":
        build_gb *= float(e["lean_factor"])
    clone_gb = float(e["clone_gb"]) if mode == "clone" else 0.0
    disk_gb = max(build_gb, 10.0) + clone_gb
    core_minutes = float(e["core_minutes"]["gpu" if gpu else "cpu"])
    if gpu and d.archs > 1:
        core_minutes += float(e["core_minutes"]["gpu_per_extra_arch"]) * (d.archs - 1)
    if gpu and d.archs == 0:
        core_minutes *= 3  # PyTorch's whole default arch list
    if profile == "lean":
        core_minutes *= float(e["lean_factor"])
    core_minutes *= float(e["slow_core_factor"].get(machine.cpu.arch, 1.0))
    return Estimate(
        download=int(clone_gb * GB),
        disk=int(disk_gb * GB),
        minutes=round(core_minutes / max(1, d.jobs), 1),
    )


def source_plan(
    machine: Machine, choices: Choices, resolved: Resolved, venv_python: str, catalog: object = None
) -> SourcePlan:
    """Everything between creating the venv and verifying torch, for ``--build source``."""
    facts = load_facts()
    d = decide(machine, choices, resolved, facts)
    steps, reasons, mode, where = source_steps(machine, choices, resolved, venv_python, facts)
    env = {**d.options, "PATH": build_path(machine, resolved.venv)}
    argv = cmake_argv(d.options, venv_python)
    if choices.source.configure_only:
        steps.append(
            Step(
                "configure",
                "Configure only: run CMake with the build options (no compile)",
                argv,
                env=dict(env),
                cwd=where,
            )
        )
        reasons.append(
            "Configure only: CMake runs with the same options the build would use, into build/, and nothing is compiled."
        )
    else:
        editable = ("-e", ".") if choices.source.develop else (".",)
        title = f"Build and install torch from {where} ({kind_label(backend_kind(resolved.backend))}, MAX_JOBS={d.jobs})"
        steps.append(
            Step(
                "build",
                title,
                pip_argv(venv_python, _net(resolved), "--no-build-isolation", "-v", *editable),
                env={**env, **pip_env(machine.os.name)},
                cwd=where,
                progress="ninja",
            )
        )
        reasons.append(
            "pip builds with --no-build-isolation so the build uses the requirements just installed in the venv"
            + (", as an editable install (-e) for development." if choices.source.develop else ".")
        )
    est = estimate(machine, choices, resolved, d, mode, facts)
    reasons.append(
        f"Expect roughly {est.minutes:.0f} minutes and {est.disk / GB:.0f} GB of disk (a rough figure, not a measurement)."
    )
    return SourcePlan(
        steps=tuple(steps),
        reasons=tuple(reasons) + d.reasons,
        warnings=d.warnings,
        estimate=est,
        env=env,
        cmake_argv=argv,
    )
