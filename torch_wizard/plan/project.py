"""Exports for projects: the same resolutions as a plan, as a requirements file or as the
``[tool.uv]`` tables of a ``pyproject.toml``. Pure: resolutions in, text out (``merge_pyproject``
takes the old file's text and gives the new one; the command writes it).

A requirements file is for one machine: the plan's ``--index-url`` line and its exact pins, so
``pip install -r`` and ``uv pip install -r`` install what the plan would.

A pyproject fragment covers several machines at once, the way uv's PyTorch guide
(astral-sh/uv ``docs/guides/integration/pytorch.md``) says to write it: one
``[[tool.uv.index]]`` per PyTorch index used, each ``explicit = true`` so that only the packages
pointed at it come from it (the rest stays on the default index, PyPI: see the torchtriton note
in shared/facts.md), and ``[tool.uv.sources]`` entries whose PEP 508 markers pick the index per
platform. Markers use ``sys_platform`` and ``platform_machine``, whose values are those of
``sys.platform`` and ``platform.machine()`` on each OS (PEP 508): ``linux``/``x86_64`` or
``aarch64`` on Linux (``uname -m``), ``win32``/``AMD64`` or ``ARM64`` on Windows (the
``PROCESSOR_ARCHITECTURE`` spelling), ``darwin``/``arm64`` or ``x86_64`` on macOS. A macOS target
whose route is plain PyPI gets no source entry: uv falls back to the default index there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from torch_wizard.catalog.core import variant_kind
from torch_wizard.errors import UsageError
from torch_wizard.plan.model import Plan, Resolved

# platform key -> PEP 508 marker (see the module docstring for the values' sources)
PLATFORM_MARKERS = {
    "linux-x86_64": "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "linux-aarch64": "sys_platform == 'linux' and platform_machine == 'aarch64'",
    "windows-x86_64": "sys_platform == 'win32' and platform_machine == 'AMD64'",
    "windows-arm64": "sys_platform == 'win32' and platform_machine == 'ARM64'",
    "macos-arm64": "sys_platform == 'darwin' and platform_machine == 'arm64'",
    "macos-x86_64": "sys_platform == 'darwin' and platform_machine == 'x86_64'",
}

# Packages torch's ROCm and XPU builds depend on that only the PyTorch index carries: uv's guide
# points them at that index too (and says to list them in [project] dependencies).
TRITON_COMPANIONS = {
    "rocm": ("pytorch-triton-rocm", "triton-rocm"),
    "xpu": ("triton-xpu",),
}


@dataclass(frozen=True)
class ProjectTarget:
    """One machine of the export: what it is called in comments, and its resolution."""

    label: str  # "linux-x86_64 (rtx4090.json)"
    platform_key: str  # "linux-x86_64"
    python: str  # "3.12"
    resolved: Resolved


@dataclass(frozen=True)
class Index:
    name: str  # "pytorch-cu126"
    url: str


@dataclass(frozen=True)
class Source:
    index: str  # an Index.name
    marker: str


@dataclass(frozen=True)
class Fragment:
    targets: tuple[ProjectTarget, ...]
    indexes: tuple[Index, ...]
    sources: dict[str, tuple[Source, ...]]  # package -> entries, in the targets' order
    dependencies: tuple[str, ...]  # PEP 508 lines for [project] dependencies
    notes: tuple[str, ...] = field(default_factory=tuple)  # comments for the reader


def _toml_string(text: str) -> str:
    # TOML basic strings escape like JSON (\\, \", \uXXXX); ensure_ascii keeps it so.
    return json.dumps(text)


def _spec(name: str, version: str) -> str:
    return f"{name}=={version}" if version else name


def _backend_words(resolved: Resolved) -> str:
    from torch_wizard.plan.describe import backend_label

    return f"{backend_label(resolved.backend)}, {resolved.backend}"


def _summary(resolved: Resolved) -> str:
    return ", ".join(f"{n} {v}" if v else n for n, v in resolved.packages.items())


# --------------------------------------------------------------------------------------------------
# requirements.txt


def requirements_text(target: ProjectTarget) -> str:
    """A requirements file for one machine: the plan's index line and pins."""
    r = target.resolved
    lines = [
        f"# torch-wizard export requirements: {_summary(r)} ({_backend_words(r)})",
        f"# for {target.label}, Python {target.python}.",
        "# Install into a venv with:  python -m pip install -r FILE   or   uv pip install -r FILE",
    ]
    if r.index_url:
        lines.append(
            "# --index-url (never --extra-index-url): every package, dependencies included, "
            "comes from this one index."
        )
        lines.append(f"--index-url {r.index_url}")
    else:
        lines.append("# PyPI is the official route for this machine: no index line.")
    if r.channel == "nightly":
        lines.append(
            "# Nightly builds are pre-releases: pip takes --pre from here; uv ignores it in"
        )
        lines.append("# a file, so give uv pip install --pre -r FILE.")
        lines.append("--pre")
    lines.extend(_spec(n, v) for n, v in r.packages.items())
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# pyproject.toml fragment


