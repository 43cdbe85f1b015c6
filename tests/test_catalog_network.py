"""The bundled catalog against live PyPI (opt in: TORCH_WIZARD_NETWORK_TESTS=1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        os.environ.get("TORCH_WIZARD_NETWORK_TESTS") != "1",
        reason="talks to pypi.org; set TORCH_WIZARD_NETWORK_TESTS=1",
    ),
]


def test_bundled_releases_match_pypi(tmp_path: Path) -> None:
    """scripts/check_catalog.py finds no mismatch (requires_python, Pythons, floors, defaults,
    companions) and knows every torch release on PyPI since 1.13."""
    proc = subprocess.run(
        [sys.executable, "scripts/check_catalog.py", "--cache", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 mismatch(es)" in proc.stdout


def test_pypi_simple_index_reads_live() -> None:
    from torch_wizard.catalog import load
    from torch_wizard.catalog.index import list_versions, platform_tags_for

    files = list_versions(
        "https://pypi.org/simple", "torch", "3.12", platform_tags_for("linux-x86_64")
    )
    newest = load().releases()[0].version
    assert files and files[0].version == newest
