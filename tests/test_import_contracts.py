"""The architecture's import rules, checked by import-linter with the suite (beside ruff and mypy
in test_quality.py): the core (machine, catalog, plan, run) never imports Textual or the UI, and
planning never imports the runner. The contracts live in pyproject.toml ([tool.importlinter]);
lazy imports inside functions count, since grimp reads every import statement.

A control copies the package into a temporary folder, adds one forbidden import to each layer,
and checks that the same contracts report exactly those arrows, so the check is seen to bite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONTRACTS = (
    "The core (machine, catalog, plan, run) never imports Textual or the UI",
    "Planning is pure: torch_wizard.plan never imports the runner or the UI",
)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    tool = BIN / "lint-imports"
    if not tool.exists():
        pytest.fail("import-linter is not installed: pip install -e '.[dev]'")
    return subprocess.run(
        [str(tool), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "LANG": "C.UTF-8"},
    )


def test_the_import_contracts_are_kept() -> None:
    proc = _lint_imports(REPO)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for name in CONTRACTS:
        assert f"{name} KEPT" in out, out


def test_a_forbidden_import_breaks_the_contracts(tmp_path: Path) -> None:
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(
        REPO / "torch_wizard",
        tmp_path / "torch_wizard",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    # A lazy import inside a function, as the two arrows this check removed were.
    (tmp_path / "torch_wizard" / "plan" / "_bad.py").write_text(
        "def f() -> None:\n    from torch_wizard.run import runner  # noqa: F401\n", "utf-8"
    )
    (tmp_path / "torch_wizard" / "machine" / "_bad.py").write_text("import textual\n", "utf-8")
    proc = _lint_imports(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Contracts: 0 kept, 2 broken." in out, out
    assert "torch_wizard.plan._bad -> torch_wizard.run.runner" in out, out
    assert "torch_wizard.machine._bad -> textual" in out, out
