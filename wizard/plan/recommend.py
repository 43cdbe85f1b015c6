"""Recommendation: turn a machine and the user's choices into concrete choices, each with a reason.

``resolve`` is the one place where decisions are made. ``make_plan`` uses it strictly (an impossible
choice is a ``UsageError`` naming the fix); ``explore`` uses it leniently for the UI (an impossible
choice is replaced by the recommendation, with a note saying what changed and why) and also lists
every option with whether it can be chosen.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from wizard import catalog as catalog_mod
from wizard.catalog import Catalog, Release
from wizard.catalog.core import cuda_version, rocm_version, variant_kind
from wizard.errors import UsageError
from wizard.machine.model import Machine, NvidiaGPU
from wizard.plan.model import (
    DEFAULT_PACKAGES,
    FAMILY_PACKAGES,
    KNOWN_PACKAGES,
    Choices,
    Installer,
    Plan,
    Resolved,
)

CHANNELS = ("stable", "test", "nightly")
BUILDS = ("wheel", "source")
INSTALLERS = ("auto", "pip", "uv")
CACHES = ("auto", "keep", "off")


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


@dataclass(frozen=True)
class Resolution:
    resolved: Resolved
    release: Release | None  # None for Jetson routes whose version is not in the catalog
    variant: str  # the index variant ("cpu", "cu126", "pypi", "jetson-jp6-cu126")
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    adjusted: tuple[str, ...]
    choices: Choices


# --------------------------------------------------------------------------------------------------
# Describing backends and hardware in words


LABELS = {
    "cpu": "CPU only",
    "pypi": "PyPI default",
    "xpu": "Intel XPU",
    "jetson": "Jetson (JetPack CUDA)",
    "cuda": "CUDA",  # a source build against the installed toolkit
    "rocm": "ROCm",
}


def backend_label(variant: str) -> str:
    """ "cu126" -> "CUDA 12.6", "rocm6.4" -> "ROCm 6.4", "cpu" -> "CPU only"."""
    kind = variant_kind(variant)
    if kind == "cuda":
        return f"CUDA {cuda_version(variant)}"
    if kind == "rocm":
        return f"ROCm {rocm_version(variant)}"
    return LABELS.get(kind or variant, variant)


def _version_key(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def _gpu_phrase(machine: Machine) -> str:
    gpus = machine.nvidia.gpus
    if not gpus:
        return "the NVIDIA GPU"
    names = list(dict.fromkeys(g.name for g in gpus))
    head = names[0] if len(names) == 1 else ", ".join(names)
    count = f"{len(gpus)}x " if len(gpus) > 1 and len(names) == 1 else ""
    ccs = sorted({g.compute_capability for g in gpus if g.compute_capability}, key=_version_key)
    cc = f" (compute capability {', '.join(ccs)})" if ccs and "capability" not in head else ""
    return f"{count}{head}{cc}"


def _ccs(machine: Machine) -> tuple[str, ...]:
    return tuple(
        sorted(
            {g.compute_capability for g in machine.nvidia.gpus if g.compute_capability},
            key=_version_key,
        )
    )


# --------------------------------------------------------------------------------------------------
# Validation of input that does not depend on the catalog


LOOPBACK_HOSTS = ("localhost", "127.", "::1", "[::1]")


def _is_loopback(host: str) -> bool:
    """This machine: ``localhost`` by name, else an IP address that is loopback (127.0.0.0/8,
    ::1). Decided from the parsed address: ``127.attacker.example`` is a name, not 127.x."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_index_base(base: str, allow_insecure: bool) -> str:
    """Return the base without a trailing slash, or raise UsageError for an unsafe/unknown URL."""
    from urllib.parse import urlsplit

    def refuse(why: str) -> UsageError:
        return UsageError(
            f"--index-base {base!r} is not a usable URL ({why}): give a mirror of "
            "https://download.pytorch.org/whl, e.g. https://mirror.example.org/pytorch/whl"
        )

    if not base.isprintable() or any(c.isspace() for c in base):
        raise refuse("it holds a space or a control character")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError as err:
        raise refuse(str(err)) from None
    if parts.query or parts.fragment or base.rstrip("/").endswith(("?", "#")):
        raise UsageError(
            f"--index-base {base} has a query or fragment (?... or #...), which would end up inside "
            "every index URL: give the mirror's base URL alone, e.g. https://mirror.example.org/whl"
        )
    if parts.scheme == "https" and parts.netloc:
        return base.rstrip("/")
    if parts.scheme == "file":
        return base.rstrip("/")
    if parts.scheme == "http" and parts.netloc:
        if allow_insecure or _is_loopback(parts.hostname or ""):
            return base.rstrip("/")
        raise UsageError(
            f"--index-base {base} is plain http on another machine, so packages could be swapped "
            "in transit: use an https:// mirror, or pass --allow-insecure-index if you trust the "
            "network"
        )
    raise UsageError(
        f"--index-base {base!r} is not an http(s) or file URL: give a mirror of "
        "https://download.pytorch.org/whl, e.g. https://mirror.example.org/pytorch/whl"
    )


