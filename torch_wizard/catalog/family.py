"""The PyTorch family beyond torchvision and torchaudio: torchao and torchcodec.

They are published on PyTorch's indexes (and PyPI) but name no ``torch`` in their metadata, so
no resolver keeps them in step with torch; their own projects say which torch each release
pairs with (sources in ``data/family.json``, next to the data). ``companion(...)`` gives the
pin for a torch version on a platform and index kind, or why there is none.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_DATA = Path(__file__).resolve().parent / "data" / "family.json"


@dataclass(frozen=True)
class FamilyRelease:
    version: str  # "0.18.0" (as published: torchcodec has a "0.5")
    torch: tuple[str, ...]  # PEP 440 specifiers; the release pairs with a torch matching any
    date: str = ""
    pythons: tuple[str, ...] = ()  # CPython minors with wheels; () = any (abi3 / pure Python)
    platforms: tuple[str, ...] = ()  # platform keys with wheels; "any" = a py3-none-any wheel

    def pairs_with(self, torch_version: str) -> bool:
        try:
            v = Version(torch_version)
            return any(v in SpecifierSet(spec) for spec in self.torch)
        except (InvalidVersion, InvalidSpecifier):
            return False

    def has_wheel(self, platform_key: str) -> bool:
        return "any" in self.platforms or platform_key in self.platforms


@dataclass(frozen=True)
class FamilyPackage:
    name: str  # "torchao"
    import_name: str  # "torchao"
    check: str  # what verification exercises: "quantize", "import"
    published: dict[str, tuple[str, ...]]  # index kind -> platform keys that find it there
    releases: tuple[FamilyRelease, ...]  # newest first
    note: str = ""  # said in the plan's reasons whenever the package is installed
    sources: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Companion:
    version: str  # "" when there is none (``why`` says why)
    why: str = ""


def _index_kind(variant: str) -> str:
    from torch_wizard.catalog.core import variant_kind

    return variant_kind(variant)


def companion(
    package: FamilyPackage, torch_version: str, platform_key: str, variant: str, python_minor: str
) -> Companion:
    """The newest release of ``package`` that pairs with torch ``torch_version`` and has a wheel
    for ``platform_key`` and CPython ``python_minor`` on the index kind of ``variant``."""
    kind = _index_kind(variant)
    where = package.published.get(kind, ())
    if platform_key not in where:
        index = {"pypi": "PyPI", "jetson": "the Jetson index"}.get(
            kind, f"PyTorch's {variant} index"
        )
        return Companion(
            "",
            f"{package.name} has no build for {platform_key} on {index} (its project builds it for {_places(package)})",
        )
    paired = [r for r in package.releases if r.pairs_with(torch_version)]
    if not paired:
        return Companion(
            "", f"there is no {package.name} release paired with torch {torch_version}"
        )
    fits = [r for r in paired if r.has_wheel(platform_key)]
    if not fits:
        return Companion(
            "",
            f"no {package.name} release paired with torch {torch_version} has a {platform_key} wheel",
        )
    if python_minor:
        with_py = [r for r in fits if not r.pythons or python_minor in r.pythons]
        if not with_py:
            newest = fits[0]
            return Companion(
                "",
                f"{package.name} {newest.version} (paired with torch {torch_version}) has no wheel "
                f"for Python {python_minor} (it has {', '.join(newest.pythons)})",
            )
        fits = with_py
    return Companion(fits[0].version)


def _places(package: FamilyPackage) -> str:
    parts = []
    for kind, keys in package.published.items():
        if kind != "pypi" and keys:
            parts.append(f"{kind}: {', '.join(keys)}")
    return "; ".join(parts) or "no PyTorch index"


@functools.cache
def load() -> dict[str, FamilyPackage]:
    data = json.loads(_DATA.read_text("utf-8"))
    out: dict[str, FamilyPackage] = {}
    for name, p in data["packages"].items():
        releases = tuple(
            FamilyRelease(
                version=r["version"],
                torch=tuple(r["torch"]),
                date=r.get("date", ""),
                pythons=tuple(r.get("pythons", ())),
                platforms=tuple(r.get("platforms", ())),
            )
            for r in p["releases"]
        )
        out[name] = FamilyPackage(
            name=name,
            import_name=p.get("import", name),
            check=p.get("check", "import"),
            published={k: tuple(v) for k, v in p.get("published", {}).items()},
            releases=tuple(sorted(releases, key=lambda r: Version(r.version), reverse=True)),
            note=p.get("note", ""),
            sources=tuple(p.get("sources", ())),
        )
    return out


def names() -> tuple[str, ...]:
    return tuple(load())
