"""Compare the bundled catalog (torch_wizard/catalog/data/releases.json) with what PyPI says.

``torch-wizard catalog check`` runs this for anyone (PyPI, or a mirror with ``--index-base``);
``scripts/check_catalog.py`` runs the same ``main`` from a checkout, with the maintainers'
``--write`` and ``--data``. ``--write`` also sets the file's ``updated`` date, from which the
plan and the wizard count the catalog's age (a note past ``core.STALE_DAYS``).

For every stable torch release from 1.13.0 on, PyPI is asked (PEP 691 JSON simple pages, and each
wheel's METADATA read through HTTP range requests, so no wheel is downloaded whole) for:

- the release exists, and its date (first upload);
- ``requires_python`` (the wheels' Requires-Python);
- ``pythons``: CPython minors with a wheel for Linux x86_64 (free-threaded "3.13t" listed apart);
- which platform keys have a PyPI wheel;
- ``glibc_min`` (manylinux tag of the Linux x86_64 wheels) and ``min_os`` per platform key;
- ``macos_min`` (platform tag of the macOS arm64 wheels);
- ``pypi_default`` per platform key: the CUDA build a bare ``pip install torch`` pulls on Linux
  (from the ``nvidia-cuda-runtime-cuXX`` / ``nvidia-cuda-runtime`` / ``cuda-toolkit`` pins in
  Requires-Dist, markers evaluated for that machine), "cpu" elsewhere, "mps" on Apple silicon;
- ``companions``: the newest torchvision and torchaudio whose Requires-Dist pins ``torch==X``.

Prints one line per mismatch and exits 1 if there is any (0 when all agree).
``--write`` updates those PyPI-derived fields in releases.json instead (curated fields such as
variants and sources are kept), adding any new release as a stub whose variants must be filled in.
``--cache DIR`` keeps the fetched METADATA so that reruns are fast.

When PyTorch ships (a new cu13x, a new ROCm, a new release), ``--index-base URL --missing-builds``
reads the index's all-variants page (``URL/torch/``, as https://download.pytorch.org/whl/torch/
lists every variant's wheels) and prints each build (version, variant, platform) the catalog
lacks, with the edit to make, and Windows ARM64 Python tags that differ from the catalog's record;
exit 1 if there is any. ``--index-base URL`` alone lists, per backend of the newest release,
whether a mirror has it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import email.parser
import io
import json
import re
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from torch_wizard.catalog import index
from torch_wizard.catalog.remote import RemoteFile

PYPI = "https://pypi.org/simple"
DATA = Path(__file__).resolve().parent / "data" / "releases.json"
OLDEST = Version("1.13.0")
COMPANIONS = ("torchvision", "torchaudio")
PLATFORM_OF = {  # wheel platform tag suffix -> platform key
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "amd64": "x86_64",
    "arm64": "arm64",
}
MACHINE = {"linux-x86_64": "x86_64", "linux-aarch64": "aarch64"}


def wheel_metadata(f: index.IndexFile, cache: Path | None) -> str:
    """The METADATA text of a remote wheel."""
    if cache is not None:
        hit = cache / (f.filename + ".METADATA")
        if hit.exists():
            return hit.read_text("utf-8")
    if not f.size:
        raise RuntimeError(f"{f.filename}: size unknown")
    with zipfile.ZipFile(io.BufferedReader(RemoteFile(f.url, f.size), 64 * 1024)) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode("utf-8")
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / (f.filename + ".METADATA")).write_text(text, "utf-8")
    return text


def requires_dist(metadata: str) -> list[Requirement]:
    msg = email.parser.Parser().parsestr(metadata, headersonly=True)
    out = []
    for line in msg.get_all("Requires-Dist") or []:
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            continue
    return out


# --------------------------------------------------------------------------------------------------
# Facts from file names and metadata


def platform_key(platform: str) -> str:
    if platform.startswith(("manylinux", "linux")):
        return "linux-" + ("aarch64" if platform.endswith("aarch64") else "x86_64")
    if platform.startswith("win"):
        return "windows-" + ("arm64" if platform.endswith("arm64") else "x86_64")
    if platform.startswith("macosx"):
        return "macos-" + ("arm64" if platform.endswith("arm64") else "x86_64")
    return ""


_MANYLINUX_LEGACY = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}


def os_floor(platform: str) -> str:
    """ "2.28" for manylinux_2_28_x86_64, "11.0" for macosx_11_0_arm64, "" for others."""
    m = re.match(r"manylinux_(\d+)_(\d+)_", platform)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    for legacy, glibc in _MANYLINUX_LEGACY.items():
        if platform.startswith(legacy + "_"):
            return glibc
    m = re.match(r"macosx_(\d+)_(\d+)_", platform)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    return ""


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def cuda_of(reqs: Iterable[Requirement], machine: str) -> str:
    """The CUDA variant ("cu128") the pins select on Linux/``machine``, "cpu" if none."""
    env: dict[str, Any] = dict(default_environment())
    env.update(
        sys_platform="linux",
        platform_system="Linux",
        platform_machine=machine,
        os_name="posix",
        python_version="3.12",
        python_full_version="3.12.0",
        implementation_name="cpython",
        platform_python_implementation="CPython",
    )
    for req in reqs:
        if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
            continue
        name = req.name.lower().replace("_", "-")
        pins = [s.version for s in req.specifier if s.operator in ("==", "~=", ">=")]
        if name.startswith("nvidia-cuda-runtime") or name in ("cuda-toolkit",):
            if pins:
                major, minor = pins[0].split(".")[:2]
                return f"cu{major}{minor}"
    return "cpu"


@dataclass
class Facts:
    version: str
    date: str = ""
    requires_python: str = ""
    pythons: list[str] = field(default_factory=list)
    pythons_ft: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    glibc_min: str = ""
    macos_min: str = ""
    min_os: dict[str, str] = field(default_factory=dict)
    pypi_default: dict[str, str] = field(default_factory=dict)
    companions: dict[str, str] = field(default_factory=dict)


def best_build(files: list[index.IndexFile]) -> list[index.IndexFile]:
    """Per (file tags), keep only the highest build number (torch-2.10.0-3-... beats -2-)."""
    best: dict[frozenset[Any], index.IndexFile] = {}
    for f in files:
        key = f.tags
        old = best.get(key)
        if old is None or int(f.build or 0) > int(old.build or 0):
            best[key] = f
    return list(best.values())


def gather(cache: Path | None, workers: int = 8) -> dict[str, Facts]:
    torch_files = [f for f in index.list_files(PYPI, "torch", 60) if f.version and not f.yanked]
    by_version: dict[str, list[index.IndexFile]] = defaultdict(list)
    for f in torch_files:
        if not f.local and Version(f.version) >= OLDEST and not Version(f.version).is_prerelease:
            by_version[f.version].append(f)

    facts: dict[str, Facts] = {}
    meta_jobs: dict[tuple[str, str], index.IndexFile] = {}
    for version, files in by_version.items():
        files = best_build(files)
        fx = Facts(version=version)
        fx.date = min(f.upload_time for f in files)[:10] if files[0].upload_time else ""
        rp = {f.requires_python for f in files if f.requires_python}
        fx.requires_python = sorted(rp)[-1] if rp else ""
        floors: dict[str, list[str]] = defaultdict(list)
        plats: set[str] = set()
        pys: set[str] = set()
        for f in files:
            for plat in f.platforms:
                key = platform_key(plat)
                if not key:
                    continue
                plats.add(key)
                floor = os_floor(plat)
                if floor:
                    floors[key].append(floor)
            if any(platform_key(p) == "linux-x86_64" for p in f.platforms):
                pys |= f.pythons
        fx.platforms = sorted(plats)
        fx.pythons = sorted((p for p in pys if not p.endswith("t")), key=_vkey)
        fx.pythons_ft = sorted((p for p in pys if p.endswith("t")), key=lambda p: _vkey(p[:-1]))
        fx.min_os = {k: min(v, key=_vkey) for k, v in sorted(floors.items())}
        fx.glibc_min = fx.min_os.get("linux-x86_64", "")
        fx.macos_min = fx.min_os.get("macos-arm64", "")
        for key in plats:
            if key in MACHINE:
                cands = [f for f in files if any(platform_key(p) == key for p in f.platforms)]
                meta_jobs[(version, key)] = max(cands, key=lambda f: f.filename)
            elif key == "macos-arm64":
                fx.pypi_default[key] = "mps"
            else:
                fx.pypi_default[key] = "cpu"
        facts[version] = fx

    # Companions: torchvision / torchaudio releases and the torch they require.
    comp_jobs: dict[tuple[str, str], index.IndexFile] = {}
    comp_dates: dict[tuple[str, str], str] = {}
    for name in COMPANIONS:
        per_version: dict[str, list[index.IndexFile]] = defaultdict(list)
        for f in index.list_files(PYPI, name, 60):
            if f.version and not f.local and not f.yanked and not Version(f.version).is_prerelease:
                per_version[f.version].append(f)
        for version, files in per_version.items():
            if Version(version) < Version("0.13"):
                continue
            comp_jobs[(name, version)] = min(files, key=_representative)
            comp_dates[(name, version)] = min(f.upload_time for f in files)[:10]

    def run(job: index.IndexFile) -> str:
        return wheel_metadata(job, cache)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        torch_meta = dict(zip(meta_jobs, pool.map(run, meta_jobs.values()), strict=True))
        comp_meta = dict(zip(comp_jobs, pool.map(run, comp_jobs.values()), strict=True))

    for (version, key), text in torch_meta.items():
        facts[version].pypi_default[key] = cuda_of(requires_dist(text), MACHINE[key])
    for fx in facts.values():
        fx.pypi_default = dict(sorted(fx.pypi_default.items()))

    # A companion pairs with torch X when it pins torch==X; failing a pin (torchvision 0.29.1+
    # says torch>=2.14.0, torchaudio 2.11.0 names no torch at all) when it was uploaded on X's
    # release day and its torch requirement, if any, admits X. Newest companion wins.
    # A torch release left without one then takes the newest unpinned companion whose torch
    # requirement names a floor that admits it: torchaudio 2.11.1 ("torch>=2.11", pure-Python
    # py3-none wheels, "works with torch 2.11 and every future torch release" in its README)
    # pairs with torch 2.12 to 2.15, whose release days brought no torchaudio.
    comp_floors: dict[str, list[tuple[str, list[Requirement]]]] = defaultdict(list)
    for (name, version), text in sorted(comp_meta.items(), key=lambda kv: Version(kv[0][1])):
        torch_reqs = [r for r in requires_dist(text) if r.name == "torch"]
        pinned = [s.version for r in torch_reqs for s in r.specifier if s.operator == "=="]
        if pinned:
            if pinned[0] in facts:
                facts[pinned[0]].companions[name] = version
            continue
        if any(s.operator == ">=" for r in torch_reqs for s in r.specifier):
            comp_floors[name].append((version, torch_reqs))
        for fx in facts.values():
            same_day = fx.date == comp_dates[(name, version)]
            if same_day and all(r.specifier.contains(fx.version) for r in torch_reqs):
                fx.companions[name] = version
    for name, candidates in comp_floors.items():
        for fx in facts.values():
            if name in fx.companions:
                continue
            admits = [
                v for v, reqs in candidates if all(r.specifier.contains(fx.version) for r in reqs)
            ]
            if admits:
                fx.companions[name] = admits[-1]
    for fx in facts.values():
        fx.companions = dict(sorted(fx.companions.items()))
    return facts


def _representative(f: index.IndexFile) -> tuple[int, int]:
    """Prefer a Linux x86_64 wheel, then Windows, to read a companion's metadata from (some old
    aarch64 builds of torchvision did not pin torch)."""
    plats = " ".join(sorted(f.platforms))
    rank = 0 if "manylinux" in plats and "x86_64" in plats else 1 if "win_amd64" in plats else 2
    return rank, f.size or 0


# --------------------------------------------------------------------------------------------------
# Comparing and writing

FIELDS = (
    "date",
    "requires_python",
    "pythons",
    "pythons_ft",
    "glibc_min",
    "macos_min",
    "min_os",
    "pypi_default",
    "companions",
)


def compare(data: dict[str, Any], facts: dict[str, Facts]) -> list[str]:
    problems = []
    bundled = {r["version"]: r for r in data["stable"]}
    for version in sorted(set(facts) - set(bundled), key=Version):
        problems.append(f"{version}: on PyPI but not in the catalog")
    for version in sorted(set(bundled) - set(facts), key=Version):
        problems.append(f"{version}: in the catalog but not a torch release on PyPI")
    for version, fx in sorted(facts.items(), key=lambda kv: Version(kv[0])):
        rel = bundled.get(version)
        if rel is None:
            continue
        for name in FIELDS:
            want = getattr(fx, name)
            have = rel.get(name, type(want)())
            if have != want:
                problems.append(f"{version}: {name} is {have!r}, PyPI says {want!r}")
        pypi_keys = {k for k, v in rel.get("variants", {}).items() if "pypi" in v}
        for key in sorted(pypi_keys - set(fx.platforms)):
            problems.append(f"{version}: variants[{key}] offers 'pypi' but PyPI has no wheel there")
        for key in sorted(set(fx.platforms) - set(rel.get("variants", {}))):
            problems.append(f"{version}: PyPI has {key} wheels but the catalog lists no variant")
    return problems


def write(data: dict[str, Any], facts: dict[str, Facts]) -> dict[str, Any]:
    import datetime

    # The date the staleness note counts from (Catalog.updated).
    data["updated"] = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    bundled = {r["version"]: r for r in data["stable"]}
    for version, fx in facts.items():
        rel = bundled.setdefault(version, {"version": version, "variants": {}, "sources": []})
        for name in FIELDS:
            rel[name] = getattr(fx, name)
    data["stable"] = sorted(bundled.values(), key=lambda r: Version(r["version"]), reverse=True)
    return data


def check_index(index_base: str, platform_key: str, python: str) -> int:
    """Print, per backend, the torch versions the index has next to the catalog's newest."""
    from torch_wizard import catalog
    from torch_wizard.catalog.index import refresh
    from torch_wizard.errors import WizardError

    cat = catalog.load()
    newest = cat.releases()[0].version
    try:
        found = refresh(cat, index_base, "stable", platform_key, python)
    except WizardError as err:
        print(f"check_catalog: {err}", file=sys.stderr)
        return 1
    missing = 0
    for variant, versions in found.items():
        has = newest in versions
        missing += not has
        shown = ", ".join(versions[:5]) or "no page"
        print(f"{variant:10} {'ok     ' if has else 'MISSING'} {newest}   (index has: {shown})")
    return 1 if missing else 0


