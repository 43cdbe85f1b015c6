"""A local PEP 503 index holding the real torch 2.13.0 CPU wheel and its dependencies.

Laid out like download.pytorch.org: ``<root>/whl/cpu/<project>/index.html`` (plus ``pip`` so a
venv's pip can be upgraded without the internet). Built once into ``<repo>/.cache/torchindex``
(gitignored; override with ``TORCH_WIZARD_TEST_CACHE``) and reused across tests and runs; a file
lock makes concurrent xdist workers wait for one builder. Serve it with
``tests.support.httpserver.serve_directory(root)`` and use ``<url>/whl`` as ``--index-base``.

The torch wheel comes from pip's configured find-links (``/opt/wheels`` here); the dependencies
come from PyPI with ``pip download``. ``build_index`` returns None (with the reason in
``last_error``) when the wheel or the network is missing, so tests can skip with that reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from torch_wizard.files import sha256_of

REPO = Path(__file__).resolve().parents[2]
TORCH_VERSION = "2.13.0"
VARIANT = "cpu"
# The wheels only fit this interpreter family: the e2e tests skip elsewhere.
PY_TAG = "cp311"
COMPLETE = ".complete-v1"
last_error = ""


def supported_here() -> str:
    """ "" when the host can install the cached wheels, else why not."""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        return "the local torch index holds linux x86_64 wheels only"
    if sys.version_info[:2] != (3, 11):
        return "the local torch index holds cp311 wheels only"
    return ""


def cache_root() -> Path:
    env = os.environ.get("TORCH_WIZARD_TEST_CACHE")
    return Path(env) if env else REPO / ".cache" / "torchindex"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pip(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _find_torch_wheel(dest: Path) -> Path | None:
    """The torch CPU wheel: from pip's find-links (host config) via ``pip download --no-deps``."""
    # Only the local-label spec: a bare torch==2.13.0 would fetch PyPI's CUDA wheel (~900 MB).
    spec = f"torch=={TORCH_VERSION}+{VARIANT}"
    r = _pip("download", spec, "--no-deps", "--only-binary=:all:", "-d", str(dest))
    if r.returncode == 0:
        for whl in dest.glob(f"torch-{TORCH_VERSION}+{VARIANT}-{PY_TAG}-*.whl"):
            return whl
    return None


def write_simple_index(files: Path, out: Path) -> list[str]:
    """Write ``out/<project>/index.html`` (PEP 503) for every wheel in ``files``; return projects."""
    by_project: dict[str, list[Path]] = {}
    for whl in sorted(files.glob("*.whl")):
        name = str(canonicalize_name(parse_wheel_filename(whl.name)[0]))
        by_project.setdefault(name, []).append(whl)
    out.mkdir(parents=True, exist_ok=True)
    for name, wheels in by_project.items():
        pdir = out / name
        pdir.mkdir(exist_ok=True)
        links = []
        for whl in wheels:
            rel = os.path.relpath(whl, pdir)
            href = urllib.parse.quote(rel) + "#sha256=" + sha256_of(whl)
            links.append(f'<a href="{html.escape(href)}">{html.escape(whl.name)}</a><br/>')
        (pdir / "index.html").write_text(
            "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        )
    root_links = [f'<a href="{n}/">{n}</a><br/>' for n in sorted(by_project)]
    (out / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n" + "\n".join(root_links) + "\n</body></html>\n"
    )
    return sorted(by_project)


def build_index(root: Path | None = None) -> Path | None:
    """Build (once) and return the index root (serve it; ``--index-base <url>/whl``)."""
    global last_error
    reason = supported_here()
    if reason:
        last_error = reason
        return None
    root = root or cache_root()
    with _locked(root.parent / (root.name + ".lock")):
        if (root / COMPLETE).is_file():
            return root
        files = root / "files"
        files.mkdir(parents=True, exist_ok=True)
        torch = next(iter(files.glob(f"torch-{TORCH_VERSION}+{VARIANT}-*.whl")), None)
        if torch is None:
            torch = _find_torch_wheel(files)
        if torch is None:
            last_error = f"torch {TORCH_VERSION}+{VARIANT} wheel not found by pip download"
            return None
        # The dependencies, from PyPI, for exactly this wheel's platform; plus a new pip.
        r = _pip(
            "download",
            str(torch),
            "pip>=24.1",
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "-d",
            str(files),
        )
        if r.returncode != 0:
            tail = " ".join(r.stderr.strip().splitlines()[-2:])
            last_error = f"pip download of torch's dependencies failed: {tail}"
            return None
        projects = write_simple_index(files, root / "whl" / VARIANT)
        if "torch" not in projects:
            last_error = "the index has no torch project"
            return None
        (root / COMPLETE).write_text("\n".join(projects) + "\n")
        return root


def mirror_without(root: Path, dest: Path, *drop: str) -> Path:
    """A copy of the index at ``root`` (hardlinked files) without the projects ``drop``: e.g. a
    lab mirror that holds only torch's wheels, no pip. Returns the new root (serve it)."""
    files = dest / "files"
    files.mkdir(parents=True, exist_ok=True)
    dropped = {str(canonicalize_name(d)) for d in drop}
    for whl in (root / "files").glob("*.whl"):
        if str(canonicalize_name(parse_wheel_filename(whl.name)[0])) in dropped:
            continue
        target = files / whl.name
        if not target.exists():
            try:
                os.link(whl, target)
            except OSError:
                import shutil

                shutil.copy2(whl, target)
    write_simple_index(files, dest / "whl" / VARIANT)
    return dest


def fake_wheel(dest: Path, name: str, version: str) -> Path:
    """A minimal valid pure-Python wheel ``name==version`` (a module that only says where it
    came from): what a hostile index serves to win by version."""
    import zipfile

    dest.mkdir(parents=True, exist_ok=True)
    mod = re.sub(r"[^A-Za-z0-9_]", "_", name).lower()
    dist = f"{mod}-{version}"
    path = dest / f"{dist}-py3-none-any.whl"
    files = {
        f"{mod}/__init__.py": f"HOSTILE = True\n__version__ = {version!r}\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: torch-wizard-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    record = "".join(f"{n},,\n" for n in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for n, text in files.items():
            zf.writestr(n, text)
        zf.writestr(f"{dist}.dist-info/RECORD", record)
    return path


def clean_pip_env(
    base: Mapping[str, str] | None = None, cache: Path | None = None
) -> dict[str, str]:
    """No host pip/uv configuration: only the indexes given on the command line are used.

    ``cache``: a fresh (empty) cache directory for pip and uv, so every run starts cold.
    """
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if re.match(r"^(PIP_|UV_|VIRTUAL_ENV$|PYTHONPATH$)", key):
            del env[key]
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if cache is not None:
        env["PIP_CACHE_DIR"] = str(cache / "pip")
        env["UV_CACHE_DIR"] = str(cache / "uv")
        env["XDG_CACHE_HOME"] = str(cache / "xdg")
    return env


if __name__ == "__main__":  # build the cache by hand: python -m tests.support.torchindex
    path = build_index()
    print(path or last_error)
