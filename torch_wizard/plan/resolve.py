"""Resolution: a machine and the user's choices become concrete choices, each with a reason."""

from __future__ import annotations

from dataclasses import dataclass, replace

from packaging.version import Version

from torch_wizard import catalog as catalog_mod
from torch_wizard.catalog import Catalog, Release
from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.describe import backend_label
from torch_wizard.plan.fit import _gpu_kind, _python_hint, _release_fits
from torch_wizard.plan.model import DEFAULT_PACKAGES, FAMILY_PACKAGES, Choices, Resolved
from torch_wizard.plan.notes import _Notes
from torch_wizard.plan.resolve_gpu import (
    _choose_backend,
    _explicit_backend_problem,
    _jetson_sbsa_backend,
)
from torch_wizard.plan.resolve_install import (
    _general_warnings,
    _installer,
    _numpy_constraint,
    _packages,
    _with_cache,
)
from torch_wizard.plan.validate import (
    _check_basic,
    _platform_blocker,
    check_index_base,
    relative_venv_reason,
    target_venv,
)

# ``resolve`` is the one place where decisions are made. ``make_plan`` (torch_wizard.plan.wheel) uses it
# strictly (an impossible choice is a ``UsageError`` naming the fix); ``explore``
# (torch_wizard.plan.options) uses it leniently for the UI (an impossible choice is replaced by the
# recommendation, with a note saying what changed and why).


@dataclass(frozen=True)
class Resolution:
    resolved: Resolved
    release: Release | None  # None for Jetson routes whose version is not in the catalog
    variant: str  # the index variant ("cpu", "cu126", "pypi", "jetson-jp6-cu126")
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    adjusted: tuple[str, ...]
    choices: Choices


def resolve(
    machine: Machine, choices: Choices, cat: Catalog | None = None, *, strict: bool = True
) -> Resolution:
    cat = cat or catalog_mod.load()
    _check_basic(choices)
    notes = _Notes(strict)
    index_base = check_index_base(choices.index_base, choices.allow_insecure_index)

    channel = choices.channel
    gpu = _gpu_kind(machine, cat)
    if choices.build == "source":
        return _resolve_source(machine, choices, cat, notes, gpu)
    blocker = _platform_blocker(machine)
    if blocker:
        raise UsageError(blocker)

    jetson_sbsa = None  # JetPack 7+: PyTorch's own aarch64 CUDA builds (catalog jetson.json)
    if gpu == "jetson" and choices.backend in ("auto", "jetson") and choices.build == "wheel":
        route = cat.jetson(machine.board.jetpack, machine.board.l4t)
        if route is None or route.kind != "pytorch":
            return _resolve_jetson(machine, choices, cat, notes, index_base)
        jetson_sbsa = route

    releases = cat.releases(channel)
    if not releases:
        raise UsageError(
            f"the {channel} channel has no release in the catalog right now: use --channel stable"
        )

    # --- the torch version the user asked for (if any)
    wanted: Release | None = None
    if choices.torch:
        wanted = cat.release(choices.torch, channel)
        if wanted is None:
            known = ", ".join(r.version for r in releases[:6])
            notes.problem(
                f"unknown torch version {choices.torch!r} on the {channel} channel: "
                f"known versions include {known}",
                f"torch {choices.torch} is not on the {channel} channel, so the newest that fits",
            )
        else:
            why_not = _release_fits(wanted, machine)
            if why_not:
                if "Python" in why_not:
                    msg = (
                        f"torch {wanted.version} does not support Python {machine.python.minor}: "
                        f"{_python_hint(cat, channel, machine)}; pick that version or another Python"
                    )
                else:
                    msg = f"torch {wanted.version} cannot be installed here: {why_not}"
                notes.problem(msg, f"torch {wanted.version} {why_not}, so the newest that fits")
                wanted = None

    fitting = [r for r in releases if not _release_fits(r, machine)]
    if not fitting:
        newest = releases[0]
        why = _release_fits(newest, machine)
        if "Python" in why:
            raise UsageError(
                f"{_python_hint(cat, channel, machine)}: install a supported Python "
                f"(torch {newest.version} needs {newest.requires_python or 'another version'}) and "
                "run the wizard with it"
            )
        raise UsageError(f"no torch release on the {channel} channel installs here: {why}")
    if wanted is None and fitting[0] is not releases[0]:
        notes.warnings.append(
            f"torch {releases[0].version} is not installable here "
            f"({_release_fits(releases[0], machine)}); the newest that is: {fitting[0].version}"
        )
    candidates = [wanted] if wanted is not None else fitting

    # --- the backend
    if jetson_sbsa is not None:
        release, variant = _jetson_sbsa_backend(cat, machine, jetson_sbsa, candidates, notes)
    else:
        release, variant = _choose_backend(cat, machine, choices, candidates, notes, gpu)

    # --- packages and pins
    packages = _packages(release, choices, notes, channel, machine, variant)

    here = not machine.source.startswith("profile:")
    venv = target_venv(choices.venv, machine, here=here)
    if why := relative_venv_reason(venv, machine):
        notes.reasons.append(why)
    index_url = "" if variant == "pypi" else catalog_mod.index_url(index_base, channel, variant)

    if channel == "nightly":
        notes.reasons.append(
            "Nightly builds change daily, so packages are not pinned and pip gets --pre."
        )
    constraints = _numpy_constraint(release, notes)
    resolved = Resolved(
        channel=channel,
        backend=variant,
        torch=release.version,
        packages=packages,
        constraints=constraints,
        build=choices.build,
        installer=_installer(machine, choices, notes),
        venv=venv,
        index_url=index_url,
    )
    resolved = _with_cache(machine, choices, resolved, notes)
    _general_warnings(machine, resolved, notes)
    final = replace(
        choices,
        backend=choices.backend if choices.backend == "auto" else variant,
        torch=choices.torch if not choices.torch or wanted is not None else "",
    )
    return Resolution(
        resolved=resolved,
        release=release,
        variant=variant,
        reasons=tuple(notes.reasons),
        warnings=tuple(notes.warnings),
        adjusted=tuple(notes.adjusted),
        choices=final,
    )


