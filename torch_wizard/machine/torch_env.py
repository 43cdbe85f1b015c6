"""PyTorch already installed in the target venv.

The venv's own python runs a short script that finds torch without importing it (importing torch
takes seconds) and executes ``torch/version.py``, which holds ``__version__``, ``cuda`` and ``hip``
as plain assignments, then prints them as JSON. The venv's interpreter sees exactly the
site-packages a later ``import torch`` would.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch_wizard.machine.model import ExistingTorch
from torch_wizard.machine.root import Found, run_argv

SCRIPT = """\
import importlib.util, json, os, runpy
spec = importlib.util.find_spec("torch")
out = {}
if spec is not None and spec.submodule_search_locations:
    path = os.path.join(list(spec.submodule_search_locations)[0], "version.py")
    if os.path.isfile(path):
        ns = runpy.run_path(path)
        out = {k: ns.get(k) for k in ("__version__", "cuda", "hip")}
print(json.dumps(out))
"""


def venv_python(venv: Path) -> Path | None:
    for rel in ("bin/python", "Scripts/python.exe", "bin/python3"):
        candidate = venv / rel
        if candidate.is_file():
            return candidate
    return None


def probe_torch(target_path: str, timeout: float) -> Found[ExistingTorch]:
    venv = Path(target_path).absolute()
    python = venv_python(venv)
    if python is None:
        return Found(ExistingTorch())
    run = run_argv("python", [str(python), "-I", "-c", SCRIPT], timeout)
    if not run.ok:
        return Found(ExistingTorch(), (f"Could not look for torch in {venv}: {run.note}",))
    try:
        data = json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Found(ExistingTorch(), (f"Could not look for torch in {venv}: unexpected output.",))
    if not isinstance(data, dict) or not isinstance(data.get("__version__"), str):
        return Found(ExistingTorch())

    def text(key: str) -> str:
        value = data.get(key)
        return value if isinstance(value, str) else ""

    return Found(
        ExistingTorch(
            version=text("__version__"), location=str(venv), cuda=text("cuda"), hip=text("hip")
        )
    )