def _foreign_paths(machine: Machine) -> bool:
    """Are the target's paths of the other kind than this host's (Windows against POSIX)?"""
    return (machine.os.name == "windows") != (os.path is ntpath)


def target_venv(venv: str, machine: Machine, *, here: bool = True) -> str:
    """The venv path as the target machine will see it.

    ``here``: the path is on this host (not a profile of another machine), so it is made absolute
    against this host's working directory and ``~``. A Windows target planned on a POSIX host (or
    the reverse) cannot be: its paths follow the target's rules (``ntpath`` for Windows), an
    absolute one (``C:\\torch``) is kept (normalised), and a relative one stays relative, to be
    taken from the folder the plan is run in there (a reason says so); a POSIX cwd is never
    joined to a Windows path.
    """
    venv = venv or ".venv"
    flavour = ntpath if machine.os.name == "windows" else posixpath
    if here and not _foreign_paths(machine):
        return os.path.abspath(os.path.expanduser(venv))
    if flavour is ntpath and ntpath.isabs(venv):
        return ntpath.normpath(venv)
    return venv


def relative_venv_reason(venv: str, machine: Machine) -> str:
    """A sentence when a Windows (or other foreign-path) target's venv stays relative, else ""."""
    flavour = ntpath if machine.os.name == "windows" else posixpath
    if not _foreign_paths(machine) or flavour.isabs(venv):
        return ""
    return (
        f"The venv path {venv} is relative and this plan is for a {machine.os.name} machine, so it "
        "is left relative: the commands take it from the folder they are run in there."
    )


def check_venv_path(path: str, machine: Machine) -> None:
    """A target venv must be creatable or an existing venv; checked only for this machine (the
    same check the runner's pre-flight makes, so the plan and the run never disagree). A path on
    another machine (a profile) or in the other family of paths (a Windows target planned here on
    Linux, say) is not judged by this host's rules."""
    if machine.source.startswith("profile:") or _foreign_paths(machine):
        return  # a path on another machine: nothing to check here
    from wizard.venvcheck import (
        path_problem,
        system_prefixes,
        venv_problem,
        venv_python_problem,
    )

    where = Path(os.path.expanduser(path))
    problem = (
        path_problem(path)
        or venv_problem(where, creates=True, prefixes=system_prefixes())
        or venv_python_problem(where, machine.python.minor)
    )
    if problem:
        raise UsageError(problem)


