"""Wheels for installing torch-wizard itself with no index: its runtime dependencies (from PyPI,
once, cached in ``<repo>/.cache/labwheels``, like the torch index of ``torchindex``) and a wheel of
this checkout built offline from them. The lab playbook test installs torch-wizard on "a lab
host" from these with ``pip install --no-index --find-links``.

``tool_wheels(dest)`` returns (the torch-wizard wheel, the find-links folder), or None with the
reason in ``last_error`` (no network the first time, say), so tests can skip with it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.torchindex import REPO, _locked, cache_root, clean_pip_env

COMPLETE = ".complete-v1"
last_error = ""


def _requirements() -> list[str]:
    """torch-wizard's runtime dependencies for this Python, from pyproject.toml, and the build
    backend (so the wheel builds offline)."""
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = [
        d
        for d in project["project"]["dependencies"]
        if Requirement(d).marker is None or Requirement(d).marker.evaluate()  # type: ignore[union-attr]
    ]
    return [*deps, *project["build-system"]["requires"]]


def _pip(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True, text=True, timeout=timeout, env=clean_pip_env(), check=False,
    )  # fmt: skip


def tool_wheels(dest: Path) -> tuple[Path, Path] | None:
    global last_error
    links = cache_root().parent / "labwheels"
    wanted = "\n".join(sorted(_requirements())) + "\n"
    with _locked(links.parent / "labwheels.lock"):
        marker = links / COMPLETE
        if not marker.is_file() or marker.read_text() != wanted:
            links.mkdir(parents=True, exist_ok=True)
            r = _pip("download", "--only-binary=:all:", "-d", str(links), *_requirements())
            if r.returncode != 0:
                last_error = "pip download of torch-wizard's dependencies failed: " + " ".join(
                    r.stderr.strip().splitlines()[-2:]
                )
                return None
            marker.write_text(wanted)
    dest.mkdir(parents=True, exist_ok=True)
    r = _pip("wheel", "--no-deps", "--no-index", "--find-links", str(links), "-w", str(dest),
             str(REPO))  # fmt: skip
    wheel = next(iter(dest.glob("torch_wizard-*.whl")), None)
    if r.returncode != 0 or wheel is None:
        last_error = "building the torch-wizard wheel failed: " + r.stderr.strip()[-400:]
        return None
    return wheel, links
