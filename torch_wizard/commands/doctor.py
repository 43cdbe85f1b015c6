"""``torch-wizard doctor``: what torch a venv holds, what its receipt says, whether it fits this
machine (driver floors and GPU architectures from the catalog), and the command that fixes it.

It runs the plan's own verification (``torch_wizard.run.verify``) with the receipt's packages and pins
(without a receipt: whichever of torch, torchvision and torchaudio is installed), isolated as the
verify step is: ``python -I``, the venv as cwd, the host's PYTHONPATH-like variables removed. A
package that fails its check (a torchvision whose ``nms`` does not run) is a problem, with the
verify step's sentence, and the fix forces its reinstall from the receipt's index.

Exit codes: 0 healthy, 1 problems found, 2 bad input (no venv there).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from torch_wizard.catalog import Catalog
from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import Choices
from torch_wizard.run.receipt import Receipt
from torch_wizard.run.verify import VerifyReport

PROG = "torch-wizard"


DOCTOR_SCHEMA = 1  # schema_version of doctor --json (docs/json.md)


@dataclass(frozen=True)
class DoctorReport:
    venv: str
    python: str = ""
    torch: str = ""  # "" when torch does not import
    variant: str = ""  # what the installed build is: "cpu", "cu130", "rocm6.4", "xpu"
    device: str = ""  # where the verification matmul ran
    gflops: float = 0.0
    receipt: str = ""  # its path, "" when there is none
    receipt_outcome: str = ""
    receipt_backend: str = ""
    receipt_created: str = ""
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    fix: str = ""  # a command that would put things right; "" when healthy
    verify: VerifyReport | None = None


def variant_of(report: VerifyReport) -> str:
    if report.cuda_build:
        major, _, minor = report.cuda_build.partition(".")
        return f"cu{major}{minor.split('.')[0]}"
    if report.hip_build:
        return "rocm" + ".".join(report.hip_build.split(".")[:2])
    if report.xpu_build:
        return "xpu"
    local = report.torch.partition("+")[2]
    return local or ("cpu" if report.torch else "")


def _older(version: str, floor: str) -> bool:
    try:
        return Version(version) < Version(floor)
    except InvalidVersion:
        return False


def assess(
    report: VerifyReport, machine: Machine, catalog: Catalog, receipt: Receipt | None = None
) -> tuple[list[str], list[str]]:
    """(problems, notes) for an installed torch on ``machine``. Pure."""
    from torch_wizard.run.verify import diagnose

    problems: list[str] = []
    notes: list[str] = []
    if report.error and not report.torch:
        return [f"torch does not work in this venv: {report.error}"], notes
    variant = variant_of(report)
    base = report.torch.split("+")[0]
    nv = machine.nvidia
    if receipt is not None:
        wanted = receipt.plan.choice.torch
        if wanted and base and base != wanted:
            notes.append(
                f"The receipt says torch {wanted} was installed; the venv now has {report.torch}."
            )
    if variant.startswith("cu"):
        if not nv.present:
            problems.append(
                f"torch {report.torch} is a CUDA build but this machine has no NVIDIA GPU: it cannot "
                "use CUDA and wastes gigabytes; the cpu build fits."
            )
        else:
            floor = catalog.driver_floor(report.cuda_build, machine.os.name)
            if floor and nv.driver_version and _older(nv.driver_version, floor):
                problems.append(
                    f"torch {report.torch} is built with CUDA {report.cuda_build}, which needs NVIDIA "
                    f"driver {floor} or newer; this machine has {nv.driver_version}: update the driver "
                    "or install a build for an older CUDA."
                )
            for gpu in nv.gpus:
                if gpu.compute_capability and base and catalog.cuda_archs(variant, base):
                    if not catalog.covers_cc(variant, base, gpu.compute_capability):
                        problems.append(
                            f"{gpu.name} (compute capability {gpu.compute_capability}) is not among "
                            f"the architectures torch {report.torch} was built for "
                            f"({', '.join(catalog.cuda_archs(variant, base))}): it needs another "
                            "CUDA build."
                        )
    elif variant.startswith("rocm"):
        supported = catalog.rocm_gfx(variant)
        for gfx in machine.amd.gfx_targets:
            if supported and gfx not in supported:
                problems.append(
                    f"The AMD GPU {gfx} is not among the targets of the {variant} build."
                )
    elif variant == "cpu" and nv.present and nv.gpus:
        problems.append(
            f"torch {report.torch} is CPU-only but this machine has an NVIDIA GPU "
            f"({nv.gpus[0].name}): it came from the cpu index or plain PyPI; a CUDA build would use the GPU."
        )
    backend = receipt.plan.choice.backend if receipt is not None else variant
    for sentence in diagnose(report, backend):
        if sentence not in problems and not sentence.startswith("torch does not work"):
            problems.append(sentence)
    if report.error:
        problems.append(f"torch imports but fails: {report.error}")
    return problems, notes


VERIFY_TIMEOUT = 120.0  # seconds; torch imports in 2-20 s, a first CUDA init can take a minute


def _progress(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"{PROG}: {text}\n")
        sys.stderr.flush()


def _run_verify(
    python: Path,
    backend: str,
    packages: Mapping[str, str] | None = None,
    *,
    pinned: bool = True,
    timeout: float = VERIFY_TIMEOUT,
) -> VerifyReport | None:
    """The plan's verification script on ``python``, isolated as the verify step runs: ``-I``,
    the venv as cwd, the environment without PYTHONPATH-like, PIP_* and UV_* variables.

    It runs in its own process group, with a line on stderr every few seconds while it has not
    answered; after ``timeout`` seconds the whole group is killed (a hung import and whatever it
    started) and the report says it timed out, in one line. A crash says which signal."""
    from torch_wizard.plan.isolation import step_environ
    from torch_wizard.run.verify import parse_report, verify_argv

    env = step_environ(os.environ, {"PYTHONUNBUFFERED": "1"})
    venv = python.parent.parent
    if not os.path.lexists(python):
        return VerifyReport(ok=False, error=f"the venv has no python ({python} is missing)")
    try:
        proc = subprocess.Popen(
            verify_argv(str(python), backend, packages, pinned=pinned),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=venv if venv.is_dir() else None,
            start_new_session=os.name == "posix",
        )
    except OSError as err:
        return VerifyReport(ok=False, error=f"cannot run {python}: {err.strerror or err}")
    started = time.monotonic()
    every = min(10.0, max(1.0, timeout / 4))
    while True:
        waited = time.monotonic() - started
        try:
            out, err_text = proc.communicate(timeout=max(0.05, min(every, timeout - waited)))
            break
        except subprocess.TimeoutExpired:
            waited = time.monotonic() - started
            if waited >= timeout:
                _stop_group(proc)
                return VerifyReport(
                    ok=False,
                    error=(
                        f"{python} did not finish the check within {timeout:g} s and was "
                        "stopped: it hangs (a broken import, a stuck GPU driver, or a lock); "
                        "run it by hand to see where, or give doctor more --timeout"
                    ),
                )
            _progress(
                f"still waiting for {python} to import torch and run the check "
                f"({waited:.0f} s of {timeout:g} s)"
            )
    _stop_group(proc)  # anything it left running in its group
    report = parse_report(out)
    if report is not None:
        return report
    if proc.returncode < 0:
        try:
            sig = signal.Signals(-proc.returncode).name
        except ValueError:
            sig = f"signal {-proc.returncode}"
        return VerifyReport(ok=False, error=f"{python} crashed with {sig} during the check")
    last = next((ln.strip() for ln in reversed(err_text.splitlines()) if ln.strip()), "")
    return VerifyReport(
        ok=False,
        error=f"{python} exited {proc.returncode} without a report"
        + (f": {last[:300]}" if last else ""),
    )


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """Kill the check's process group (POSIX) or the process, and reap it."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows
        with contextlib.suppress(OSError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _receipt_choices(receipt: Receipt, venv: str) -> Choices:
    """What to install again, from the receipt: its torch version, channel, packages, installer
    and index base (a mirror stays the mirror); the backend is chosen again for this machine,
    since a wrong build is often the very problem."""
    from torch_wizard.commands.install import saved_choices
    from torch_wizard.plan.model import DEFAULT_INDEX_BASE

    c = receipt.plan.choice
    try:
        base = saved_choices(receipt.plan, "receipt").index_base
    except UsageError:
        base = DEFAULT_INDEX_BASE
    return Choices(
        venv=venv,
        channel=c.channel,
        torch=c.torch,
        packages=tuple(c.packages),
        installer=c.installer,
        index_base=base,
        allow_insecure_index=base.startswith("http://"),
    )


def _wizard_command(venv: str, choices: Choices | None, fresh: bool) -> str:
    """``torch-wizard install`` with the receipt's torch and index base; ``fresh``: the venv is
    beyond repair (no python), so it is removed first."""
    import shlex

    from torch_wizard.plan.model import DEFAULT_INDEX_BASE

    argv = ["torch-wizard", "install", "--venv", venv]
    if choices is not None:
        if choices.torch:
            argv += ["--torch", choices.torch]
        if choices.channel != "stable":
            argv += ["--channel", choices.channel]
        if choices.packages:
            argv += ["--packages", ",".join(choices.packages)]
        if choices.index_base != DEFAULT_INDEX_BASE:
            argv += ["--index-base", choices.index_base]
            if choices.allow_insecure_index:
                argv.append("--allow-insecure-index")
    argv.append("--yes")
    line = shlex.join(argv)
    return f"rm -rf {shlex.quote(venv)} && {line}" if fresh else line


def _fix_command(
    machine: Machine,
    venv: str,
    receipt: Receipt | None,
    reinstall: tuple[str, ...] = (),
    *,
    python_missing: bool = False,
) -> str:
    """The command that puts the venv right: for packages that fail their check (``reinstall``),
    the receipt's own install-torch step (same versions, same index) forced to reinstall them,
    since the broken builds already meet its pins; else the install-torch step the planner gives
    for this machine and venv, with the receipt's torch version and index base. A venv whose
    python is missing is never given a command that runs it: it is made again."""
    from torch_wizard.plan import make_plan
    from torch_wizard.plan.render import command_line

    choices = _receipt_choices(receipt, venv) if receipt is not None else None
    if python_missing:
        return _wizard_command(venv, choices, fresh=True)
    if reinstall and receipt is not None:
        try:
            step = receipt.plan.step("install-torch")
        except KeyError:
            pass
        else:
            return command_line(
                replace(step, argv=step.argv + _force(receipt.plan.choice.installer, reinstall))
            )
    tries = [choices, replace(choices, torch="")] if choices is not None else []
    for attempt in (*tries, Choices(venv=venv)):
        try:
            plan = make_plan(machine, attempt)
            step = plan.step("install-torch")
        except Exception:  # noqa: S112 - any planning failure: try the next, then the wizard
            continue
        if reinstall:
            step = replace(step, argv=step.argv + _force(plan.choice.installer, reinstall))
        return command_line(step)
    return _wizard_command(venv, choices, fresh=False)


def known_backends(cat: Catalog) -> set[str]:
    """Every backend a torch-wizard plan can name: the catalog's variants, PyPI, Jetson."""
    out = {"pypi", "mps", "jetson"}
    for channel in ("stable", "test", "nightly"):
        for rel in cat.releases(channel):
            for variants in rel.variants_by_platform.values():
                out.update(variants)
    out.update(route.variant for route in cat.jetson_routes() if route.variant)
    return out


def receipt_doubt(receipt: Receipt, cat: Catalog) -> str:
    """A sentence when the receipt cannot be what a run wrote (edited by hand or damaged), so
    doctor judges the venv by what is installed instead; "" when it can."""
    c = receipt.plan.choice
    backend = c.backend
    if backend and not backend.startswith("jetson") and backend not in known_backends(cat):
        return (
            f"The receipt says backend {backend!r}, which no PyTorch release has: it was edited "
            "or damaged, so doctor judges the venv by what is installed, not by the receipt."
        )
    suffix = f"/{backend}"
    if c.index_url and backend not in ("pypi", "mps") and not backend.startswith("jetson"):
        if not c.index_url.rstrip("/").endswith(suffix):
            return (
                f"The receipt's backend {backend} does not match its index {c.index_url}: it was "
                "edited or damaged, so doctor judges the venv by what is installed, not by the "
                "receipt."
            )
    return ""


def _force(installer: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The flags that make ``installer`` reinstall ``names`` even where they meet the pins."""
    if installer == "uv":
        return tuple(arg for name in names for arg in ("--reinstall-package", name))
    return ("--force-reinstall",)


def _machine(args: argparse.Namespace, receipt: Receipt | None) -> Machine:
    try:
        from torch_wizard.commands.common import target_from_args

        return target_from_args(args)
    except ImportError:  # detection not available: judge against the machine the plan was for
        if receipt is None:
            raise
        return receipt.plan.target


def examine(args: argparse.Namespace) -> DoctorReport:
    from torch_wizard import catalog as catalog_mod
    from torch_wizard.run.receipt import read_receipt

    venv = Path(getattr(args, "venv", None) or ".venv").expanduser().absolute()
    if not (venv / "pyvenv.cfg").is_file():
        raise UsageError(f"no virtual environment at {venv}: pass --venv PATH of a venv to check")
    timeout = float(getattr(args, "timeout", None) or VERIFY_TIMEOUT)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    cat = catalog_mod.load()
    receipt = read_receipt(venv)
    doubt = receipt_doubt(receipt, cat) if receipt is not None else ""
    trusted = receipt if not doubt else None
    backend = trusted.plan.choice.backend if trusted is not None else ""
    # The receipt's packages and pins, as its verify step checked them; without a receipt (or
    # one not to be trusted), the script checks whichever PyTorch packages are installed.
    packages = dict(trusted.plan.choice.packages) if trusted is not None else {}
    pinned = trusted is None or trusted.plan.choice.build != "source"
    report = _run_verify(python, backend, packages, pinned=pinned, timeout=timeout) or VerifyReport(
        ok=False, error="no report"
    )
    machine = _machine(args, receipt)
    problems, notes = assess(report, machine, cat, trusted)
    if receipt is None:
        notes.append("No torch-wizard receipt in this venv: it was not installed by torch-wizard.")
    elif doubt:
        notes.append(doubt)
    elif receipt.outcome != "ok":
        notes.append(
            f"The last torch-wizard run here ended '{receipt.outcome}': "
            f"{receipt.message.rstrip('.')}."
        )
    broken = tuple(c.name for c in report.failed_packages() if c.version and c.version_ok)
    fix = (
        _fix_command(
            machine, str(venv), trusted, broken, python_missing=not os.path.lexists(python)
        )
        if problems
        else ""
    )
    return DoctorReport(
        venv=str(venv),
        python=report.python,
        torch=report.torch,
        variant=variant_of(report),
        device=report.device,
        gflops=report.gflops,
        receipt=str(venv / "torch-wizard-receipt.json") if receipt is not None else "",
        receipt_outcome=receipt.outcome if receipt is not None else "",
        receipt_backend=backend,
        receipt_created=receipt.created if receipt is not None else "",
        problems=tuple(problems),
        notes=tuple(notes),
        fix=fix,
        verify=report,
    )


def render_text(d: DoctorReport) -> str:
    lines = [f"venv:    {d.venv}", f"python:  {d.python or '?'}"]
    if d.torch:
        lines.append(
            f"torch:   {d.torch} ({d.variant}), ran on {d.device or '?'}"
            + (f", {d.gflops:g} GFLOP/s" if d.gflops else "")
        )
    else:
        lines.append("torch:   not working")
    if d.receipt:
        lines.append(f"receipt: {d.receipt} ({d.receipt_outcome}, {d.receipt_created})")
    lines.extend(f"note:    {n}" for n in d.notes)
    if d.problems:
        lines.extend(f"PROBLEM: {p}" for p in d.problems)
        lines.append(f"fix:     {d.fix}")
    else:
        lines.append("OK: torch works and fits this machine.")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    d = examine(args)
    if getattr(args, "json", False):
        from torch_wizard.serial import to_json

        report = {"schema_version": DOCTOR_SCHEMA, **to_json(d)}  # docs/json.md
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(d))
    return 1 if d.problems else 0