def _platform_blocker(machine: Machine) -> str:
    """A sentence when no PyTorch wheel can exist for this interpreter/platform, else ""."""
    if machine.os.libc == "musl":
        return (
            "PyTorch publishes no wheels for musl libc (Alpine Linux): use a glibc-based distribution "
            "or image (e.g. Debian or python:3.11-slim), or build from source with --build source"
        )
    arch = machine.cpu.arch
    if machine.python.bits == 32 or machine.cpu.pointer_bits == 32 or arch in ("armv7l", "i686"):
        if machine.cpu.machine in ("aarch64", "arm64", "x86_64"):
            return (
                f"this Python is 32-bit ({arch}) on a 64-bit kernel ({machine.cpu.machine}), and "
                "PyTorch publishes no 32-bit wheels: install a 64-bit Python (on a Raspberry Pi, "
                "the 64-bit Raspberry Pi OS) and run the wizard with it"
            )
        return (
            f"PyTorch publishes no wheels for 32-bit {arch}: use a 64-bit OS and Python "
            "(on a Raspberry Pi, the 64-bit Raspberry Pi OS), or build from source with --build source"
        )
    if arch == "other":
        return (
            f"PyTorch publishes no wheels for this CPU architecture ({machine.cpu.machine}): "
            "build from source with --build source"
        )
    return ""


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


# --------------------------------------------------------------------------------------------------
# The resolver


class _Notes:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.reasons: list[str] = []
        self.warnings: list[str] = []
        self.adjusted: list[str] = []

    def problem(self, message: str, adjustment: str) -> None:
        """An impossible user choice: an error when strict, else replaced by the recommendation."""
        if self.strict:
            raise UsageError(message)
        self.adjusted.append(adjustment)


def _check_basic(choices: Choices) -> None:
    if choices.channel not in CHANNELS:
        raise UsageError(
            f"unknown channel {choices.channel!r}: use --channel stable, test or nightly"
        )
    if choices.build not in BUILDS:
        raise UsageError(f"unknown build {choices.build!r}: use --build wheel or source")
    if choices.installer not in INSTALLERS:
        raise UsageError(
            f"unknown installer {choices.installer!r}: use --installer auto, pip or uv"
        )
    if choices.cache not in CACHES:
        raise UsageError(f"unknown cache mode {choices.cache!r}: use auto, keep or off")
    for name in choices.packages:
        if name not in KNOWN_PACKAGES:
            raise UsageError(
                f"unknown package {name!r}: --packages takes {', '.join(KNOWN_PACKAGES)}"
            )


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


def _choose_backend(
    cat: Catalog,
    machine: Machine,
    choices: Choices,
    candidates: list[Release],
    notes: _Notes,
    gpu: str,
) -> tuple[Release, str]:
    key = machine.platform_key
    asked = choices.backend
    if asked not in ("auto", ""):
        problem = _explicit_backend_problem(asked, machine)
        if problem:
            notes.problem(problem, f"{asked} is not possible here, so the recommended backend")
        else:
            offering = [r for r in candidates if asked in r.variants(key)]
            if not offering:
                r0 = candidates[0]
                offered = ", ".join(r0.variants(key)) or "none"
                notes.problem(
                    f"torch {r0.version} has no {asked} build for {key}; it offers: {offered}",
                    f"torch {r0.version} has no {asked} build, so the recommended backend",
                )
            else:
                release = offering[0]
                fit = backend_fit(cat, machine, release, asked)
                notes.reasons.append(
                    f"{backend_label(asked)} ({asked}) as you asked, for torch {release.version}."
                )
                if not fit.ok and variant_kind(asked) != "cpu":
                    notes.warnings.append(f"{asked} may not work on this machine: {fit.why}.")
                return release, asked

    return _recommend(cat, machine, candidates, notes, gpu)


def _explicit_backend_problem(asked: str, machine: Machine, *, source: bool = False) -> str:
    osname = machine.os.name
    generic = source and asked in ("cuda", "rocm")
    if not (variant_kind(asked) or asked == "jetson" or generic):
        return f"unknown backend {asked!r}: use auto, cpu, cuXYZ (e.g. cu126), rocmX.Y or xpu"
    kind = asked if generic else variant_kind(asked)
    if kind == "cuda" and osname == "macos":
        return (
            "CUDA is not available on macOS (Apple has no NVIDIA drivers): use --backend auto, "
            "which installs PyPI's wheel with MPS on Apple silicon"
        )
    if kind == "rocm" and osname != "linux":
        return (
            f"ROCm wheels exist only for Linux on PyTorch's index, not {osname} (AMD's own "
            "Windows wheels on repo.amd.com are outside this wizard's routes): use --backend auto "
            "or cpu"
        )
    if kind == "jetson" and machine.board.kind != "jetson":
        return "--backend jetson is only for NVIDIA Jetson boards: use --backend auto"
    return ""


