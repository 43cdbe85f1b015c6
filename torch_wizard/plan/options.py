"""The option lists the UI shows (explore): every choice with whether it can be chosen and why."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from torch_wizard import catalog as catalog_mod
from torch_wizard.catalog import Catalog, Release
from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.describe import backend_label
from torch_wizard.plan.fit import _release_fits, backend_fit
from torch_wizard.plan.model import DEFAULT_PACKAGES, Choices, Resolved
from torch_wizard.plan.resolve import Resolution, resolve
from torch_wizard.plan.resolve_install import uv_for_target
from torch_wizard.plan.validate import CHANNELS


@dataclass(frozen=True)
class Option:
    value: str  # "cu126", "2.9.1", "stable", "uv"
    label: str  # "CUDA 12.6", "2.9.1"
    available: bool = True  # False: shown but cannot be chosen (``why`` says why not)
    recommended: bool = False
    why: str = ""  # why it is recommended, or why it is not available


@dataclass(frozen=True)
class Options:
    choices: Choices  # the choices after adjustment (what a UI should now show as selected)
    resolved: Resolved | None  # None when no plan can be made (see ``error``)
    error: str = ""
    channels: tuple[Option, ...] = ()
    versions: tuple[Option, ...] = ()  # newest first
    backends: tuple[Option, ...] = ()
    packages: tuple[Option, ...] = ()
    installers: tuple[Option, ...] = ()
    builds: tuple[Option, ...] = ()
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    adjusted: tuple[str, ...] = field(
        default_factory=tuple
    )  # "torch 2.15.0 has no cu126 build, so cu128"


def explore(machine: Machine, choices: Choices, catalog: Catalog | None = None) -> Options:
    """Everything a UI needs: options per field, the recommendation and what changed."""
    cat = catalog or catalog_mod.load()
    try:
        res = resolve(machine, choices, cat, strict=False)
    except UsageError as err:
        return Options(
            choices=choices,
            resolved=None,
            error=str(err),
            channels=_channel_options(cat, machine, choices),
        )
    release = res.release
    return Options(
        choices=res.choices,
        resolved=res.resolved,
        channels=_channel_options(cat, machine, choices, res),
        versions=_version_options(cat, machine, res),
        backends=_backend_options(cat, machine, res),
        packages=_package_options(release, res),
        installers=_installer_options(machine),
        builds=(
            Option("wheel", "Prebuilt wheel", recommended=True, why="minutes, not hours"),
            Option(
                "source",
                "Build from source",
                why="for custom CUDA archs, lean or debug builds; 30-60 minutes or more",
            ),
        ),
        reasons=res.reasons,
        warnings=res.warnings,
        adjusted=res.adjusted,
    )


def _jetson_route_versions(
    cat: Catalog, machine: Machine, res: Resolution | None
) -> tuple[str, ...] | None:
    """The torch versions on this Jetson's wheel index, or None when the plan is not a Jetson
    wheel route (the catalog's releases then decide)."""
    if res is None or not res.variant.startswith("jetson"):
        return None
    route = cat.jetson(machine.board.jetpack) if machine.board.jetpack else None
    return route.torch if route is not None else ()


def _channel_options(
    cat: Catalog, machine: Machine, choices: Choices, res: Resolution | None = None
) -> tuple[Option, ...]:
    out = []
    labels = {"stable": "Stable", "test": "Test (release candidate)", "nightly": "Nightly"}
    jetson = _jetson_route_versions(cat, machine, res)
    for ch in CHANNELS:
        rels = cat.releases(ch)
        fits = [r for r in rels if not _release_fits(r, machine)]
        why = f"torch {fits[0].version}" if fits else "no build for this machine"
        ok = bool(fits)
        if jetson is not None and ch != "stable":
            ok, why = False, "the Jetson index has release builds only"
        out.append(Option(ch, labels[ch], available=ok, recommended=ch == "stable", why=why))
    return tuple(out)


def _version_options(cat: Catalog, machine: Machine, res: Resolution) -> tuple[Option, ...]:
    out = []
    auto = res.resolved.torch
    if res.choices.torch:  # what would be recommended without the user's pick
        auto = resolve(machine, replace(res.choices, torch=""), cat, strict=False).resolved.torch
    jetson = _jetson_route_versions(cat, machine, res)
    for r in cat.releases(res.resolved.channel):
        why_not = _release_fits(r, machine)
        if jetson is not None and r.version not in jetson:
            why_not = f"not on the Jetson index for JetPack {machine.board.jetpack}"
        out.append(
            Option(
                r.version,
                r.version,
                available=not why_not,
                recommended=r.version == auto,
                why=why_not or (r.date and f"released {r.date}") or "",
            )
        )
    return tuple(out)


def _backend_options(cat: Catalog, machine: Machine, res: Resolution) -> tuple[Option, ...]:
    release = res.release
    if release is None or res.variant.startswith("jetson"):
        return (
            Option(
                res.variant,
                backend_label(res.variant),
                recommended=True,
                why=res.reasons[0] if res.reasons else "",
            ),
        )
    auto = res
    if res.choices.backend != "auto":  # what would be recommended without the user's pick
        auto = resolve(machine, replace(res.choices, backend="auto"), cat, strict=False)
    out = []
    for variant in release.variants(machine.platform_key):
        fit = backend_fit(cat, machine, release, variant)
        rec = variant == auto.variant and auto.resolved.torch == release.version
        out.append(
            Option(
                variant,
                backend_label(variant),
                available=fit.ok or variant == "cpu",
                recommended=rec,
                why=fit.why,
            )
        )
    return tuple(out)


def _package_options(release: Release | None, res: Resolution) -> tuple[Option, ...]:
    out = [Option("torch", f"torch {res.resolved.torch}", recommended=True, why="always installed")]
    for name in DEFAULT_PACKAGES[1:]:
        version = release.companions.get(name, "") if release else ""
        if version:
            out.append(
                Option(
                    name,
                    f"{name} {version}",
                    recommended=True,
                    why=f"released with torch {res.resolved.torch}",
                )
            )
        else:
            out.append(
                Option(
                    name, name, available=False, why=f"no release for torch {res.resolved.torch}"
                )
            )
    return tuple(out)


def _installer_options(machine: Machine) -> tuple[Option, ...]:
    why_not = uv_for_target(machine)
    uv_ok = not why_not or not machine.source.startswith("host")
    return (
        Option("pip", "pip", recommended=bool(why_not), why="comes with Python"),
        Option(
            "uv",
            "uv",
            available=uv_ok,
            recommended=not why_not,
            why="much faster venv and install; a second install reuses its cache"
            if uv_ok
            else why_not,
        ),
    )