def _resolve_jetson(
    machine: Machine, choices: Choices, cat: Catalog, notes: _Notes, index_base: str
) -> Resolution:
    jp = machine.board.jetpack
    route = cat.jetson(jp, machine.board.l4t) if jp else None
    if route is None:
        raise UsageError(
            f"no wheel index is known for JetPack {jp or '(unknown)'} on {machine.board.model or 'this Jetson'}: "
            "flash JetPack 6 or newer, or build from source with --build source"
        )
    versions = route.torch
    torch = choices.torch or (versions[0] if versions else "")
    if choices.torch and versions and choices.torch not in versions:
        notes.problem(
            f"torch {choices.torch} is not on the Jetson index for JetPack {jp}: "
            f"it has {', '.join(versions)}",
            f"torch {choices.torch} is not on the Jetson index, so {versions[0]}",
        )
        torch = versions[0]
    release = cat.release(torch) if torch else None
    notes.reasons.append(
        f"{machine.board.model or 'Jetson'} with JetPack {jp}: wheels come from the Jetson AI Lab "
        f"index ({route.index_url}, CUDA {route.cuda}), built for the Jetson GPU; PyPI's aarch64 "
        f"CUDA wheels cannot drive it before JetPack 7.2 (torch {torch} is the newest the catalog "
        "has seen on that index)."
    )
    packages: dict[str, str] = {"torch": torch}
    wanted = choices.packages or DEFAULT_PACKAGES
    if torch in route.torch_notes:
        notes.warnings.append(route.torch_notes[torch])
    # Companions as seen on that index beside this torch (jetson.json), else the release's.
    paired = route.companions.get(torch) or (release.companions if release is not None else {})
    for name in wanted:
        if name in FAMILY_PACKAGES:  # paired only on PyTorch's own indexes (family.json)
            notes.problem(
                f"torch-wizard knows of no {name} build on the Jetson AI Lab index: drop it from "
                "--packages",
                f"no {name} build is known on the Jetson AI Lab index, so it is left out",
            )
            continue
        if name != "torch" and name in paired:
            packages[name] = paired[name]
        elif name != "torch" and route.companions:
            notes.reasons.append(
                f"No {name} wheel for torch {torch} is known on the Jetson AI Lab index, so it "
                "is left out."
            )
    venv = target_venv(choices.venv, machine)
    if why := relative_venv_reason(venv, machine):
        notes.reasons.append(why)
    resolved = Resolved(
        channel="stable",
        backend=route.variant,
        torch=torch,
        packages=packages,
        build="wheel",
        installer=_installer(machine, choices, notes),
        venv=venv,
        index_url=route.index_url,
    )
    resolved = _with_cache(machine, choices, resolved, notes)
    _general_warnings(machine, resolved, notes)
    return Resolution(
        resolved,
        release,
        route.variant,
        tuple(notes.reasons),
        tuple(notes.warnings),
        tuple(notes.adjusted),
        choices,
    )