def _recommend(
    cat: Catalog, machine: Machine, candidates: list[Release], notes: _Notes, gpu: str
) -> tuple[Release, str]:
    key = machine.platform_key
    newest = candidates[0]
    if gpu == "macos":
        if "pypi" in newest.variants(key):
            if machine.apple.silicon:
                notes.reasons.append(
                    "On Apple silicon PyPI's wheel is the official build and uses the GPU through "
                    "MPS, so no --index-url is needed."
                )
            else:
                notes.reasons.append(
                    "On an Intel Mac PyPI's CPU wheel is the official build (no CUDA on macOS)."
                )
            return newest, "pypi"

    if gpu in ("nvidia", "amd", "intel"):
        kind = {"nvidia": "cuda", "amd": "rocm", "intel": "xpu"}[gpu]
        if gpu == "nvidia" and not machine.nvidia.device_nodes and machine.nvidia.driver_version:
            notes.warnings.append(
                "The NVIDIA driver is loaded but no /dev/nvidia* device is visible: this looks "
                "like a container started without GPU access (docker run --gpus all)."
            )
            notes.reasons.append(
                "The GPU is not usable from here, so the CPU build; pass --backend cuXYZ to "
                "install a CUDA build anyway."
            )
            return _cpu(newest, machine, notes, key, mention_gpu=False)
        special = _gpu_without_driver(cat, machine, candidates, notes, gpu)
        if special is not None:
            return special
        hw = _hardware_phrase(machine, gpu)
        newest_misses: list[tuple[str, str]] = []
        for release in candidates:
            misses: list[tuple[str, str]] = []
            for variant in release.variants(key):
                if variant_kind(variant) != kind:
                    continue
                fit = backend_fit(cat, machine, release, variant)
                if fit.ok:
                    if release is not newest:
                        notes.reasons.append(
                            f"torch {newest.version} has no build for {hw} "
                            f"({_group(newest_misses) or 'none offered'}), so torch "
                            f"{release.version}, the newest that has one."
                        )
                        hint = _driver_hint(cat, machine, newest)
                        if hint:
                            notes.reasons.append(hint)
                        misses = []
                    skipped = f"{_group(misses)}; so " if misses else ""
                    notes.reasons.append(
                        f"{hw}: {skipped}{backend_label(variant)} ({variant}), the newest build "
                        f"that fits: {fit.why}."
                    )
                    if gpu == "nvidia":
                        notes.reasons.append(
                            "The wheel bundles its own CUDA runtime, so no CUDA toolkit is needed; "
                            "only the driver matters."
                        )
                        _mixed_reason(cat, machine, release, variant, notes)
                    if gpu == "amd":
                        from wizard.plan.drivers import amd_host_needs

                        notes.reasons.append(amd_host_needs(machine))
                    _backend_caveats(cat, machine, variant, notes)
                    return release, variant
                misses.append((variant, fit.why))
            if release is newest:
                newest_misses = misses
        if gpu == "amd" and machine.os.name != "linux":
            notes.reasons.append(
                "PyTorch builds ROCm wheels for Linux only (pytorch/test-infra "
                "generate_binary_build_matrix.py adds ROCm arches when os == linux); AMD's own "
                "Windows wheels (e.g. torch 2.12.0+rocm7.14.0 with per-device extras such as "
                "torch[device-gfx1100], from https://repo.amd.com/rocm/whl-multi-arch/) are AMD's "
                "route, not PyTorch's index, and are not planned here."
            )
        partial = _mixed_partial(cat, machine, candidates, notes) if gpu == "nvidia" else None
        if partial is not None:
            return partial
        detail = _group(newest_misses) or f"torch {newest.version} offers no {kind} build here"
        notes.warnings.append(f"No GPU build of any torch release fits {hw}: {detail}.")
        fix = ""
        if any("driver" in why for _, why in newest_misses):
            fix = " Update the NVIDIA driver to use the GPU."
        notes.reasons.append(f"So the CPU build, which runs anywhere.{fix}")
        return _cpu(newest, machine, notes, key, mention_gpu=False)

    if machine.intel and not any(g.discrete for g in machine.intel):
        ids = ", ".join(g.pci_id for g in machine.intel if g.pci_id)
        notes.reasons.append(
            f"Only integrated Intel graphics found{f' ({ids})' if ids else ''}, not on PyTorch's "
            "list of Intel GPUs the XPU wheels are validated on (Arc, Data Center GPUs and the "
            "Arc graphics of Core Ultra Meteor Lake-H, Arrow Lake-H and Lunar Lake), so the CPU "
            "build."
        )
    return _cpu(newest, machine, notes, key, mention_gpu=gpu == "cpu")