def index_builds(index_base: str, timeout: float = 60) -> dict[tuple[str, str, str], set[str]]:
    """Every torch build on an index's all-variants page ``{base}/torch/`` (PyTorch's
    https://download.pytorch.org/whl/torch/ lists each variant's wheels, ``torch-2.9.1+cu129-...``):
    (public version, variant, platform key) -> the CPython tags it has wheels for. The variant is
    the wheel's local label; an unlabelled macOS wheel is the "pypi" build."""
    from torch_wizard.catalog.core import variant_kind

    found: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for f in index.list_files(index_base, "torch", timeout):
        if not f.version or f.yanked:
            continue
        try:
            parsed = Version(f.version)
        except ValueError:
            continue
        if parsed.is_prerelease or parsed.is_devrelease or parsed < OLDEST:
            continue
        keys = {platform_key(p) for p in f.platforms} - {""}
        for key in keys:
            variant = f.local or ("pypi" if key.startswith("macos") else "")
            if variant != "pypi" and not variant_kind(variant):
                continue
            found[(f.version, variant, key)] |= f.pythons
    return found


def missing_builds(index_base: str) -> int:
    """Print the builds an index has that the catalog lacks (a new cu13x, a new ROCm, a new
    release), and Windows ARM64 Python tags that differ from the catalog's record; 1 if any."""
    from torch_wizard import catalog
    from torch_wizard.errors import WizardError

    cat = catalog.load()
    try:
        found = index_builds(index_base)
    except WizardError as err:
        print(f"check_catalog: {err}", file=sys.stderr)
        return 1
    problems: list[str] = []
    for (version, variant, key), pythons in sorted(
        found.items(), key=lambda kv: (Version(kv[0][0]), kv[0][1], kv[0][2])
    ):
        tags = ", ".join(sorted(pythons, key=lambda p: (*_vkey(p.rstrip("t")), p.endswith("t"))))
        release = cat.release(version)
        if release is None:
            problems.append(
                f"{version} {variant} {key}: on the index, the catalog has no {version}"
            )
        elif variant not in release.variants(key):
            problems.append(
                f"{version} {variant} {key}: on the index (Python {tags}), not in the catalog: "
                f"add {variant!r} to variants[{key!r}] of {version} in releases.json, with its source"
            )
        elif key in release.platform_pythons:
            plain = {p for p in pythons if not p.endswith("t")}
            if plain != set(release.pythons_for(key)):
                problems.append(
                    f"{version} {variant} {key}: the index has Python {tags}, the catalog records "
                    f"{', '.join(release.pythons_for(key))}"
                )
    for line in problems:
        print(line)
    print(
        f"checked {len(found)} torch builds on {index_base.rstrip('/')}/torch/: "
        f"{len(problems)} missing from or differing with the catalog"
    )
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update releases.json from PyPI")
    parser.add_argument("--cache", type=Path, default=None, help="directory to cache METADATA")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--index-base",
        metavar="URL",
        help="instead of PyPI, list which torch versions a PyTorch index (or mirror) really has "
        "for each backend of the newest release",
    )
    parser.add_argument(
        "--missing-builds",
        action="store_true",
        help="with --index-base: read the index's all-variants page (BASE/torch/) and list the "
        "builds (version, variant, platform) the catalog lacks, e.g. a new cu13x",
    )
    parser.add_argument("--platform", default="linux-x86_64", help="with --index-base")
    parser.add_argument("--python", default="3.12", help="with --index-base")
    args = parser.parse_args(argv)
    if args.missing_builds and not args.index_base:
        parser.error(
            "--missing-builds needs --index-base URL (e.g. https://download.pytorch.org/whl)"
        )
    return run(
        index_base=args.index_base,
        missing=args.missing_builds,
        platform=args.platform,
        python=args.python,
        cache=args.cache,
        data_path=args.data,
        write_data=args.write,
    )


