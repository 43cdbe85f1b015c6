"""scripts/check_catalog.py --index-base: which backends of the newest release a mirror really has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.httpserver import serve_directory
from wizard import catalog

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