def _backend_caveats(cat: Catalog, machine: Machine, variant: str, notes: _Notes) -> None:
    """What the catalog cannot confirm about the chosen build, and what an integrated GPU means."""
    if variant_kind(variant) == "rocm" and not cat.rocm_confirmed(variant):
        notes.reasons.append(
            f"Not confirmed here: which gfx targets {variant} is built for (no stored build "
            "script names them; the catalog repeats the previous ROCm's list, and AMD's own index "
            "splits its builds per device, e.g. amd-torch-device-gfx1201). If torch does not "
            "see the GPU, try the previous ROCm build."
        )
    if variant == "xpu" and not any(g.discrete for g in machine.intel):
        notes.warnings.append(
            "The Intel GPU is integrated: it shares system memory with the CPU, and the XPU "
            "wheels need Intel's GPU driver (level-zero) installed (PyTorch's 'Getting Started "
            "on Intel GPU')."
        )


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


def _jetson_fit(
    cat: Catalog,
    machine: Machine,
    route: catalog_mod.JetsonRoute,
    release: Release,
    variant: str,
) -> Fit:
    """A CUDA build of PyTorch's on a JetPack 7+ board: its CUDA no newer than JetPack's and its
    arch list covering the board's compute capability (the driver comes with JetPack)."""
    from wizard.plan.source import load_facts

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


def _jetson_sbsa_backend(
    cat: Catalog,
    machine: Machine,
    route: catalog_mod.JetsonRoute,
    candidates: list[Release],
    notes: _Notes,
) -> tuple[Release, str]:
    """JetPack 7 and newer: PyTorch's own Linux aarch64 CUDA builds, the newest whose CUDA is
    not newer than JetPack's and whose arch list covers the board's compute capability."""
    from wizard.plan.source import load_facts

    key = machine.platform_key
    model = machine.board.model or "This Jetson"
    cc = load_facts().jetson_cc(machine.board.model)
    for release in candidates:
        for variant in release.variants(key):
            if variant_kind(variant) != "cuda":
                continue
            fit = _jetson_fit(cat, machine, route, release, variant)
            if not fit.ok:
                continue
            cc_part = fit.why
            notes.reasons.append(
                f"{model} with JetPack {machine.board.jetpack or '7'} (L4T "
                f"{machine.board.l4t or route.l4t}, CUDA {route.cuda}): PyTorch's own Linux aarch64 "
                f"CUDA wheels run on it, so torch {release.version} {backend_label(variant)} "
                f"({variant}) from PyTorch's index: {cc_part}; builds of a CUDA newer than "
                f"JetPack's {route.cuda} are not chosen."
            )
            notes.reasons.append(
                "The GPU driver comes with JetPack, so no driver floor is checked; the wheel "
                "bundles its own CUDA runtime."
            )
            if route.alternative:
                notes.reasons.append(
                    f"NVIDIA's Jetson AI Lab index ({route.alternative}) has builds for this "
                    "JetPack too; pass --index-base or install from there by hand to use them."
                )
            return release, variant
    notes.warnings.append(
        f"No PyTorch aarch64 CUDA build up to CUDA {route.cuda} covers {model} "
        f"(compute capability {cc or 'unknown'})."
    )
    notes.reasons.append("So the CPU build, which runs anywhere.")
    return _cpu(candidates[0], machine, notes, key, mention_gpu=False)


