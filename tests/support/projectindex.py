"""Tiny local PEP 503 indexes of fake wheels for project tests: a wheel per platform tag, so
``uv lock`` (which resolves for every platform at once) sees what each PyTorch index offers.

A fake wheel is a valid wheel with one module that says which build it is; it is never
imported by these tests, only resolved and locked. Lay the indexes out like the PyTorch index
base (``<root>/whl/<variant>/<project>/``) and a stand-in for PyPI (``<root>/pypi/``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.support.torchindex import write_simple_index


def fake_wheel(
    dest: Path, name: str, version: str, tag: str, requires: tuple[str, ...] = ()
) -> Path:
    """``name-version-TAG.whl`` (``tag`` like ``cp311-cp311-win_amd64``) in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    mod = name.replace("-", "_").lower()
    dist = f"{mod}-{version}"
    path = dest / f"{dist}-{tag}.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{mod}/__init__.py": f"BUILD = {version!r}\nTAG = {tag!r}\n",
        f"{dist}.dist-info/METADATA": meta,
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: torch-wizard-tests\nRoot-Is-Purelib: false\n"
            f"Tag: {tag}\n"
        ),
    }
    record = "".join(f"{n},,\n" for n in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for n, text in files.items():
            zf.writestr(n, text)
        zf.writestr(f"{dist}.dist-info/RECORD", record)
    return path


def build(root: Path, layout: dict[str, list[tuple[str, str, str]]]) -> Path:
    """``layout``: index path under ``root`` ("whl/cu126", "pypi") -> (name, version, tag) list.
    Returns ``root`` (serve it)."""
    for where, wheels in layout.items():
        files = root / "files" / where.replace("/", "_")
        for name, version, tag in wheels:
            fake_wheel(files, name, version, tag)
        write_simple_index(files, root / where)
    return root
