"""Load the bundled catalog data and answer questions about it (see the package docstring)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

CHANNELS = ("stable", "test", "nightly")


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

    def supports_python(self, minor: str) -> bool:
        if self.pythons and minor not in self.pythons:
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


@dataclass(frozen=True)
class ArchRule:
    variants: tuple[str, ...]
    torch: str  # a specifier on the torch version, e.g. ">=2.8"
    archs: tuple[str, ...]
    source: str = ""


class Catalog:
    """The bundled facts. Build with ``load()``; tests may build one from dicts."""

    def __init__(
        self,
        releases: dict[str, list[dict[str, Any]]],
        cuda: dict[str, Any],
        rocm: dict[str, Any],
        jetson: dict[str, Any],
    ) -> None:
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
            ArchRule(tuple(r["variants"]), r["torch"], tuple(r["archs"]), r.get("source", ""))
            for r in cuda["arch_rules"]
        )
        self._rocm = {
            name: frozenset(entry["gfx"]) for name, entry in rocm["variants"].items()
        }
        self._jetson = tuple(
            JetsonRoute(
                jetpack=j["jetpack"],
                index_url=j["index_url"],
                cuda=j["cuda"],
                variant=j["variant"],
                torch=tuple(j.get("torch", ())),
                source=j.get("source", ""),
            )
            for j in jetson["routes"]
        )

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

    def cuda_archs(self, variant: str, torch_version: str) -> tuple[str, ...]:
        v = Version(torch_version)
        for rule in self._arch_rules:
            if variant in rule.variants and v in SpecifierSet(rule.torch, prereleases=True):
                return rule.archs
        return ()

    def covers_cc(self, variant: str, torch_version: str, cc: str) -> bool:
        """Does the build run natively on a GPU of compute capability ``cc``?

        A cubin for sm_XY runs on sm_XZ with Z >= Y (same major); we do not count on PTX JIT
        (slow first start, and not shipped for every arch)."""
        archs = self.cuda_archs(variant, torch_version)
        if not archs or not cc:
            return False
        major, minor = (int(x) for x in cc.split(".")[:2])
        for arch in archs:
            a_major, a_minor = (int(x) for x in arch.split(".")[:2])
            if a_major == major and a_minor <= minor:
                return True
        return False

    def rocm_gfx(self, variant: str) -> frozenset[str]:
        return self._rocm.get(variant, frozenset())

    def jetson(self, jetpack: str) -> JetsonRoute | None:
        major = jetpack.split(".")[0]
        for route in self._jetson:
            if route.jetpack == jetpack or route.jetpack == major:
                return route
        return None


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
    )


def _read(name: str) -> Any:
    return json.loads(resources.files("wizard.catalog").joinpath("data", name).read_text("utf-8"))


@functools.cache
def load() -> Catalog:
    releases = _read("releases.json")
    return Catalog(
        {channel: releases.get(channel, []) for channel in CHANNELS},
        _read("cuda.json"),
        _read("rocm.json"),
        _read("jetson.json"),
    )