# --------------------------------------------------------------------------------------------------
# GPUs without their driver, and GPUs of mixed generations (issue 11)


def _gpu_names(gpus: list[NvidiaGPU]) -> str:
    """ "NVIDIA GeForce GTX 1080 (6.1)" or "2x Tesla K80 (3.7)"."""
    by_name: dict[str, list[NvidiaGPU]] = {}
    for g in gpus:
        by_name.setdefault(g.name, []).append(g)
    parts = []
    for name, same in by_name.items():
        count = f"{len(same)}x " if len(same) > 1 else ""
        cc = same[0].compute_capability
        parts.append(f"{count}{name}" + (f" ({cc})" if cc else ""))
    return " and ".join(parts)


def cuda_once_driver(
    cat: Catalog, machine: Machine, candidates: list[Release] | None = None
) -> tuple[Release, str, str] | None:
    """The (release, variant, driver floor) the plan would pick for this machine's NVIDIA GPUs
    once a new enough NVIDIA driver runs; None when no CUDA build covers them."""
    from wizard.plan.drivers import last_branch

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


def _gpu_without_driver(
    cat: Catalog, machine: Machine, candidates: list[Release], notes: _Notes, gpu: str
) -> tuple[Release, str] | None:
    """NVIDIA without its driver, AMD without amdgpu (no kfd) on Linux: the CPU build now, and
    which driver (and command) would give which GPU build. None for every other machine."""
    from wizard.plan import drivers

    key = machine.platform_key
    newest = candidates[0]
    if gpu == "nvidia" and not machine.nvidia.driver_version:
        names = _gpu_names(list(machine.nvidia.gpus)) or "An NVIDIA GPU"
        if machine.nvidia.kernel_driver == "nvidia":
            notes.reasons.append(
                f"{names}: NVIDIA's driver is installed but its version is unknown (no "
                "nvidia-smi answered), so no CUDA build can be checked against it: the CPU build; "
                "pass --nvidia-driver VERSION (nvidia-smi shows it) to plan the CUDA build."
            )
            return _cpu(newest, machine, notes, key, mention_gpu=False)
        using = (
            ", and the nouveau driver in use cannot run CUDA"
            if machine.nvidia.kernel_driver == "nouveau"
            else ""
        )
        notes.reasons.append(f"{names} found, but no NVIDIA driver is loaded{using}.")
        then = cuda_once_driver(cat, machine, candidates)
        if then is None:
            notes.reasons.append(
                "No CUDA build of any torch release covers this GPU, even with a new driver, so "
                "the CPU build."
            )
            return _cpu(newest, machine, notes, key, mention_gpu=False)
        release, variant, floor = then
        notes.reasons.append(
            f"Install NVIDIA's driver, {drivers.nvidia_need(machine, cuda_version(variant), floor)}; "
            "reboot, then run torch-wizard again: the plan will then install torch "
            f"{release.version} with "
            f"{backend_label(variant)} ({variant})."
        )
        notes.reasons.append(
            "Until then, the CPU build: nothing here installs a driver. To install the CUDA "
            f"build now, ahead of the driver, pass --backend {variant}."
        )
        return _cpu(newest, machine, notes, key, mention_gpu=False)
    amd = machine.amd
    if gpu != "amd" or machine.os.name != "linux" or amd.source != "pci":
        return None
    name = next((g.name for g in amd.gpus if g.name), "The AMD GPU")
    gfx = ", ".join(amd.gfx_targets)
    then_rocm = rocm_once_driver(cat, machine, candidates)
    if then_rocm is None:
        notes.reasons.append(f"{name} ({gfx}) found, but no ROCm wheel supports it: the CPU build.")
        return _cpu(newest, machine, notes, key, mention_gpu=False)
    release, variant = then_rocm
    state = (
        "the amdgpu driver is loaded but no /sys/class/kfd is visible (a container needs "
        "/dev/kfd and /dev/dri passed in)"
        if amd.kernel_driver == "amdgpu"
        else "the amdgpu kernel driver is not running (no /sys/class/kfd)"
    )
    notes.reasons.append(f"{name} ({gfx}) found, but {state}, so ROCm cannot use it yet.")
    notes.reasons.append(drivers.amd_host_needs(machine))
    notes.reasons.append(
        f"Then run torch-wizard again: the plan will then install torch {release.version} with "
        f"{backend_label(variant)} ({variant}). Until then, the CPU build; pass --backend "
        f"{variant} to install the ROCm build now."
    )
    return _cpu(newest, machine, notes, key, mention_gpu=False)


