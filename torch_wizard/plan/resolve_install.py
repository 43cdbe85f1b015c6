"""What goes into the venv and how: packages and pins, installer, download cache, warnings."""

from __future__ import annotations

from dataclasses import replace

from packaging.version import Version

from torch_wizard.catalog import Release
from torch_wizard.machine.model import Machine
from torch_wizard.plan.estimate import estimate_size
from torch_wizard.plan.model import DEFAULT_PACKAGES, FAMILY_PACKAGES, Choices, Installer, Resolved
from torch_wizard.plan.notes import _Notes
from torch_wizard.plan.validate import _foreign_paths, check_cache_dir, target_venv


def _numpy_constraint(release: Release, notes: _Notes) -> tuple[str, ...]:
    """torch 2.2 and older were built against NumPy 1.x and cannot use NumPy 2: importing them
    beside NumPy 2 prints NumPy's 'A module that was compiled using NumPy 1.x cannot be run in
    NumPy 2' and torch warns 'Failed to initialize NumPy' (seen with torch 2.2 on macOS in
    TorchIO-project/torchio PR #1183). Intel Macs stop at torch 2.2.2, so their plans pin
    numpy<2. Whether 2.3.x is affected is not confirmed here, so it is left alone."""
    if release.parsed >= Version("2.3"):
        return ()
    notes.reasons.append(
        f"torch {release.version} was built against NumPy 1.x and cannot use NumPy 2 (NumPy's "
        "'compiled using NumPy 1.x cannot be run in NumPy 2' error; torch warns 'Failed to "
        "initialize NumPy'), so the install pins numpy<2."
    )
    return ("numpy<2",)


def _packages(
    release: Release,
    choices: Choices,
    notes: _Notes,
    channel: str,
    machine: Machine | None = None,
    variant: str = "",
) -> dict[str, str]:
    explicit = bool(choices.packages)
    wanted = list(dict.fromkeys(("torch", *(choices.packages or DEFAULT_PACKAGES))))
    pin = channel != "nightly"
    packages: dict[str, str] = {"torch": release.version if pin else ""}
    for name in wanted[1:]:
        if name in FAMILY_PACKAGES and machine is not None:
            why = _family_pin(name, release, machine, variant, channel, packages)
            if not why:
                continue
        else:
            version = release.companions.get(name, "")
            if version and name in release.index_unconfirmed and variant != "pypi":
                # PyPI has it; PyTorch's own index is not confirmed to (catalog releases.json).
                if not explicit:
                    notes.reasons.append(
                        f"{name} {version} (PyPI) works with torch {release.version}, but whether "
                        f"PyTorch's {variant} index carries it is not confirmed here, so it is left "
                        f"out; add it with --packages torch,...,{name} to try."
                    )
                    continue
                notes.reasons.append(
                    f"{name} {version} is included as you asked; whether PyTorch's {variant} "
                    "index carries it is not confirmed here (PyPI has it): if the install cannot "
                    f"find it, drop {name} from --packages."
                )
            if version:
                packages[name] = version if pin else ""
                continue
            why = f"there is no {name} release paired with torch {release.version}"
        if name == "torchaudio":
            why += " (on the stable channel torchaudio 2.11.1 serves torch 2.11 and newer)"
        fix = "or pick an older torch"
        if name in FAMILY_PACKAGES:
            fix = "or pick a torch, backend or Python it has a build for"
        if explicit:
            notes.problem(
                f"{why}: drop it from --packages {fix}",
                f"{why}, so it is left out",
            )
        else:
            notes.reasons.append(f"T{why[1:]}, so it is left out.")
    pins = ", ".join(f"{n} {v}" for n, v in packages.items() if v)
    if pin and len(packages) > 1:
        notes.reasons.append(f"Companions pinned to the versions released with torch: {pins}.")
    if machine is not None:
        _family_notes(packages, notes)
    return packages


def _family_notes(packages: dict[str, str], notes: _Notes) -> None:
    """Why a family package's pin pairs with this torch, and what it needs beyond the wheel."""
    from torch_wizard.catalog import family

    for name, package in family.load().items():
        if name not in packages:
            continue
        if packages[name]:
            notes.reasons.append(
                f"{name} names no torch in its metadata, so its pin {packages[name]} comes from "
                f"{name}'s own pairing table for torch {packages['torch']}."
            )
        if package.note:
            notes.warnings.append(package.note)


def _family_pin(
    name: str,
    release: Release,
    machine: Machine,
    variant: str,
    channel: str,
    packages: dict[str, str],
) -> str:
    """Add ``name`` (torchao, torchcodec) with its pin to ``packages``; "" when added, else why
    not. Their pairings with torch come from their own projects (torch_wizard/catalog/data/family.json);
    nightly and test builds of them are not paired, so they go unpinned there, like torch."""
    from torch_wizard.catalog import family

    package = family.load()[name]
    if channel != "stable":
        packages[name] = ""
        return ""
    found = family.companion(
        package, release.version, machine.platform_key, variant, machine.python.minor
    )
    if found.version:
        packages[name] = found.version
    return found.why


# --------------------------------------------------------------------------------------------------
# Installer and cache