def run(
    *,
    index_base: str | None = None,
    missing: bool = False,
    platform: str = "linux-x86_64",
    python: str = "3.12",
    cache: Path | None = None,
    data_path: Path = DATA,
    write_data: bool = False,
) -> int:
    """The check ``main`` and ``torch-wizard catalog check`` run: prints its lines, returns the
    exit code (0 all agree, 1 a mismatch or an unreachable index)."""
    if index_base and missing:
        return missing_builds(index_base)
    if index_base:
        return check_index(index_base, platform, python)
    data = json.loads(data_path.read_text("utf-8"))
    facts = gather(cache)
    if write_data:
        data_path.write_text(dump(write(data, facts)), "utf-8")
        print(f"wrote {len(facts)} releases to {data_path}")
        return 0
    problems = compare(data, facts)
    for line in problems:
        print(line)
    print(f"checked {len(facts)} torch releases on PyPI: {len(problems)} mismatch(es)")
    return 1 if problems else 0


ORDER = (
    "version",
    "date",
    "requires_python",
    "pythons",
    "pythons_ft",
    "companions",
    "variants",
    "pypi_default",
    "glibc_min",
    "macos_min",
    "min_os",
    "note",
    "sources",
)


def dump(data: dict[str, Any]) -> str:
    """JSON with one line per field of a release (diff-friendly, still plain JSON)."""
    lines = ["{"]
    heads = [k for k in data if k not in ("stable", "test", "nightly")]
    for key in heads:
        lines.append(f"  {json.dumps(key)}: {json.dumps(data[key])},")
    channels = [c for c in ("stable", "test", "nightly") if c in data]
    for ci, channel in enumerate(channels):
        lines.append(f"  {json.dumps(channel)}: [")
        releases = data[channel]
        for ri, rel in enumerate(releases):
            keys = [k for k in ORDER if k in rel] + sorted(k for k in rel if k not in ORDER)
            lines.append("    {")
            for ki, key in enumerate(keys):
                comma = "," if ki < len(keys) - 1 else ""
                lines.append(f"      {json.dumps(key)}: {json.dumps(rel[key])}{comma}")
            lines.append("    }" + ("," if ri < len(releases) - 1 else ""))
        lines.append("  ]" + ("," if ci < len(channels) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