def index_name(resolved: Resolved) -> str:
    """The ``[[tool.uv.index]]`` name for a resolution's index: ``pytorch-cu126``,
    ``pytorch-nightly-cpu``; a Jetson index keeps its variant name; "" for PyPI."""
    if not resolved.index_url:
        return ""
    if variant_kind(resolved.backend) == "jetson":
        return resolved.backend
    if resolved.channel == "stable":
        return f"pytorch-{resolved.backend}"
    return f"pytorch-{resolved.channel}-{resolved.backend}"


def _check_targets(targets: Sequence[ProjectTarget]) -> None:
    if not targets:
        raise UsageError("export pyproject needs at least one target machine")
    seen: dict[str, ProjectTarget] = {}
    for t in targets:
        if t.platform_key not in PLATFORM_MARKERS:
            raise UsageError(
                f"{t.label}: PyTorch publishes no wheels for {t.platform_key}, so a pyproject "
                "cannot name one: drop that target"
            )
        if t.resolved.build != "wheel":
            raise UsageError("export makes wheel installs only: drop --build source")
        other = seen.get(t.platform_key)
        if other is None:
            seen[t.platform_key] = t
            continue
        same = (other.resolved.index_url, other.resolved.packages) == (
            t.resolved.index_url,
            t.resolved.packages,
        )
        if not same:
            raise UsageError(
                f"{other.label} and {t.label} are both {t.platform_key} but want different builds "
                f"({_summary(other.resolved)} from {other.resolved.backend}; {_summary(t.resolved)} "
                f"from {t.resolved.backend}), and a marker cannot tell such machines apart: "
                "export one of them, or give --backend so both get the same build"
            )


def build_fragment(targets: Sequence[ProjectTarget]) -> Fragment:
    """The indexes, sources and dependency lines covering every target."""
    _check_targets(targets)
    unique: list[ProjectTarget] = []
    for t in targets:  # one entry per platform (equal duplicates were checked above)
        if all(u.platform_key != t.platform_key for u in unique):
            unique.append(t)

    indexes: dict[str, Index] = {}
    sources: dict[str, list[Source]] = {}
    notes: list[str] = []
    for t in unique:
        r = t.resolved
        name = index_name(r)
        marker = PLATFORM_MARKERS[t.platform_key]
        if not name:
            notes.append(
                f"{t.label}: PyPI is the official route, so no source entry (uv's default)."
            )
            continue
        indexes.setdefault(name, Index(name, r.index_url))
        for package in r.packages:
            sources.setdefault(package, []).append(Source(name, marker))
        for extra in TRITON_COMPANIONS.get(variant_kind(r.backend), ()):
            sources.setdefault(extra, []).append(Source(name, marker))
        if variant_kind(r.backend) in TRITON_COMPANIONS:
            names = " or ".join(TRITON_COMPANIONS[variant_kind(r.backend)])
            notes.append(
                f"{t.label}: torch's {r.backend} build needs {names} from the same index; uv uses "
                "sources for direct dependencies only, so add the one your torch requires to "
                "[project] dependencies (uv's PyTorch guide)."
            )
        if r.channel == "nightly":
            notes.append(
                f'{t.label}: nightly builds are pre-releases: set prerelease = "allow" in [tool.uv].'
            )

    # Dependency lines: one plain pin when every target agrees, else one line per version with
    # the markers of the platforms that get it.
    dependencies: list[str] = []
    order: list[str] = []
    for t in unique:
        for package in t.resolved.packages:
            if package not in order:
                order.append(package)
    for package in order:
        by_version: dict[str, list[str]] = {}
        for t in unique:
            if package in t.resolved.packages:
                version = t.resolved.packages[package]
                by_version.setdefault(version, []).append(PLATFORM_MARKERS[t.platform_key])
        everywhere = sum(len(m) for m in by_version.values()) == len(unique)
        if len(by_version) == 1 and everywhere:
            dependencies.append(_spec(package, next(iter(by_version))))
            continue
        for version, markers in by_version.items():
            joined = " or ".join(f"({m})" for m in markers) if len(markers) > 1 else markers[0]
            dependencies.append(f"{_spec(package, version)} ; {joined}")
    return Fragment(
        targets=tuple(unique),
        indexes=tuple(indexes.values()),
        sources={k: tuple(v) for k, v in sources.items()},
        dependencies=tuple(dependencies),
        notes=tuple(notes),
    )