def _mixed_reason(
    cat: Catalog, machine: Machine, release: Release, variant: str, notes: _Notes
) -> None:
    """Several GPUs of different compute capability: say that the build covers them all, and
    which GPU the newer builds would leave out."""
    ccs = _ccs(machine)
    if len(ccs) < 2:
        return
    key = machine.platform_key
    left_out: dict[str, list[str]] = {}
    for newer in release.variants(key):
        if newer == variant:
            break
        if variant_kind(newer) != "cuda":
            continue
        missing = [cc for cc in ccs if not cat.covers_cc(newer, release.version, cc, key)]
        if missing:
            out = [g for g in machine.nvidia.gpus if g.compute_capability in missing]
            left_out.setdefault(_gpu_names(out), []).append(newer)
    why = "".join(f"; {', '.join(vs)} would leave {who} out" for who, vs in left_out.items())
    notes.reasons.append(
        f"Mixed GPUs ({_gpu_names(list(machine.nvidia.gpus))}): {variant} is the newest build "
        f"that covers all of them{why}."
    )


def _mixed_partial(
    cat: Catalog, machine: Machine, candidates: list[Release], notes: _Notes
) -> tuple[Release, str] | None:
    """No build covers every GPU: the newest that covers the newest GPUs, naming who is left out."""
    gpus = list(machine.nvidia.gpus)
    ccs = _ccs(machine)
    if len(ccs) < 2 or not machine.nvidia.driver_version:
        return None
    key = machine.platform_key
    for drop in range(1, len(ccs)):
        kept = [g for g in gpus if g.compute_capability in ccs[drop:]]
        sub = replace(machine, nvidia=replace(machine.nvidia, gpus=tuple(kept)))
        for release in candidates:
            for variant in release.variants(key):
                if variant_kind(variant) != "cuda":
                    continue
                fit = backend_fit(cat, sub, release, variant)
                if not fit.ok:
                    continue
                out = [g for g in gpus if g not in kept]
                archs = cat.cuda_archs(variant, release.version, key)
                span = f"{archs[0]} to {archs[-1]}" if archs else "newer GPUs"
                visible = ",".join(str(g.index) for g in kept)
                notes.warnings.append(
                    f"No build of any torch release covers every GPU here: {_gpu_names(out)} is "
                    f"left out ({variant} is built for compute capability {span})."
                )
                notes.reasons.append(
                    f"{_gpu_names(kept)}: {backend_label(variant)} ({variant}) with torch "
                    f"{release.version}, the newest build that covers them: {fit.why}. "
                    f"{_gpu_names(out)} stays unused; to keep CUDA off it, run with "
                    f"CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES={visible}."
                )
                return release, variant
    return None


def _driver_hint(cat: Catalog, machine: Machine, release: Release) -> str:
    """If only the driver keeps ``release`` off this GPU: which driver would allow it."""
    ccs = _ccs(machine)
    for variant in release.variants(machine.platform_key):
        cuda = cuda_version(variant)
        key = machine.platform_key
        if not cuda or not all(cat.covers_cc(variant, release.version, cc, key) for cc in ccs):
            continue
        floor = cat.driver_floor(cuda, machine.os.name)
        if floor and _version_key(machine.nvidia.driver_version) < _version_key(floor):
            return (
                f"Updating the NVIDIA driver to {floor} or newer would allow torch "
                f"{release.version} with {variant}."
            )
    return ""


