"""The core never imports Textual (nor asyncio on the detect path), checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _modules(code: str) -> set[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_core_does_not_import_textual() -> None:
    mods = _modules(
        "import torch_wizard.machine, torch_wizard.catalog, torch_wizard.plan, torch_wizard.run"
    )
    assert "torch_wizard.machine" in mods
    assert not any(m == "textual" or m.startswith("textual.") for m in mods)


def test_detection_imports_stay_light() -> None:
    mods = _modules(
        "import torch_wizard.machine as m; m.detect(root='tests/fixtures/machines/cpu-server')"
    )
    heavy = {"textual", "rich", "asyncio", "psutil"}
    assert not heavy & {m.split(".")[0] for m in mods}
