"""Turn a resolution into steps: create the venv, install from the right index, verify.

Every step runs the venv's own interpreter (no activation), so the preview is copyable as is.
"""

from __future__ import annotations

import ntpath
import posixpath
from dataclasses import replace
from pathlib import Path

from torch_wizard import catalog as catalog_mod
from torch_wizard.catalog import Catalog
from torch_wizard.machine.model import Machine
from torch_wizard.plan.cache import cache_dir_of, cached_network
from torch_wizard.plan.describe import backend_label
from torch_wizard.plan.estimate import estimate_size
from torch_wizard.plan.isolation import pip_argv, pip_env
from torch_wizard.plan.model import Choices, Estimate, Network, Plan, Resolved, Step
from torch_wizard.plan.resolve import Resolution, resolve
from torch_wizard.plan.validate import check_venv_path

# pip >= 24.1 prints machine-readable `Progress N of M` lines with --progress-bar raw; the pip a
# new venv is seeded with is often older (Python 3.11's ensurepip has 23.2), so pip is upgraded first.
PIP_WITH_RAW_PROGRESS = "pip>=24.1"


def venv_python(machine: Machine, venv: str) -> str:
    if machine.os.name == "windows":
        return ntpath.join(venv, "Scripts", "python.exe")
    return posixpath.join(venv, "bin", "python")


def base_python(machine: Machine) -> list[str]:
    """The interpreter that creates the venv: the detected base one, or the version's launcher.

    Never the wizard's own venv interpreter (pipx, ``uv tool``, uvx): a venv made from it would
    break when that tool venv is removed. ``base_executable`` is the interpreter it is based on;
    a profile without that field names ``executable`` only when it was not a venv's.
    """
    py = machine.python
    exe = py.base_executable or ("" if py.in_venv else py.executable)
    if exe:
        return [exe]
    ft = "t" if machine.python.free_threaded else ""  # python3.13t, py -3.13t
    if machine.os.name == "windows":
        return ["py", f"-{machine.python.minor}{ft}"]
    return [f"python{machine.python.minor}{ft}"]


def uv_executable(machine: Machine) -> str:
    """The detected uv's absolute path (PATH, beside the wizard's interpreter, or the ``uv``
    package's binary: ``torch_wizard.machine.toolchain``); a bare ``uv`` when none was found, as for
    another machine. Running a plan here checks it exists first (``torch_wizard.run.preflight``)."""
    tool = machine.tool("uv")
    return tool.path or "uv"


def _venv_exists(resolved: Resolved, machine: Machine) -> bool:
    if machine.source.startswith("profile:"):
        return False
    return (Path(resolved.venv) / "pyvenv.cfg").is_file()


def step_network(resolved: Resolved) -> Network:
    """The network settings every installer step gets: the host's, with the plan's cache
    (``--cache-dir``, or the cache turned off) in place of the host's cache settings."""
    return cached_network(resolved.network, resolved.cache_dir, resolved.cache)


def requirement_specs(resolved: Resolved) -> list[str]:
    specs = [f"{name}=={ver}" if ver else name for name, ver in resolved.packages.items()]
    return [*specs, *resolved.constraints]


def create_venv_step(machine: Machine, resolved: Resolved) -> Step:
    if resolved.installer == "uv":
        python = base_python(machine)
        wanted = machine.python.minor if python[0] == "py" else python[0]
        argv = [
            uv_executable(machine),
            "venv",
            "--no-config",
            "--no-python-downloads",
            "--python",
            wanted,
            resolved.venv,
        ]
        return Step(
            "create-venv",
            f"Create the virtual environment {resolved.venv} (uv)",
            tuple(argv),
            env=dict(step_network(resolved).uv_env),
        )
    return Step(
        "create-venv",
        f"Create the virtual environment {resolved.venv}",
        (*base_python(machine), "-I", "-m", "venv", resolved.venv),
    )


def _pip(machine: Machine, resolved: Resolved, *args: str) -> tuple[str, ...]:
    return pip_argv(venv_python(machine, resolved.venv), step_network(resolved), *args)


def upgrade_pip_step(machine: Machine, resolved: Resolved) -> Step:
    """Optional: from the plan's index; when it has no newer pip the seeded one installs torch."""
    index = ["--index-url", resolved.index_url] if resolved.index_url else []
    argv = _pip(
        machine,
        resolved,
        "--upgrade",
        PIP_WITH_RAW_PROGRESS,
        *index,
        "--progress-bar",
        "off",
    )
    return Step(
        "upgrade-pip",
        "Upgrade pip in the venv (24.1+ reports download progress; optional)",
        argv,
        env=pip_env(machine.os.name),
        optional=True,
    )


