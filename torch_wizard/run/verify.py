"""Verification: a script the venv's python runs, its JSON report, and what a mismatch means.

``verify_argv(python, backend, packages)`` (defined in ``torch_wizard.plan.verify``, which the planner
uses) is the ``verify`` step of every plan: ``[python, -I, -c, SCRIPT, backend, torch==2.13.0,
torchvision==0.28.0 ...]``. ``-I`` keeps the host out: no
``PYTHON*`` variables, no user site, neither the cwd nor the script's folder on ``sys.path``, so
a ``torch.py`` or a ``PYTHONPATH`` of the caller cannot stand in for the installed torch (the plan
also runs it with the venv as its cwd).

The script imports torch, reports versions, which accelerators are available, the device names,
``torch.backends.cpu.get_cpu_capability()``, multiplies two small integer matrices on the
expected device and checks every entry against the exact result computed in plain Python, then
times a 1024x1024 float32 matmul for GFLOP/s. Then it checks every package of the plan (given as
``name==version``, or a bare ``name`` for no pin; with none given, whichever of torch,
torchvision and torchaudio is installed): the installed version matches the pin (public version,
the ``+local`` label ignored); torchvision imports and runs a real operator,
``torchvision.ops.nms`` on a tiny tensor (on the CPU, and on the GPU where torch runs on one);
torchaudio imports and its ``__version__`` matches the pin; torchao's version matches and an int8
weight-only ``quantize_`` of a small Linear stays within 5% of the float result; torchcodec
imports (a missing FFmpeg or CUDA library it loads is named). Each result is one entry of
``checks``. It prints one line ``MARKER {json}`` and exits 0 when torch works on the expected
device and every package passes, 3 when torch works only on the CPU, 1 on an error or a failed
package.

``parse_report(output)`` reads that line back; ``diagnose(report, backend)`` says in sentences
what a mismatch most likely means.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from torch_wizard.plan.verify import MARKER as MARKER
from torch_wizard.plan.verify import VERIFY_SCRIPT as VERIFY_SCRIPT
from torch_wizard.plan.verify import package_args as package_args
from torch_wizard.plan.verify import verify_argv as verify_argv


@dataclass(frozen=True)
class Device:
    kind: str  # "cuda" (also ROCm), "xpu"
    name: str
    capability: str = ""


@dataclass(frozen=True)
class PackageCheck:
    """One package of the plan, as the script found it."""

    name: str  # "torchvision"
    pin: str = ""  # the plan's version ("" = no pin)
    version: str = ""  # installed (its metadata); "" = not installed
    build: str = (
        ""  # the +local label of the build ("cu130", "cpu"), from the metadata or __version__
    )
    test: str = ""  # what was exercised: "version", "nms", "import"
    version_ok: bool = True
    error: str = ""  # "not installed", or what failed when it was exercised
    ok: bool = False


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    error: str = ""
    backend: str = ""  # what the plan installed
    expected_device: str = ""
    device: str = ""  # where the matmul ran
    python: str = ""
    executable: str = ""
    torch: str = ""  # "2.13.0+cpu"
    cuda_build: str = ""  # torch.version.cuda
    hip_build: str = ""
    xpu_build: bool = False
    cuda_available: bool = False
    xpu_available: bool = False
    mps_available: bool = False
    devices: tuple[Device, ...] = ()
    arch_list: tuple[str, ...] = ()
    cpu_capability: str = ""
    matmul_ok: bool = False
    matmul_mismatches: int = 0
    gflops: float = 0.0
    import_seconds: float = 0.0
    packages: dict[str, str] = field(default_factory=dict)
    checks: tuple[PackageCheck, ...] = ()  # every package of the plan, torch first

    def failed_packages(self) -> tuple[PackageCheck, ...]:
        """The packages besides torch that failed their check (torch is judged on its own)."""
        return tuple(c for c in self.checks if not c.ok and c.name != "torch")


def parse_report(output: str) -> VerifyReport | None:
    """The report in a verify step's output (the last marker line), or None if there is none."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if not line.startswith(MARKER + " "):
            continue
        try:
            data = json.loads(line[len(MARKER) + 1 :])
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return _report(data)
    return None


def _report(data: dict[str, object]) -> VerifyReport:
    from torch_wizard.serial import SchemaError, from_json

    try:
        return from_json(VerifyReport, data)
    except SchemaError as err:
        return VerifyReport(ok=False, error=f"unreadable verification report: {err}")


def _is_gpu_backend(backend: str) -> bool:
    return backend.startswith(("cu", "rocm", "jetson")) or backend == "xpu"


def _index_hint(backend: str) -> str:
    """Where the plan's index is, for the backends that live under download.pytorch.org/whl."""
    if backend == "cpu" or backend == "xpu" or re.fullmatch(r"(cu\d+|rocm[\d.]+)", backend):
        return f" (.../whl/{backend})"
    return ""