def uv_for_target(machine: Machine) -> str:
    """ "" when the target has a uv the plan can name (this host: always, since torch-wizard ships
    the ``uv`` package; a profile or machine root: when its tools list one), else why not."""
    from torch_wizard.machine.toolchain import MIN_UV, uv_new_enough

    uv = machine.tool("uv")
    where = machine.source.split("+", 1)[0]
    if not uv.found:
        if where == "host":
            return "no uv was found for this platform (no uv on PATH, no uv package binary)"
        if where.startswith("profile:"):
            return "the target's profile lists no uv"
        return "the machine root has no bin/uv"
    if not uv_new_enough(uv.version):
        least = ".".join(map(str, MIN_UV))
        return f"uv {uv.version} at {uv.path} is older than {least}"
    return ""


def _installer(machine: Machine, choices: Choices, notes: _Notes) -> Installer:
    """The concrete installer: "auto" is uv wherever uv is found for the target, else pip."""
    if choices.installer == "pip":
        return "pip"
    if choices.installer == "uv":
        return "uv"
    if choices.build == "source":
        notes.reasons.append(
            "A source build runs pip in the venv (pip install --no-build-isolation), so the venv "
            "is made with python -m venv, which seeds pip."
        )
        return "pip"
    why_not = uv_for_target(machine)
    if why_not:
        notes.reasons.append(
            f"No uv for this platform/profile, so pip: {why_not} (pass --installer uv if the "
            "target has uv)."
        )
        return "pip"
    return "uv"


def _with_cache(machine: Machine, choices: Choices, resolved: Resolved, notes: _Notes) -> Resolved:
    """Where the download cache goes and whether it is kept (see ``torch_wizard.plan.cache``)."""
    from torch_wizard.plan import cache as cache_mod

    here = machine.source.split("+", 1)[0] == "host" and not _foreign_paths(machine)
    cache_dir = ""
    if choices.cache_dir:
        cache_dir = target_venv(choices.cache_dir, machine, here=here)
        if here:
            check_cache_dir(cache_dir)
    resolved = replace(resolved, network=choices.network, cache_dir=cache_dir)
    flag = "--no-cache" if resolved.installer == "uv" else "--no-cache-dir"
    if choices.cache == "off":
        notes.reasons.append(
            f"The install keeps no download cache ({flag}, as you asked): a later install "
            "downloads again."
        )
        return replace(resolved, cache="off")
    if cache_dir:
        notes.reasons.append(
            f"Downloads are cached in {cache_dir} (--cache-dir), so every install that names it "
            "reuses them"
            + (
                ": uv links the files from it into the venv where both are on one filesystem."
                if resolved.installer == "uv"
                else "."
            )
        )
    download, installed = estimate_size(resolved.backend)
    if choices.cache == "keep" or resolved.build == "source" or not (download or installed):
        return resolved
    if here:
        where = cache_mod.measure(resolved.venv, cache_mod.cache_dir_of(resolved, machine.os.name))
    elif machine.disk.free:
        at = machine.disk.path or "the target"
        where = cache_mod.Where(machine.disk.free, machine.disk.free, True, at, at)
    else:
        return resolved  # free disk unknown: keep the cache
    fit = cache_mod.fit(
        resolved.installer, installed, download, where.free_venv, where.free_cache, where.same_fs
    )
    if fit != "off":
        return resolved  # "full": pre-flight refuses the plan, naming what it needs
    extra = cache_mod.cache_bytes(resolved.installer, installed, download, where.same_fs)
    need = cache_mod.install_bytes(installed, download)
    fmt = cache_mod.fmt_bytes
    short = (
        f"only {fmt(where.free_venv)} free at {where.venv_at}"
        if where.same_fs
        else f"only {fmt(where.free_cache)} free at {where.cache_at}, where the cache is"
    )
    notes.warnings.append(
        f"Disk is short for keeping {resolved.installer}'s download cache ({short}; the install "
        f"needs about {fmt(need)}, the cache {fmt(extra)} more), so it installs without one "
        f"({flag}): a later install downloads again. Free some space, or pass --cache-dir on "
        "a larger disk, to keep it."
    )
    return replace(resolved, cache="off")


def _general_warnings(machine: Machine, resolved: Resolved, notes: _Notes) -> None:
    GB = 1_000_000_000
    _, disk_need = estimate_size(resolved.backend)
    if machine.disk.free and disk_need and machine.disk.free < disk_need + 2 * GB:
        notes.warnings.append(
            f"Only {machine.disk.free / GB:.1f} GB free at {machine.disk.path or 'the target'}; "
            f"this install needs about {disk_need / GB:.1f} GB plus room for the download."
        )
    if machine.memory.total and machine.memory.total < 4 * GB:
        notes.warnings.append(
            f"Only {machine.memory.total / GB:.1f} GB of RAM: importing torch takes several hundred "
            "MB; keep models small."
        )
    if machine.cpu.arch == "x86_64" and machine.cpu.flags and "avx2" not in machine.cpu.flags:
        notes.warnings.append(
            "This CPU has no AVX2: torch runs, but on its slowest generic CPU kernels."
        )
    if machine.torch.version:
        notes.reasons.append(
            f"The target already has torch {machine.torch.version}; it will be replaced."
        )
    for note in machine.notes:
        notes.warnings.append(note)