def fragment_text(fragment: Fragment) -> str:
    """The fragment as TOML to paste into pyproject.toml (comments say what it covers)."""
    lines = [f"# torch-wizard export pyproject: PyTorch for {len(fragment.targets)} machine(s)"]
    for t in fragment.targets:
        where = index_name(t.resolved) or "PyPI"
        lines.append(
            f"#   {t.label}, Python {t.python}: {_summary(t.resolved)} "
            f"({_backend_words(t.resolved)}) from {where}"
        )
    lines.append("# [project] dependencies these sources are for:")
    lines.extend(f"#   {_toml_string(d)}," for d in fragment.dependencies)
    lines.extend(f"# {n}" for n in fragment.notes)
    for index in fragment.indexes:
        lines += [
            "",
            "[[tool.uv.index]]",
            f"name = {_toml_string(index.name)}",
            f"url = {_toml_string(index.url)}",
            "explicit = true",
        ]
    if fragment.sources:
        lines += ["", "[tool.uv.sources]"]
        for package, entries in fragment.sources.items():
            lines.append(f"{package} = [")
            for e in entries:
                lines.append(
                    f"  {{ index = {_toml_string(e.index)}, marker = {_toml_string(e.marker)} }},"
                )
            lines.append("]")
    return "\n".join(lines) + "\n"


def merge_pyproject(text: str, fragment: Fragment, path: str = "pyproject.toml") -> str:
    """``text`` (a pyproject.toml) with the fragment's indexes and sources merged in.

    Only ``[[tool.uv.index]]`` entries of the same name and ``[tool.uv.sources]`` entries of the
    same packages are replaced; every other byte of the file stays as it was (tomlkit keeps
    comments, order and formatting). Bad TOML is a ``UsageError`` naming the line."""
    import tomlkit
    from tomlkit.exceptions import ParseError
    from tomlkit.items import AoT, Array, InlineTable

    try:
        doc = tomlkit.parse(text)
    except ParseError as err:
        raise UsageError(
            f"{path} is not valid TOML (line {err.line}, column {err.col}): fix it, then export again"
        ) from None

    def table_at(parent: Any, key: str, where: str) -> Any:
        if key not in parent:
            parent[key] = tomlkit.table(is_super_table=True)
        found = parent[key]
        if not isinstance(found, dict):
            raise UsageError(f"{path}: {where} is not a table: fix it, then export again")
        return found

    tool = table_at(doc, "tool", "[tool]")
    uv = table_at(tool, "uv", "[tool.uv]")

    if fragment.indexes:
        existed = "index" in uv
        if not existed:
            uv["index"] = tomlkit.aot()
        known = uv["index"]
        if not isinstance(known, AoT | Array):
            raise UsageError(f"{path}: tool.uv.index is not an array of tables: fix it")
        for index in fragment.indexes:
            entry = next(
                (e for e in known if isinstance(e, dict) and e.get("name") == index.name), None
            )
            if entry is None:
                entry = tomlkit.table() if isinstance(known, AoT) else tomlkit.inline_table()
                entry["name"] = index.name
                entry["url"] = index.url
                entry["explicit"] = True
                if existed and isinstance(known, AoT):
                    entry.add(tomlkit.nl())  # a blank line before whatever follows
                known.append(entry)
            else:
                entry["url"] = index.url
                entry["explicit"] = True

    if fragment.sources:
        if "sources" not in uv:
            uv["sources"] = tomlkit.table()
        sources = uv["sources"]
        if not isinstance(sources, dict):
            raise UsageError(f"{path}: tool.uv.sources is not a table: fix it")
        for package, entries in fragment.sources.items():
            array = tomlkit.array()
            for e in entries:
                item = tomlkit.inline_table()
                item["index"] = e.index
                item["marker"] = e.marker
                array.append(item)
            array.multiline(not isinstance(sources, InlineTable))  # inline tables: one line
            sources[package] = array
    out = tomlkit.dumps(doc)
    if "\r\n" in text and "\n" not in text.replace("\r\n", ""):
        out = re.sub(r"(?<!\r)\n", "\r\n", out)  # a CRLF file stays CRLF throughout
    return out


# --------------------------------------------------------------------------------------------------
# From a plan (the wizard's Preview saves these)

EXPORT_KINDS = ("requirements", "pyproject")


def plan_target(plan: Plan) -> ProjectTarget:
    """A plan's target and resolution as an export target."""
    machine = plan.target
    where = "this machine" if machine.source.startswith("host") else machine.source.split(":")[0]
    return ProjectTarget(
        label=f"{machine.platform_key} ({where})",
        platform_key=machine.platform_key,
        python=machine.python.minor,
        resolved=plan.choice,
    )


def plan_export(plan: Plan, kind: str) -> str:
    """The ``kind`` ("requirements" or "pyproject") export of one plan; ``UsageError`` for a
    plan no export can express (a source build, a platform without wheels)."""
    target = plan_target(plan)
    if plan.choice.build != "wheel":
        raise UsageError("exports describe wheel installs: a source build has no requirements file")
    if kind == "requirements":
        return requirements_text(target)
    if kind == "pyproject":
        return fragment_text(build_fragment([target]))
    raise ValueError(kind)
