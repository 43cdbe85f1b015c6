"""Which releases and backends fit this machine: Python, platform, driver, GPU coverage."""

from __future__ import annotations

from dataclasses import dataclass, replace

from packaging.version import Version

from torch_wizard import catalog as catalog_mod
from torch_wizard.catalog import Catalog, Release
from torch_wizard.catalog.core import cuda_version, variant_kind
from torch_wizard.machine.model import Machine
from torch_wizard.plan.describe import _ccs, _version_key, backend_label

# --------------------------------------------------------------------------------------------------
# Which releases can this machine install at all?


def _release_fits(release: Release, machine: Machine) -> str:
    """ "" if wheels of ``release`` install on this machine, else why not (a short phrase)."""
    key = machine.platform_key
    if not release.variants(key):
        return f"no wheels for {key}"
    minor = machine.python.minor
    if machine.python.free_threaded and not release.supports_python(minor, free_threaded=True):
        return f"no free-threaded wheels for Python {minor}t"
    if key in release.platform_pythons and minor not in release.pythons_for(key):
        shown = ", ".join(release.pythons_for(key))
        return f"no wheels for Python {minor} on {key} (only {shown})"
    if key == "windows-arm64" and key not in release.platform_pythons:
        # Which Pythons have Windows ARM64 wheels is recorded per release (wheel tags); where
        # the catalog has no record, say so rather than guess.
        return "its Windows ARM64 wheel tags (which Pythons) are not confirmed in the catalog"
    if not release.supports_python(minor):
        return f"no wheels for Python {minor}"
    if machine.os.name == "linux" and machine.os.libc_version and release.glibc_min:
        if _version_key(machine.os.libc_version) < _version_key(release.glibc_min):
            return f"needs glibc {release.glibc_min} (this system has {machine.os.libc_version})"
    if machine.os.name == "macos" and machine.os.macos_version and release.macos_min:
        if _version_key(machine.os.macos_version) < _version_key(release.macos_min):
            return f"needs macOS {release.macos_min} (this Mac has {machine.os.macos_version})"
    return ""


def _python_hint(cat: Catalog, channel: str, machine: Machine) -> str:
    """For an unsupported Python: which torch is the newest that supports it, or what to install."""
    minor = machine.python.minor
    fitting = [r for r in cat.releases(channel) if not _release_fits(r, machine)]
    if fitting:
        return f"the newest torch that supports Python {minor} here is {fitting[0].version}"
    key = machine.platform_key
    if machine.python.free_threaded:
        has = [r.version for r in cat.releases(channel) if minor + "t" in r.pythons_ft]
        if has:
            return (
                f"free-threaded Python {minor}t has torch wheels up to torch {has[0]} only, and "
                "none of those installs here"
            )
        return f"no torch release has free-threaded (cp{minor.replace('.', '')}t) wheels"
    recorded = sorted(
        {p for r in cat.releases(channel) for p in r.platform_pythons.get(key, ())},
        key=_version_key,
    )
    if recorded and minor not in recorded:
        return (
            f"no torch release has {key} wheels for Python {minor}: its wheels are for Python "
            f"{', '.join(recorded)} only"
        )
    newest = next(iter(cat.releases("stable")), None)
    if newest is not None and newest.requires_python:
        return (
            f"no torch release has wheels for Python {minor} on {machine.platform_key}; "
            f"torch {newest.version} needs Python {newest.requires_python}"
        )
    return f"no torch release has wheels for Python {minor} on {machine.platform_key}"


# --------------------------------------------------------------------------------------------------
# Backend fitness


@dataclass(frozen=True)
class Fit:
    ok: bool
    why: str  # why it fits (a reason) or why not


