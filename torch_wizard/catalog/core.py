"""Load the bundled catalog data and answer questions about it (see the package docstring)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import Version

CHANNELS = ("stable", "test", "nightly")
PLATFORM_KEYS = (
    "linux-x86_64",
    "linux-aarch64",
    "windows-x86_64",
    "windows-arm64",
    "macos-arm64",
    "macos-x86_64",
)
# Platforms an arch rule without "platforms" covers (the x86_64 builds share one arch list).
_DEFAULT_ARCH_PLATFORMS = ("linux-x86_64", "windows-x86_64")


def variant_kind(variant: str) -> str:
    """ "cuda", "rocm", "xpu", "cpu", "pypi", "jetson" or "" for an index variant name."""
    if re.fullmatch(r"cu\d{3}", variant):
        return "cuda"
    if re.fullmatch(r"rocm\d+\.\d+(\.\d+)?", variant):
        return "rocm"
    if variant in ("xpu", "cpu", "pypi"):
        return variant
    if variant.startswith("jetson-"):
        return "jetson"
    return ""


def cuda_version(variant: str) -> str:
    """ "12.6" for "cu126", "11.8" for "cu118"; "" for a non-CUDA variant."""
    if variant_kind(variant) != "cuda":
        return ""
    digits = variant[2:]
    return f"{digits[:-1]}.{digits[-1]}"


def rocm_version(variant: str) -> str:
    """ "6.2.4" for "rocm6.2.4"; "" for a non-ROCm variant."""
    return variant[4:] if variant_kind(variant) == "rocm" else ""


def variant_order(variant: str) -> tuple[int, tuple[int, ...]]:
    """Sort key giving the catalog's order: newest CUDA, newest ROCm (compared as versions, so
    rocm7.14 > rocm7.2), xpu, cpu, then pypi. Use ``sorted(..., key=variant_order)``."""
    kind = variant_kind(variant)
    if kind in ("cuda", "rocm"):
        number = cuda_version(variant) or rocm_version(variant)
        release = (*Version(number).release, 0, 0, 0)[:4]  # 6.2 == 6.2.0 < 6.2.4
        return (0 if kind == "cuda" else 1, tuple(-x for x in release))
    return ({"xpu": 2, "cpu": 3, "pypi": 4, "jetson": 5}.get(kind, 6), ())


def index_url(base: str, channel: str, variant: str) -> str:
    """The PyTorch index for a channel and variant under ``base`` (a mirror of /whl)."""
    base = base.rstrip("/")
    if channel == "stable":
        return f"{base}/{variant}"
    return f"{base}/{channel}/{variant}"


@dataclass(frozen=True)
class Release:
    version: str  # "2.9.1"; nightly: "2.17.0.dev"
    channel: str = "stable"
    date: str = ""
    requires_python: str = ""  # the wheel metadata's Requires-Python, e.g. ">=3.10"
    pythons: tuple[str, ...] = ()  # minor versions with wheels, e.g. ("3.10", ..., "3.14")
    companions: dict[str, str] = field(default_factory=dict)
    variants_by_platform: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pypi_defaults: dict[str, str] = field(default_factory=dict)
    glibc_min: str = ""
    macos_min: str = ""  # for macos-arm64
    sources: tuple[str, ...] = ()
    pythons_ft: tuple[str, ...] = ()  # free-threaded builds with wheels, e.g. ("3.14t",)
    min_os: dict[str, str] = field(default_factory=dict)  # platform key -> glibc / macOS floor
    note: str = ""
    # CPython minors with wheels where a platform differs from ``pythons`` (Windows ARM64: 3.11 to
    # 3.13 only); a platform not listed has ``pythons``.
    platform_pythons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Companions PyPI has but PyTorch's own indexes are not confirmed to carry (torchaudio 2.11.1).
    index_unconfirmed: tuple[str, ...] = ()

    @property
    def pre(self) -> bool:
        return self.channel != "stable"

    @property
    def parsed(self) -> Version:
        return Version(self.version)

    def variants(self, platform_key: str) -> tuple[str, ...]:
        return self.variants_by_platform.get(platform_key, ())

    def pypi_default(self, platform_key: str) -> str:
        return self.pypi_defaults.get(platform_key, "")

    @property
    def python_range(self) -> tuple[str, str]:
        """(oldest, newest) CPython minor with wheels, e.g. ("3.10", "3.14"); ("", "") if unknown."""
        if not self.pythons:
            return ("", "")
        ordered = sorted(self.pythons, key=lambda p: Version(p))
        return (ordered[0], ordered[-1])

    @property
    def platforms(self) -> tuple[str, ...]:
        """Platform keys with at least one variant."""
        return tuple(k for k in PLATFORM_KEYS if self.variants_by_platform.get(k))

    def offers(self, platform_key: str, variant: str) -> bool:
        return variant in self.variants(platform_key)

    def os_floor(self, platform_key: str) -> str:
        """The glibc ("2.28") or macOS ("14.0") version the wheels for ``platform_key`` need."""
        if platform_key in self.min_os:
            return self.min_os[platform_key]
        if platform_key == "linux-x86_64":
            return self.glibc_min
        if platform_key == "macos-arm64":
            return self.macos_min
        return ""

    def pythons_for(self, platform_key: str) -> tuple[str, ...]:
        """CPython minors with wheels on ``platform_key`` (``pythons`` unless the catalog
        records that platform's own wheel tags)."""
        return self.platform_pythons.get(platform_key, self.pythons)

    def supports_python(
        self, minor: str, platform_key: str = "", *, free_threaded: bool = False
    ) -> bool:
        """Are there wheels for CPython ``minor`` ("3.13"; free-threaded: the "3.13t" tags of
        ``pythons_ft``) on ``platform_key`` (any platform when "")?"""
        from packaging.specifiers import SpecifierSet  # lazy: pulls packaging.tags (~10 ms)

        if free_threaded and minor + "t" not in self.pythons_ft:
            return False
        pythons = self.pythons_for(platform_key) if platform_key else self.pythons
        if pythons and minor not in pythons:
            return False
        if self.requires_python:
            return Version(minor + ".0") in SpecifierSet(self.requires_python) or Version(
                minor + ".99"
            ) in SpecifierSet(self.requires_python)
        return True


@dataclass(frozen=True)
class JetsonRoute:
    jetpack: str  # "6" / "6.2"
    index_url: str  # "https://pypi.jetson-ai-lab.io/jp6/cu126"
    cuda: str  # "12.6"
    variant: str  # "jetson-jp6-cu126"
    torch: tuple[str, ...] = ()  # versions known on that index, newest first
    source: str = ""
    pythons: tuple[str, ...] = ()  # CPython minors of the known wheels ("3.10")
    l4t: str = ""  # L4T major release ("36")
    # "jetson-ai-lab": wheels from ``index_url``; "pytorch": PyTorch's own Linux aarch64 CUDA
    # builds up to CUDA ``cuda`` (JetPack 7 and newer), ``index_url``/``variant`` empty.
    kind: str = "jetson-ai-lab"
    companions: dict[str, dict[str, str]] = field(default_factory=dict)  # torch -> companions
    alternative: str = ""  # another index for that JetPack (Jetson AI Lab's sbsa/cu130)
    torch_notes: dict[str, str] = field(default_factory=dict)  # torch -> what it needs first


@dataclass(frozen=True)
class ArchRule:
    variants: tuple[str, ...]
    torch: str  # a specifier on the torch version, e.g. ">=2.8"
    archs: tuple[str, ...]
    source: str = ""
    ptx: tuple[str, ...] = ()  # archs also shipped as PTX
    platforms: tuple[str, ...] = _DEFAULT_ARCH_PLATFORMS

    def matches(self, variant: str, torch_version: Version, platform_key: str) -> bool:
        from packaging.specifiers import SpecifierSet  # lazy: pulls packaging.tags (~10 ms)

        return (
            variant in self.variants
            and platform_key in self.platforms
            and torch_version in SpecifierSet(self.torch, prereleases=True)
        )


class Catalog:
    """The bundled facts. Build with ``load()``; tests may build one from dicts."""

    def __init__(
        self,
        releases: dict[str, list[dict[str, Any]]],
        cuda: dict[str, Any],
        rocm: dict[str, Any],
        jetson: dict[str, Any],
        xpu: dict[str, Any] | None = None,
        updated: str = "",
    ) -> None:
        # When the release data was last brought up to date ("2026-12-03"): releases.json's
        # "updated", which check --write sets; without one, the newest release's date.
        self.updated: str = updated
        self._releases = {
            channel: tuple(
                sorted(
                    (_release(r, channel) for r in releases.get(channel, [])),
                    key=lambda r: r.parsed,
                    reverse=True,
                )
            )
            for channel in CHANNELS
        }
        self._floors: dict[str, dict[str, str]] = {
            major: {k: v for k, v in floor.items() if k in ("linux", "windows")}
            for major, floor in cuda["driver_floors"].items()
        }
        self._arch_rules = tuple(
            ArchRule(
                tuple(r["variants"]),
                r["torch"],
                tuple(r["archs"]),
                r.get("source", ""),
                tuple(r.get("ptx", ())),
                tuple(r.get("platforms", _DEFAULT_ARCH_PLATFORMS)),
            )
            for r in cuda["arch_rules"]
        )
        self._rocm = {name: frozenset(entry["gfx"]) for name, entry in rocm["variants"].items()}
        self._rocm_unconfirmed = frozenset(
            name for name, entry in rocm["variants"].items() if entry.get("confirmed") is False
        )
        self._jetson = tuple(
            JetsonRoute(
                jetpack=j["jetpack"],
                index_url=j["index_url"],
                cuda=j["cuda"],
                variant=j["variant"],
                torch=tuple(j.get("torch", ())),
                source=j.get("source", ""),
                pythons=tuple(j.get("pythons", ())),
                l4t=j.get("l4t", ""),
                kind=j.get("kind", "jetson-ai-lab"),
                companions={k: dict(v) for k, v in j.get("companions", {}).items()},
                alternative=j.get("alternative", ""),
                torch_notes=dict(j.get("torch_notes", {})),
            )
            for j in jetson["routes"]
        )
        self._jetson_notes: dict[str, str] = dict(jetson.get("notes", {}))
        xpu = xpu or {}
        self._xpu_integrated: dict[str, str] = {
            dev.lower(): entry["family"]
            for entry in xpu.get("integrated", ())
            for dev in entry.get("ids", ())
        }
        self.xpu_source: str = xpu.get("validated_source", "")
        if not self.updated:
            self.updated = max((r.date for r in self._releases["stable"]), default="")

    def releases(self, channel: str = "stable") -> tuple[Release, ...]:
        return self._releases.get(channel, ())

    def release(self, version: str, channel: str = "stable") -> Release | None:
        for r in self._releases.get(channel, ()):
            if r.version == version:
                return r
        return None

    def driver_floor(self, cuda: str, os_name: str) -> str:
        major = cuda.split(".")[0]
        return self._floors.get(major, {}).get(os_name, "")

    def arch_rule(
        self, variant: str, torch_version: str, platform_key: str = "linux-x86_64"
    ) -> ArchRule | None:
        """The first arch rule for that build (see cuda.json), or None if none is known."""
        v = Version(torch_version)
        for rule in self._arch_rules:
            if rule.matches(variant, v, platform_key):
                return rule
        return None

    def cuda_archs(
        self, variant: str, torch_version: str, platform_key: str = "linux-x86_64"
    ) -> tuple[str, ...]:
        rule = self.arch_rule(variant, torch_version, platform_key)
        return rule.archs if rule else ()

    def covers_cc(
        self, variant: str, torch_version: str, cc: str, platform_key: str = "linux-x86_64"
    ) -> bool:
        """Does the build run natively on a GPU of compute capability ``cc``?

        A cubin for sm_XY runs on sm_XZ with Z >= Y (same major); we do not count on PTX JIT
        (slow first start, and not shipped for every arch)."""
        archs = self.cuda_archs(variant, torch_version, platform_key)
        if not archs or not cc:
            return False
        try:
            major, minor = (int(x) for x in cc.split(".")[:2])
        except ValueError:
            return False
        for arch in archs:
            a_major, a_minor = (int(x) for x in arch.split(".")[:2])
            if a_major == major and a_minor <= minor:
                return True
        return False

    def cuda_variants_for_cc(
        self, release: Release, cc: str, platform_key: str = "linux-x86_64"
    ) -> tuple[str, ...]:
        """The CUDA variants of ``release`` on ``platform_key`` that run on compute capability
        ``cc``, newest CUDA first."""
        return tuple(
            v
            for v in release.variants(platform_key)
            if variant_kind(v) == "cuda" and self.covers_cc(v, release.version, cc, platform_key)
        )

    def newest_supporting(
        self,
        platform_key: str,
        python_minor: str = "",
        channel: str = "stable",
        variant: str = "",
    ) -> Release | None:
        """The newest release with wheels for ``platform_key`` (and for CPython
        ``python_minor``, and offering ``variant``, when given)."""
        for release in self.releases(channel):
            if not release.variants(platform_key):
                continue
            if python_minor and not release.supports_python(python_minor):
                continue
            if variant and not release.offers(platform_key, variant):
                continue
            return release
        return None

    def rocm_variants_for_gfx(self, release: Release, gfx: str) -> tuple[str, ...]:
        """The ROCm variants of ``release`` (Linux x86_64) built for ``gfx``, newest first."""
        return tuple(
            v
            for v in release.variants("linux-x86_64")
            if variant_kind(v) == "rocm" and gfx in self.rocm_gfx(v)
        )

    def rocm_gfx(self, variant: str) -> frozenset[str]:
        return self._rocm.get(variant, frozenset())

    def rocm_confirmed(self, variant: str) -> bool:
        """False where the catalog's gfx list for ``variant`` is a stand-in (rocm7.14)."""
        return variant not in self._rocm_unconfirmed

    def jetson_routes(self) -> tuple[JetsonRoute, ...]:
        return self._jetson

    def jetson_note(self, jetpack: str) -> str:
        """Why a JetPack has no route (JetPack 5 and older), "" when it has one or is unknown."""
        return self._jetson_notes.get(jetpack.split(".")[0], "")

    def jetson(self, jetpack: str, l4t: str = "") -> JetsonRoute | None:
        """The route for a board: by its L4T major release when known (R38 and R39 are both
        JetPack 7), else by JetPack (exact, then major)."""
        l4t_major = l4t.split(".")[0]
        if l4t_major:
            for route in self._jetson:
                if route.l4t == l4t_major:
                    return route
        for route in self._jetson:
            if route.jetpack == jetpack:
                return route
        major = jetpack.split(".")[0]
        for route in self._jetson:
            if route.jetpack == major:
                return route
        return None

    def xpu_integrated(self, pci_id: str) -> str:
        """The family name of an Intel integrated GPU on PyTorch's XPU list ("8086:7d55" ->
        "Intel Core Ultra (Meteor Lake-H) Arc Graphics"), "" for other integrated graphics."""
        vendor, _, device = pci_id.lower().partition(":")
        if vendor != "8086":
            return ""
        return self._xpu_integrated.get(device, "")


def _release(data: dict[str, Any], channel: str) -> Release:
    return Release(
        version=data["version"],
        channel=channel,
        date=data.get("date", ""),
        requires_python=data.get("requires_python", ""),
        pythons=tuple(data.get("pythons", ())),
        companions=dict(data.get("companions", {})),
        variants_by_platform={k: tuple(v) for k, v in data.get("variants", {}).items()},
        pypi_defaults=dict(data.get("pypi_default", {})),
        glibc_min=data.get("glibc_min", ""),
        macos_min=data.get("macos_min", ""),
        sources=tuple(data.get("sources", ())),
        pythons_ft=tuple(data.get("pythons_ft", ())),
        min_os=dict(data.get("min_os", {})),
        note=data.get("note", ""),
        platform_pythons={k: tuple(v) for k, v in data.get("platform_pythons", {}).items()},
        index_unconfirmed=tuple(data.get("index_unconfirmed", ())),
    )


_DATA = Path(__file__).resolve().parent / "data"


def _read(name: str) -> Any:
    # A plain path, not importlib.resources (~8 ms of imports): the data ships inside the package.
    return json.loads((_DATA / name).read_text("utf-8"))


@functools.cache
def load() -> Catalog:
    releases = _read("releases.json")
    return Catalog(
        {channel: releases.get(channel, []) for channel in CHANNELS},
        _read("cuda.json"),
        _read("rocm.json"),
        _read("jetson.json"),
        _read("xpu.json"),
        updated=str(releases.get("updated", "")),
    )


STALE_DAYS = 120  # PyTorch ships a release about every two to three months
AGE_CHECK_ENV = "TORCH_WIZARD_DISABLE_CATALOG_AGE_CHECK"  # like PIP_DISABLE_PIP_VERSION_CHECK


def age_note(catalog: Catalog | None = None, environ: dict[str, str] | None = None) -> str:
    """``staleness`` of the bundled catalog as of today (this machine's date), "" when it is
    fresh or ``TORCH_WIZARD_DISABLE_CATALOG_AGE_CHECK`` is set to anything but "" or "0"."""
    import datetime
    import os

    env = os.environ if environ is None else environ
    if env.get(AGE_CHECK_ENV, "") not in ("", "0"):
        return ""
    cat = catalog or load()
    return staleness(cat.updated, datetime.date.today().isoformat())


def staleness(updated: str, today: str) -> str:
    """One sentence when the catalog, brought up to date on ``updated`` ("2026-12-03"), is more
    than ``STALE_DAYS`` older than ``today`` (same form), naming how to check it; else ""."""
    import datetime

    try:
        then = datetime.date.fromisoformat(updated)
        now = datetime.date.fromisoformat(today)
    except ValueError:
        return ""
    age = (now - then).days
    if age <= STALE_DAYS:
        return ""
    return (
        f"the bundled PyTorch catalog was last updated {updated}, {age} days ago, so newer "
        "releases or builds may be missing: run 'torch-wizard catalog check' (PyPI) or 'torch-wizard "
        "catalog check --index-base URL --missing-builds' (an index), or upgrade torch-wizard"
    )