def _resolve_source(
    machine: Machine, choices: Choices, cat: Catalog, notes: _Notes, gpu: str
) -> Resolution:
    """Source builds: any release (or main for nightly), the backend from the hardware."""
    channel = choices.channel
    releases = cat.releases("stable")
    release: Release | None = None
    if channel == "nightly":
        torch = "main"
    elif choices.torch:
        release = cat.release(choices.torch, "stable")
        if release is None:
            known = ", ".join(r.version for r in releases[:6])
            raise UsageError(
                f"unknown torch version {choices.torch!r}: known versions include {known}"
            )
        torch = release.version
    else:
        minor = machine.python.minor
        release = next((r for r in releases if _requires_python_ok(r, minor)), releases[0])
        torch = release.version
        if release is not releases[0]:
            notes.reasons.append(
                f"torch {releases[0].version} needs Python {releases[0].requires_python}, so "
                f"torch {release.version}, the newest that builds for Python {minor}."
            )
    asked = choices.backend
    if asked not in ("auto", ""):
        problem = _explicit_backend_problem(asked, machine, source=True)
        if problem:
            notes.problem(problem, f"{asked} is not possible here, so the recommended backend")
            asked = "auto"
    if asked in ("auto", ""):
        asked = _source_backend(machine, cat, gpu)
        notes.reasons.append(
            f"Building for {backend_label(asked)} ({asked}), from the hardware found."
        )
    packages = {"torch": torch}
    venv = target_venv(choices.venv, machine)
    if why := relative_venv_reason(venv, machine):
        notes.reasons.append(why)
    resolved = Resolved(
        channel=channel,
        backend=asked,
        torch=torch,
        packages=packages,
        build="source",
        installer=_installer(machine, choices, notes),
        venv=venv,
        index_url="",
    )
    resolved = _with_cache(machine, choices, resolved, notes)
    _general_warnings(machine, resolved, notes)
    return Resolution(
        resolved,
        release,
        asked,
        tuple(notes.reasons),
        tuple(notes.warnings),
        tuple(notes.adjusted),
        choices,
    )


def _requires_python_ok(release: Release, minor: str) -> bool:
    if not release.requires_python:
        return True
    from packaging.specifiers import SpecifierSet

    return Version(minor + ".0") in SpecifierSet(release.requires_python)


def _source_backend(machine: Machine, cat: Catalog, gpu: str) -> str:
    if gpu == "jetson":
        route = cat.jetson(machine.board.jetpack) if machine.board.jetpack else None
        return "cu" + route.cuda.replace(".", "") if route else "cuda"
    if gpu == "nvidia" and machine.nvidia.device_nodes:
        nvcc = machine.tool("nvcc").version
        if nvcc:
            return "cu" + "".join(nvcc.split(".")[:2])
        return "cuda"
    if gpu == "amd":
        rocm = machine.amd.rocm_version
        return "rocm" + ".".join(rocm.split(".")[:2]) if rocm else "rocm"
    if gpu == "intel":
        return "xpu"
    return "cpu"