def backend_fit(cat: Catalog, machine: Machine, release: Release, variant: str) -> Fit:
    """Does ``variant`` of ``release`` run on this machine's hardware?"""
    kind = variant_kind(variant)
    if kind == "cpu":
        return Fit(True, "runs on any CPU")
    if kind == "pypi":
        if machine.apple.silicon:
            return Fit(True, "PyPI's macOS wheels include MPS for Apple silicon GPUs")
        return Fit(True, "PyPI's wheel is the official build for this platform")
    if kind == "cuda" and machine.board.kind == "jetson":
        route = cat.jetson(machine.board.jetpack, machine.board.l4t)
        if route is not None and route.kind == "pytorch":
            return _jetson_fit(cat, machine, route, release, variant)
    if kind == "cuda":
        nv = machine.nvidia
        if not nv.present:
            return Fit(False, "no NVIDIA GPU or driver found")
        cuda = cuda_version(variant)
        floor = cat.driver_floor(cuda, machine.os.name)
        if not nv.driver_version:
            return Fit(False, "no NVIDIA driver found: install the driver first")
        if floor and _version_key(nv.driver_version) < _version_key(floor):
            return Fit(
                False,
                f"CUDA {cuda.split('.')[0]}.x wheels need driver {floor} or newer "
                f"(this one is {nv.driver_version})",
            )
        ccs = _ccs(machine)
        key = machine.platform_key
        missing = [cc for cc in ccs if not cat.covers_cc(variant, release.version, cc, key)]
        if missing:
            archs = cat.cuda_archs(variant, release.version, key)
            span = f" (covers {archs[0]} to {archs[-1]})" if archs else ""
            return Fit(False, f"built without compute capability {', '.join(missing)}{span}")
        if not ccs:
            return Fit(
                True,
                f"driver {nv.driver_version} meets its floor {floor} "
                "(compute capability unknown, so not checked)",
            )
        return Fit(
            True,
            f"driver {nv.driver_version} meets its floor {floor} and the build "
            f"covers compute capability {', '.join(ccs)}",
        )
    if kind == "rocm":
        targets = machine.amd.gfx_targets
        if machine.os.name != "linux":
            return Fit(False, "ROCm wheels exist only for Linux on PyTorch's index")
        if not targets:
            return Fit(False, "no AMD GPU found")
        supported = cat.rocm_gfx(variant)
        missing = [t for t in targets if t not in supported]
        if missing:
            return Fit(False, f"it does not support {', '.join(missing)}")
        return Fit(True, f"it supports {', '.join(targets)}")
    if kind == "xpu":
        discrete = [g for g in machine.intel if g.discrete]
        if discrete:
            return Fit(True, f"{discrete[0].name or 'the Intel GPU'} is a discrete Intel GPU")
        listed = [
            cat.xpu_integrated(g.pci_id) for g in machine.intel if cat.xpu_integrated(g.pci_id)
        ]
        if listed:
            return Fit(
                True,
                f"{listed[0]} is on PyTorch's list of Intel GPUs the XPU wheels are validated on",
            )
        if machine.intel:
            return Fit(False, "only integrated Intel graphics found, a poor fit for XPU wheels")
        return Fit(False, "no Intel GPU found")
    return Fit(False, "unknown backend")


def _gpu_kind(machine: Machine, cat: Catalog | None = None) -> str:
    if machine.board.kind == "jetson":
        return "jetson"
    if machine.os.name == "macos":
        return "macos"
    if machine.nvidia.present:
        return "nvidia"
    if machine.amd.gfx_targets:
        return "amd"
    if any(g.discrete for g in machine.intel):
        return "intel"
    if cat is not None and any(cat.xpu_integrated(g.pci_id) for g in machine.intel):
        return "intel"
    return "cpu"


def _jetson_fit(
    cat: Catalog,
    machine: Machine,
    route: catalog_mod.JetsonRoute,
    release: Release,
    variant: str,
) -> Fit:
    """A CUDA build of PyTorch's on a JetPack 7+ board: its CUDA no newer than JetPack's and its
    arch list covering the board's compute capability (the driver comes with JetPack)."""
    from torch_wizard.plan.source import load_facts

    cuda = cuda_version(variant)
    if Version(cuda) > Version(route.cuda):
        return Fit(False, f"CUDA {cuda} is newer than JetPack's CUDA {route.cuda}")
    cc = load_facts().jetson_cc(machine.board.model)
    key = machine.platform_key
    archs = cat.cuda_archs(variant, release.version, key)
    if not cc:
        return Fit(True, "the board's compute capability is unknown, so not checked")
    if not cat.covers_cc(variant, release.version, cc, key):
        span = f" (covers {', '.join(archs)})" if archs else ""
        return Fit(False, f"built without compute capability {cc}{span}")
    return Fit(
        True,
        f"its {backend_label(variant)} build covers compute capability {cc} ({', '.join(archs)})",
    )


def cuda_once_driver(
    cat: Catalog, machine: Machine, candidates: list[Release] | None = None
) -> tuple[Release, str, str] | None:
    """The (release, variant, driver floor) the plan would pick for this machine's NVIDIA GPUs
    once a new enough NVIDIA driver runs; None when no CUDA build covers them."""
    from torch_wizard.plan.drivers import last_branch

    # the newest driver these GPUs can take: their last branch (Kepler: 470), else any
    newest_driver = f"{last_branch(machine) or '9999'}.999.99"
    nv = replace(machine.nvidia, driver_version=newest_driver, device_nodes=True)
    later = replace(machine, nvidia=nv)
    if candidates is None:
        candidates = [r for r in cat.releases("stable") if not _release_fits(r, machine)]
    for release in candidates:
        for variant in release.variants(machine.platform_key):
            if variant_kind(variant) == "cuda" and backend_fit(cat, later, release, variant).ok:
                return release, variant, cat.driver_floor(cuda_version(variant), machine.os.name)
    return None


def rocm_once_driver(
    cat: Catalog, machine: Machine, candidates: list[Release] | None = None
) -> tuple[Release, str] | None:
    """The (release, variant) for this machine's AMD GPU once the amdgpu driver runs."""
    if candidates is None:
        candidates = [r for r in cat.releases("stable") if not _release_fits(r, machine)]
    for release in candidates:
        for variant in release.variants(machine.platform_key):
            if variant_kind(variant) == "rocm" and backend_fit(cat, machine, release, variant).ok:
                return release, variant
    return None