def install_step(machine: Machine, resolved: Resolved) -> Step:
    py = venv_python(machine, resolved.venv)
    specs = requirement_specs(resolved)
    index = ["--index-url", resolved.index_url] if resolved.index_url else []
    pre = ["--pre"] if resolved.channel == "nightly" else []
    what = ", ".join(f"{n} {v}".strip() for n, v in resolved.packages.items())
    title = f"Install {what} ({backend_label(resolved.backend)})"
    if resolved.installer == "uv":
        argv = [
            uv_executable(machine),
            "pip",
            "install",
            "--no-config",
            "--python",
            py,
            *specs,
            *index,
            *pre,
            *(["--no-cache"] if resolved.cache == "off" else []),
        ]
        return Step(
            "install-torch",
            title,
            tuple(argv),
            env=dict(step_network(resolved).uv_env),
            progress="uv",
        )
    common = (*specs, *index, *pre)
    return Step(
        "install-torch",
        title,
        _pip(machine, resolved, *common, "--progress-bar", "raw", "--no-compile"),
        env=pip_env(machine.os.name),
        progress="pip",
        # The seeded pip (when the mirror had none newer) may predate --progress-bar raw.
        fallback=_pip(machine, resolved, *common, "--no-compile"),
    )


def verify_step(machine: Machine, resolved: Resolved) -> Step:
    """Exercise every package of the plan with the venv's python, isolated (``-I``) and run in
    the venv directory, so nothing of the caller's cwd or PYTHONPATH stands in for them; a source
    build's version carries a suffix (``2.13.0a0+git...``), so its packages are not pinned."""
    py = venv_python(machine, resolved.venv)
    try:
        from torch_wizard.plan.verify import verify_argv

        pinned = resolved.build != "source"
        argv = tuple(verify_argv(py, resolved.backend, resolved.packages, pinned=pinned))
    except ImportError:
        argv = (py, "-I", "-c", "import torch; print(torch.__version__)")
    return Step(
        "verify",
        "Verify: import torch, find the device, run a small matmul",
        argv,
        cwd=resolved.venv,
    )


def _uv_reason(machine: Machine, resolved: Resolved) -> str:
    text = "uv creates the venv and installs much faster than pip"
    if resolved.cache == "off":
        return text + "."
    here = machine.source.split("+", 1)[0] == "host"
    where = f" ({cache_dir_of(resolved, machine.os.name)})" if here else ""
    return (
        f"{text}; it keeps what it downloads unpacked in its cache{where} and links the files "
        "into the venv, so another install of this torch on the machine downloads and unpacks "
        "nothing."
    )


def build_plan(machine: Machine, choices: Choices, res: Resolution, cat: Catalog) -> Plan:
    resolved = replace(res.resolved, network=choices.network)
    reasons = list(res.reasons)
    warnings = list(res.warnings)
    blockers: list[str] = []
    steps: list[Step] = []
    exists = _venv_exists(resolved, machine)
    if exists:
        reasons.append(f"{resolved.venv} is already a virtual environment, so it is reused.")
    else:
        steps.append(create_venv_step(machine, resolved))
    download, disk = estimate_size(resolved.backend)
    estimate = Estimate(download=download, disk=disk)

    if resolved.build == "source":
        from torch_wizard.plan.source import source_plan

        sp = source_plan(machine, choices, resolved, venv_python(machine, resolved.venv), cat)
        steps.extend(sp.steps)
        reasons.extend(sp.reasons)
        warnings.extend(sp.warnings)
        estimate = sp.estimate
        if not choices.source.configure_only:
            steps.append(verify_step(machine, resolved))
        from torch_wizard.plan.source_preflight import preflight

        for finding in preflight(machine, choices, resolved):
            sentence = f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message
            (blockers if finding.level == "blocker" else warnings).append(sentence)
    else:
        if resolved.installer == "pip":
            steps.append(upgrade_pip_step(machine, resolved))
            reasons.append(
                "pip runs with --no-compile: compiling thousands of torch files to .pyc roughly "
                "doubles the install time; Python compiles what it imports on first use."
            )
        else:
            reasons.append(_uv_reason(machine, resolved))
        if resolved.network.sources:
            reasons.append(
                "Network settings of this host's pip/uv configuration, passed to each step "
                "explicitly: " + "; ".join(resolved.network.sources) + "."
            )
        if resolved.index_url:
            reasons.append(
                f"Packages come only from {resolved.index_url} (--index-url, never "
                "--extra-index-url, so no package can be swapped in from another index)."
            )
        steps.append(install_step(machine, resolved))
        steps.append(verify_step(machine, resolved))
    return Plan(
        target=machine,
        choice=resolved,
        steps=tuple(steps),
        reasons=tuple(reasons),
        warnings=tuple(dict.fromkeys(warnings)),
        blockers=tuple(blockers),
        estimate=estimate,
    )


# --------------------------------------------------------------------------------------------------
# The public entry point: resolve strictly, then build


def make_plan(machine: Machine, choices: Choices, catalog: Catalog | None = None) -> Plan:
    """The exact plan for ``choices`` on ``machine``; UsageError for an impossible combination."""
    check_venv_path(choices.venv or ".venv", machine)
    resolution = resolve(machine, choices, catalog, strict=True)
    return build_plan(machine, choices, resolution, catalog or catalog_mod.load())
