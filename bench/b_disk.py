"""5. Disk: the CPU plan's venv vs what a bare ``pip install torch`` pulls on Linux x86_64 (PyPI).

The PyPI side is resolved with ``pip install --dry-run --report`` for Linux x86_64 / CPython 3.11
(no host config), file sizes come from the PyPI JSON API (or a HEAD request), and unpacked sizes
from each wheel's zip central directory read with HTTP range requests (nothing is downloaded in
full). The result is cached in ``bench/cache/pypi-torch-linux-x86_64.json`` so re-runs need no
network; when offline the cache is used.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH,
    PY,
    Context,
    NotAvailable,
    Row,
    fmt_mb,
    scratch,
)
from tests.support.torchindex import clean_pip_env
from torch_wizard.catalog.remote import RemoteFile

SECTION = "5. Disk"
CACHE = BENCH / "cache" / "pypi-torch-linux-x86_64.json"
LOCAL_TORCH = "2.13.0"
# pip 23 takes --platform literally (no manylinux expansion), so list every glibc level.
PLATFORMS = [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
UA = {"User-Agent": "torch-wizard-bench/0.1"}


# ------------------------------------------------------------------------------------------------
# The venv


def venv_bytes(venv: Path) -> int:
    """Apparent size of every file under ``venv`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(venv):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def installed_dists(venv: Path) -> dict[str, str]:
    """name -> version of what is installed in ``venv`` (from its .dist-info directories)."""
    from packaging.utils import canonicalize_name

    out: dict[str, str] = {}
    for meta in venv.glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = meta.name[: -len(".dist-info")].partition("-")
        out[str(canonicalize_name(name))] = version
    return out


# ------------------------------------------------------------------------------------------------
# Remote wheels


def unpacked_size(source: str | Path, size: int = 0) -> int:
    """Sum of the uncompressed sizes of a wheel's members (what it takes once installed)."""
    if isinstance(source, Path):
        with zipfile.ZipFile(source) as zf:
            return sum(i.file_size for i in zf.infolist())
    raw = RemoteFile(source, size, headers=UA)
    with zipfile.ZipFile(io.BufferedReader(raw, buffer_size=256 * 1024)) as zf:
        return sum(i.file_size for i in zf.infolist())


def _json(url: str) -> Any:
    req = urllib.request.Request(url, headers={**UA, "Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (https URLs from PyPI)
        return json.load(resp)


def file_size(name: str, version: str, url: str) -> int:
    filename = url.rsplit("/", 1)[-1].split("#")[0]
    try:
        for f in _json(f"https://pypi.org/pypi/{name}/{version}/json").get("urls", []):
            if f.get("filename") == filename and f.get("size"):
                return int(f["size"])
    except (OSError, ValueError):
        pass
    req = urllib.request.Request(url, method="HEAD", headers=UA)  # noqa: S310
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (https URLs from PyPI)
        return int(resp.headers["Content-Length"])


def resolve_pypi(version: str, tmp: Path) -> dict[str, Any]:
    report = tmp / f"report-{version}.json"
    args = [
        PY,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--report",
        str(report),
        f"torch=={version}",
        "--python-version",
        "3.11",
        "--only-binary=:all:",
        "--target",
        str(tmp / "target"),
        "--index-url",
        "https://pypi.org/simple",
    ]
    for plat in PLATFORMS:
        args += ["--platform", plat]
    p = subprocess.run(
        args, capture_output=True, text=True, env=clean_pip_env(), check=False, timeout=600
    )
    if p.returncode != 0:
        raise RuntimeError(" | ".join(p.stderr.strip().splitlines()[-2:]))
    data = json.loads(report.read_text())
    wheels = []
    for item in data["install"]:
        name, ver = item["metadata"]["name"], item["metadata"]["version"]
        url = item["download_info"]["url"]
        size = file_size(name, ver, url)
        wheels.append(
            {
                "name": name,
                "version": ver,
                "file": url.rsplit("/", 1)[-1],
                "url": url,
                "size": size,
                "unpacked": unpacked_size(url, size),
            }
        )
    return {"torch": version, "pip": data.get("pip_version", ""), "wheels": wheels}


def pypi_sizes(ctx: Context, versions: list[str]) -> dict[str, dict[str, Any]]:
    cache: dict[str, Any] = {}
    if CACHE.exists():
        cache = json.loads(CACHE.read_text())
    out = {}
    for v in versions:
        if v in cache.get("resolved", {}):
            out[v] = cache["resolved"][v]
            continue
        try:
            with scratch(ctx, "pypi") as tmp:
                out[v] = resolve_pypi(v, tmp)
        except (OSError, RuntimeError, ValueError) as err:
            ctx.note(f"- PyPI resolution of torch=={v} failed ({err}); no cached copy")
            continue
        cache.setdefault("resolved", {})[v] = out[v]
        cache["note"] = (
            "pip install --dry-run --report for Linux x86_64, CPython 3.11, "
            "against https://pypi.org/simple; sizes from the PyPI JSON API, "
            "unpacked sizes from each wheel's zip central directory"
        )
        cache.setdefault("resolved_at", {})[v] = time.strftime("%Y-%m-%d")
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return out


def newest_torch() -> str:
    try:
        return str(_json("https://pypi.org/pypi/torch/json")["info"]["version"])
    except (OSError, ValueError, KeyError):
        if CACHE.exists():
            cached = json.loads(CACHE.read_text()).get("newest", "")
            if cached:
                return str(cached)
        raise NotAvailable("PyPI unreachable and no cached resolution") from None


# ------------------------------------------------------------------------------------------------
# The local CPU wheels


def local_wheels(dists: dict[str, str]) -> list[dict[str, Any]]:
    """The wheels of the local CPU index that the CPU plan installed (pip itself left out)."""
    from packaging.utils import canonicalize_name, parse_wheel_filename

    from tests.support import torchindex

    root = torchindex.build_index()
    if root is None:
        raise NotAvailable(f"local torch index: {torchindex.last_error}")
    out = []
    for whl in sorted((root / "files").glob("*.whl")):
        name, ver, _, _ = parse_wheel_filename(whl.name)
        key = str(canonicalize_name(name))
        if key == "pip" or (dists and key not in dists):
            continue
        out.append(
            {
                "name": key,
                "version": str(ver),
                "size": whl.stat().st_size,
                "unpacked": unpacked_size(whl),
            }
        )
    return out


def run(ctx: Context) -> list[Row]:
    from bench.b_install import LAST_VENV

    rows: list[Row] = []
    newest = newest_torch()
    if CACHE.exists():
        data = json.loads(CACHE.read_text())
        if data.get("newest") != newest:
            data["newest"] = newest
            CACHE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    else:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps({"newest": newest}) + "\n")
    pypi = pypi_sizes(ctx, sorted({newest, LOCAL_TORCH}))
    dists = dict(LAST_VENV.get("dists", {}))
    cpu = local_wheels(dists)
    cpu_dl = sum(w["size"] for w in cpu)
    cpu_un = sum(w["unpacked"] for w in cpu)
    rows.append(
        Row(
            SECTION,
            f"CPU plan (torch {LOCAL_TORCH}+cpu): wheels downloaded",
            fmt_mb(cpu_dl),
            "",
            "",
            "",
            f"{len(cpu)} wheels",
        )
    )
    rows.append(Row(SECTION, "CPU plan: wheels unpacked", fmt_mb(cpu_un)))
    if LAST_VENV.get("bytes"):
        rows.append(
            Row(
                SECTION,
                f"CPU plan: whole venv on disk (installer {LAST_VENV['installer']})",
                fmt_mb(LAST_VENV["bytes"]),
            )
        )
    else:
        rows.append(
            Row(
                SECTION,
                "CPU plan: whole venv on disk",
                status="not measured: needs section 4 in the same run",
            )
        )
    for v, res in sorted(pypi.items()):
        dl = sum(w["size"] for w in res["wheels"])
        un = sum(w["unpacked"] for w in res["wheels"])
        label = f"bare pip install torch=={v} (PyPI, Linux x86_64)"
        rows.append(
            Row(
                SECTION,
                f"{label}: download",
                fmt_mb(dl),
                "CPU plan download",
                f"{dl / cpu_dl:.1f}x",
                "",
                f"{len(res['wheels'])} wheels",
            )
        )
        rows.append(
            Row(
                SECTION,
                f"{label}: unpacked",
                fmt_mb(un),
                "CPU plan unpacked",
                f"{un / cpu_un:.1f}x",
            )
        )
        big = sorted(res["wheels"], key=lambda w: -w["unpacked"])[:4]
        ctx.note(
            f"- torch=={v} from PyPI on Linux x86_64 pulls {len(res['wheels'])} wheels; "
            "largest unpacked: " + ", ".join(f"{w['name']} {fmt_mb(w['unpacked'])}" for w in big)
        )
    return rows


if __name__ == "__main__":
    c = Context(quick=True, reps_fast=3, reps_slow=1, tmp=Path("/tmp"))
    for r in run(c):
        print(r)
