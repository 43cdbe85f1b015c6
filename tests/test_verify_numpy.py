"""Verification no longer hides the NumPy-1.x warning: a torch that cannot use the installed NumPy
(torch 2.2.2, the last Intel Mac release, was built against NumPy 1.x) fails verify, and the
diagnosis names the fix, ``numpy<2``.

The script runs in a real venv with the real NumPy 2 wheel from PyPI (downloaded once into
``.cache/numpy-wheel``; the test skips when PyPI cannot be reached) beside a stand-in torch that
does what torch 2.2.2 does there: ``import torch`` warns "Failed to initialize NumPy: _ARRAY_API
not found" and ``torch.from_numpy`` raises "Numpy is not available" (the stand-in decides by the
real NumPy's major version). The control is the same stand-in built against NumPy 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.companions import dist_info, fake_torch_source, make_venv, site_packages
from torch_wizard.run.verify import PackageCheck, VerifyReport, diagnose, parse_report, verify_argv

REPO = Path(__file__).resolve().parent.parent
NUMPY = "2.2.6"  # a NumPy 2 with cp311 manylinux wheels

# What a torch does with NumPy, by the NumPy ABI it was built against ({built} = 1 or 2).
NUMPY_PART = """
import warnings as _warnings

_BUILT_AGAINST = {built}
try:
    import numpy as _np
    _usable = int(_np.__version__.split(".")[0]) <= _BUILT_AGAINST or _BUILT_AGAINST >= 2
except ImportError:
    _np, _usable = None, False
if _np is not None and not _usable:
    # torch/csrc/utils/tensor_numpy.cpp, as torch 2.2 reports it under NumPy 2
    _warnings.warn("Failed to initialize NumPy: _ARRAY_API not found", UserWarning)


def from_numpy(array):
    if not _usable:
        raise RuntimeError("Numpy is not available")
    return Tensor([int(x) for x in array.tolist()])
"""


def numpy_wheel() -> Path:
    cache = Path(os.environ.get("TORCH_WIZARD_TEST_CACHE", REPO / ".cache")) / "numpy-wheel"
    found = sorted(cache.glob(f"numpy-{NUMPY}-*.whl"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         "--dest", str(cache), f"numpy=={NUMPY}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    found = sorted(cache.glob(f"numpy-{NUMPY}-*.whl"))
    if r.returncode != 0 or not found:
        pytest.skip(f"the NumPy {NUMPY} wheel could not be downloaded: {r.stderr.strip()[-200:]}")
    return found[0]


def venv_with(tmp_path: Path, built_against: int) -> Path:
    python = make_venv(tmp_path / "venv")
    site = site_packages(tmp_path / "venv")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
         "--target", str(site), str(numpy_wheel())],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    (site / "torch").mkdir()
    source = fake_torch_source("2.2.2", "installed") + NUMPY_PART.format(built=built_against)
    (site / "torch" / "__init__.py").write_text(source)
    dist_info(site, "torch", "2.2.2")
    return python


def run_verify(python: Path) -> tuple[int, VerifyReport, str]:
    r = subprocess.run(
        verify_argv(str(python), "pypi", {"torch": "2.2.2"}),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    report = parse_report(r.stdout)
    assert report is not None, r.stdout + r.stderr
    return r.returncode, report, r.stderr


def test_torch_built_against_numpy1_fails_verify_with_the_fix(tmp_path: Path) -> None:
    code, report, stderr = run_verify(venv_with(tmp_path, built_against=1))
    assert code == 1 and not report.ok
    assert "Failed to initialize NumPy" in stderr  # the warning is shown, not filtered
    [numpy] = [c for c in report.checks if c.name == "numpy"]
    assert numpy.version == NUMPY and not numpy.ok
    assert "Numpy is not available" in numpy.error and "_ARRAY_API not found" in numpy.error
    lines = diagnose(report, "pypi", "2.2.2")
    assert any("numpy<2" in line and f"NumPy {NUMPY}" in line for line in lines), lines


def test_torch_built_against_numpy2_passes(tmp_path: Path) -> None:
    code, report, stderr = run_verify(venv_with(tmp_path, built_against=2))
    assert code == 0 and report.ok, (report, stderr)
    assert report.packages.get("numpy") == NUMPY
    assert not [c for c in report.checks if c.name == "numpy"]
    assert "Failed to initialize NumPy" not in stderr


def test_diagnosis_of_a_numpy_check() -> None:
    report = VerifyReport(
        ok=False,
        torch="2.2.2",
        matmul_ok=True,
        device="cpu",
        expected_device="cpu",
        checks=(
            PackageCheck("torch", "2.2.2", "2.2.2", ok=True),
            PackageCheck(
                "numpy",
                "",
                "2.2.6",
                test="torch.from_numpy",
                error="RuntimeError: Numpy is not available",
            ),
        ),
    )
    [line] = diagnose(report, "pypi")
    assert line.startswith("torch 2.2.2 cannot use the installed NumPy 2.2.6")
    assert "numpy<2" in line