def companion_problem(check: PackageCheck, report: VerifyReport, backend: str) -> str:
    """One line for a package that failed its check: what, the likely cause, and the fix.

    A build that imports wrong but has the pinned version must be reinstalled by force: the
    plan's command alone keeps it, as the installed package already meets the pin."""
    where = f"from the plan's index{_index_hint(backend)}"
    again = (
        "with the plan's exact command ('torch-wizard install' again, or the plan's "
        "install-torch line)."
    )
    name = check.name
    if name == "numpy" and check.error:
        torch_shown = f"torch {report.torch}" if report.torch else "this torch"
        return (
            f"{torch_shown} cannot use the installed NumPy {check.version} ({check.error}): it was "
            "built against NumPy 1.x; install numpy<2 into the venv (its python -m pip install "
            "'numpy<2', or uv pip install --python VENV_PYTHON 'numpy<2')."
        )
    if not check.version:
        pinned = f" {check.pin}" if check.pin else ""
        return (
            f"{name}{pinned} is not installed although the plan includes it: the install did not "
            f"finish or something removed it; install it {where} {again}"
        )
    shown = check.version
    if check.build and "+" not in shown:
        shown += f"+{check.build}"
    if check.error:
        torch_label = report.torch.partition("+")[2]
        builds = ""
        if check.build and torch_label and check.build != torch_label:
            builds = f" (a +{check.build} build beside a +{torch_label} torch)"
        with_torch = f"torch {report.torch}" if report.torch else "this torch"
        return (
            f"{name} {shown} does not work with {with_torch} ({check.error}): a build that does not "
            f"match this torch{builds}, often from another index; reinstall it {where} with the "
            f"plan's install-torch command plus --reinstall-package {name} (uv) or "
            "--force-reinstall (pip), since the installed build already meets the pin."
        )
    return (
        f"{name} {shown} is installed but the plan pinned {check.pin}: another requirement or a "
        f"cached wheel won; reinstall it {where} {again}"
    )


def diagnose(report: VerifyReport | None, backend: str, expected_torch: str = "") -> list[str]:
    """Sentences naming what is wrong and the likely cause; empty when all is well.

    Order: torch itself (does not work, wrong version, a build from the wrong index), then each
    package that failed its check, then a device torch cannot reach and a wrong matrix product.
    """
    if report is None:
        return [
            "The verification printed no report: torch may have crashed the interpreter (see the log)."
        ]
    out: list[str] = []
    if report.error:
        out.append(f"torch does not work in this environment: {report.error}.")
        if "import" in report.error:
            return out
    if expected_torch and report.torch and report.torch.split("+")[0] != expected_torch:
        out.append(
            f"torch {report.torch} is installed but the plan asked for {expected_torch}: another "
            "requirement or a cached wheel won; reinstall with the plan's exact command."
        )
    wrong_build: list[str] = []
    no_device: list[str] = []
    gpu_wanted = _is_gpu_backend(backend)
    if gpu_wanted and backend != "xpu":
        build = report.cuda_build or report.hip_build
        if not build:
            wrong_build.append(
                f"The plan asked for {backend} but a CPU-only torch ({report.torch}) is installed: "
                "it came from the wrong index (plain PyPI or the cpu index); reinstall with "
                f"--index-url .../whl/{backend}."
            )
        elif not report.cuda_available:
            kind = "ROCm" if report.hip_build else "CUDA"
            no_device.append(
                f"torch {report.torch} is a {kind} {build} build but sees no GPU: the driver is likely "
                f"too old for {kind} {build}, or this process cannot reach the device (no "
                "/dev/nvidia* or /dev/kfd in a container, or CUDA_VISIBLE_DEVICES hides it)."
            )
    if backend == "xpu":
        if not report.xpu_build and not report.xpu_available:
            wrong_build.append(
                f"The plan asked for xpu but torch {report.torch} has no XPU support: it came from "
                "the wrong index; reinstall with --index-url .../whl/xpu."
            )
        elif not report.xpu_available:
            no_device.append(
                "torch has XPU support but sees no Intel GPU: install Intel's GPU driver "
                "(level-zero) and check access to /dev/dri."
            )
    if not gpu_wanted and (report.cuda_build or report.hip_build):
        wrong_build.append(
            f"A GPU build of torch ({report.torch}) is installed where the plan wanted {backend}: it "
            "came from the wrong index and wastes gigabytes."
        )
    out.extend(wrong_build)
    out.extend(companion_problem(c, report, backend) for c in report.failed_packages())
    out.extend(no_device)
    if not report.error and not report.matmul_ok:
        out.append(
            f"A small matrix product on {report.device or 'the device'} gave "
            f"{report.matmul_mismatches} wrong entries: the device or its driver is faulty."
        )
    return out
