"""scripts/check_catalog.py --index-base: which backends of the newest release a mirror really has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.httpserver import serve_directory
from torch_wizard import catalog

REPO = Path(__file__).resolve().parent.parent


def _page(root: Path, variant: str, files: list[str]) -> None:
    d = root / "whl" / variant / "torch"
    d.mkdir(parents=True)
    links = "".join(f'<a href="../../../files/{f}">{f}</a>\n' for f in files)
    (d / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")


def test_mirror_missing_a_backend_is_reported(tmp_path: Path) -> None:
    newest = catalog.load().releases()[0]
    variants = newest.variants("linux-x86_64")
    assert "cpu" in variants
    _page(tmp_path, "cpu", [f"torch-{newest.version}+cpu-cp312-cp312-manylinux_2_28_x86_64.whl"])
    with serve_directory(tmp_path) as url:
        proc = subprocess.run(
            [sys.executable, "scripts/check_catalog.py", "--index-base", f"{url}/whl"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if ln.strip()}
    assert "ok" in lines["cpu"], proc.stdout
    others = [v for v in variants if v != "cpu"]
    assert others and all("MISSING" in lines[v] for v in others), proc.stdout
    assert proc.returncode == 1


# ---------------------------------------------------------------------------------------------
# The refresh path: the index's all-variants page against the catalog (a new build shows up)


def _all_variants_page(root: Path, files: list[str]) -> None:
    """``root/whl/torch/index.html``: a PEP 503 page like https://download.pytorch.org/whl/torch/
    (every variant's wheels on one page, the variant in each wheel's local label)."""
    d = root / "whl" / "torch"
    d.mkdir(parents=True)
    links = "".join(f'<a href="../../files/{f.replace("+", "%2B")}">{f}</a>\n' for f in files)
    (d / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")


def _missing_builds(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "scripts/check_catalog.py",
            "--index-base",
            f"{url}/whl",
            "--missing-builds",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _known_wheels() -> list[str]:
    """Wheels of builds the bundled catalog has: 2.15.0 cpu/cu130 on Linux x86_64, 2.9.1+cu129 on
    Linux aarch64, 2.13.0 cpu on Windows ARM64 for the recorded Pythons, 2.15.0 for macOS."""
    cat = catalog.load()
    r215, r291, r213 = cat.release("2.15.0"), cat.release("2.9.1"), cat.release("2.13.0")
    assert r215 is not None and r291 is not None and r213 is not None
    assert {"cpu", "cu130"} <= set(r215.variants("linux-x86_64"))
    assert "cu129" in r291.variants("linux-aarch64")
    wheels = [
        "torch-2.15.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",
        "torch-2.15.0+cu130-cp312-cp312-manylinux_2_28_x86_64.whl",
        "torch-2.15.0+cu130-cp314-cp314t-manylinux_2_28_x86_64.whl",
        "torch-2.9.1+cu129-cp310-cp310-manylinux_2_28_aarch64.whl",
        "torch-2.15.0-cp312-none-macosx_14_0_arm64.whl",
        "torchvision-0.29.2+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",  # not torch: ignored
    ]
    wheels += [
        f"torch-2.13.0+cpu-cp{p.replace('.', '')}-cp{p.replace('.', '')}-win_arm64.whl"
        for p in r213.pythons_for("windows-arm64")
    ]
    return [w for w in wheels if w.startswith("torch-")]


def test_an_index_with_only_known_builds_reports_nothing(tmp_path: Path) -> None:
    _all_variants_page(tmp_path, _known_wheels())
    with serve_directory(tmp_path) as url:
        proc = _missing_builds(url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        proc.stdout.strip()
        .splitlines()[-1]
        .endswith("0 missing from or differing with the catalog")
    )


def test_a_new_build_on_the_index_is_reported_with_the_fix(tmp_path: Path) -> None:
    """The next CUDA (here a cu134 build of 2.15.0) is one command away: the script names it."""
    cat = catalog.load()
    assert "cu134" not in cat.release("2.15.0").variants("linux-x86_64")  # type: ignore[union-attr]
    extra = [
        "torch-2.15.0+cu134-cp312-cp312-manylinux_2_28_x86_64.whl",
        "torch-2.15.0+cu134-cp313-cp313-manylinux_2_28_x86_64.whl",
        "torch-2.13.0+cpu-cp314-cp314-win_arm64.whl",  # Windows ARM64 gains a Python
    ]
    _all_variants_page(tmp_path, _known_wheels() + extra)
    with serve_directory(tmp_path) as url:
        proc = _missing_builds(url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == (
        "2.13.0 cpu windows-arm64: the index has Python 3.11, 3.12, 3.13, 3.14, the catalog "
        "records 3.11, 3.12, 3.13"
    )
    assert lines[1].startswith("2.15.0 cu134 linux-x86_64: on the index (Python 3.12, 3.13), ")
    assert "add 'cu134' to variants['linux-x86_64'] of 2.15.0" in lines[1]
    assert lines[-1].endswith(": 2 missing from or differing with the catalog")


def test_missing_builds_needs_an_index() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/check_catalog.py", "--missing-builds"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "--missing-builds needs --index-base" in proc.stderr