def _group(misses: list[tuple[str, str]]) -> str:
    """[("cu132", w), ("cu130", w), ("cu128", v)] -> "cu132, cu130: w; cu128: v"."""
    by_why: dict[str, list[str]] = {}
    for variant, why in misses:
        by_why.setdefault(why, []).append(variant)
    return "; ".join(f"{', '.join(vs)}: {why}" for why, vs in by_why.items())


def _hardware_phrase(machine: Machine, gpu: str) -> str:
    if gpu == "nvidia":
        drv = f" on driver {machine.nvidia.driver_version}" if machine.nvidia.driver_version else ""
        return f"{_gpu_phrase(machine)}{drv}"
    if gpu == "amd":
        names = list(dict.fromkeys(g.name for g in machine.amd.gpus if g.name))
        gfx = ", ".join(machine.amd.gfx_targets)
        return f"{' and '.join(names)} ({gfx})" if names else f"AMD GPU {gfx}"
    return "the Intel GPU"


def _cpu(
    release: Release, machine: Machine, notes: _Notes, key: str, *, mention_gpu: bool
) -> tuple[Release, str]:
    offered = release.variants(key)
    variant = "cpu" if "cpu" in offered else ("pypi" if "pypi" in offered else offered[-1])
    default = release.pypi_default(key)
    if mention_gpu:
        what = "No NVIDIA, AMD or Intel GPU found"
        if machine.board.kind == "raspberry-pi":
            what = f"{machine.board.model or 'A Raspberry Pi'} has no GPU PyTorch can use"
        if default.startswith("cu"):
            notes.reasons.append(
                f"{what}, so the CPU build from the cpu index: a bare `pip install torch` here "
                f"would pull PyPI's {backend_label(default)} build with gigabytes of CUDA libraries."
            )
        else:
            notes.reasons.append(f"{what}, so the CPU build.")
    return release, variant


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
    from wizard.catalog import family

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
    not. Their pairings with torch come from their own projects (wizard/catalog/data/family.json);
    nightly and test builds of them are not paired, so they go unpinned there, like torch."""
    from wizard.catalog import family

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


# Sizes from shared/facts.md (torch 2.15.0, Linux): the CPU build is about 192 MB to download and
# 0.9 GB installed; PyPI's default CUDA build about 3.0 GB and 5.4 GB. Other backends: not measured,
# so 0 ("unknown") rather than a guess.
SIZE_ESTIMATES = {"cpu": (192_000_000, 900_000_000), "cuda": (3_000_000_000, 5_400_000_000)}


def estimate_size(variant: str) -> tuple[int, int]:
    return SIZE_ESTIMATES.get(variant_kind(variant), (0, 0))


# --------------------------------------------------------------------------------------------------
# Installer and cache


def uv_for_target(machine: Machine) -> str:
    """ "" when the target has a uv the plan can name (this host: always, since torch-wizard ships
    the ``uv`` package; a profile or machine root: when its tools list one), else why not."""
    from wizard.machine.toolchain import MIN_UV, uv_new_enough

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


def check_cache_dir(path: str) -> None:
    """A ``--cache-dir`` on this host must be a folder (or creatable) we can write to."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(
            f"--cache-dir {path} is a file, not a folder: choose a folder for the cache"
        )
    from wizard.plan.cache import existing_parent

    parent = existing_parent(p)
    if not os.access(parent, os.W_OK):
        raise UsageError(
            f"--cache-dir {path} is not writable ({parent} is not): choose a folder you can write to"
        )


def _with_cache(machine: Machine, choices: Choices, resolved: Resolved, notes: _Notes) -> Resolved:
    """Where the download cache goes and whether it is kept (see ``wizard.plan.cache``)."""
    from wizard.plan import cache as cache_mod

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


# --------------------------------------------------------------------------------------------------
# Public entry points


def make_plan(machine: Machine, choices: Choices, catalog: Catalog | None = None) -> Plan:
    """The exact plan for ``choices`` on ``machine``; UsageError for an impossible combination."""
    from wizard.plan.wheel import build_plan

    check_venv_path(choices.venv or ".venv", machine)
    resolution = resolve(machine, choices, catalog, strict=True)
    return build_plan(machine, choices, resolution, catalog or catalog_mod.load())


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
