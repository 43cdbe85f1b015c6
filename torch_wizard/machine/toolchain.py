"""Build tools: path and normalised version from ``TOOL --version`` (``-v`` is never used).

Tools are looked up with ``Root.which`` (the host's ``PATH``; a fixture root's ``DIR/bin`` only).
uv on the host is also found where torch-wizard's own environment keeps it, since pipx inject,
``uv tool install --with uv`` and a plain ``pip install uv`` in a venv put it there and not on
``PATH``. Candidates, best first (``uv_candidates``):

1. ``uv`` on ``PATH``: the one the user installed, maintains, and runs by hand;
2. beside the running interpreter (``Path(sys.executable).parent / "uv"``): the wizard's own venv;
3. the ``uv`` package's ``uv.find_uv_bin()``, when that package is importable (``pip install
   --target``, ``--user`` and other layouts where the binary is not beside the interpreter).

The first that answers ``--version`` with at least ``MIN_UV`` is taken: an older or broken uv on
``PATH`` would fail on the flags the plan passes (``--no-config``, ``--no-python-downloads``), so
it gives way to the wizard's own (with a note). When none qualifies, the first is reported as is.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

from torch_wizard.machine.model import Tool
from torch_wizard.machine.root import Found, Root, ToolRun, run_argv

TOOLS = ("git", "cmake", "ninja", "gcc", "g++", "clang", "nvcc", "hipcc", "ccache", "uv")

_NUM = r"(\d+\.\d+(?:\.\d+)*)"
# Per tool, patterns tried in order; the first group of the first match is the version.
_PATTERNS: dict[str, tuple[str, ...]] = {
    # "Cuda compilation tools, release 12.4, V12.4.131"
    "nvcc": (r"\bV" + _NUM, r"release " + _NUM),
    # "HIP version: 6.4.43483-a187df25c"
    "hipcc": (r"HIP version:\s*" + _NUM,),
    # "gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0" / "gcc (GCC) 13.2.1 20230801"; macOS: clang
    "gcc": (r"^\S+ \([^)]*\) " + _NUM, r"version " + _NUM),
    "g++": (r"^\S+ \([^)]*\) " + _NUM, r"version " + _NUM),
    # "1.11.1"
    "ninja": (r"^" + _NUM,),
    # "uv 0.5.11 (c4d0caaee 2024-12-19)"
    "uv": (r"^uv " + _NUM,),
}
_DEFAULT = (r"version\s+v?" + _NUM, _NUM)


def parse_version(name: str, text: str) -> str:
    for pattern in _PATTERNS.get(name, ()) + _DEFAULT:
        m = re.search(pattern, text.strip(), re.MULTILINE)
        if m:
            return m.group(1)
    return ""


def _probe_at(name: str, path: str, timeout: float) -> tuple[Found[Tool], ToolRun]:
    run = run_argv(name, [path, "--version"], timeout)
    if run.status == "timeout":
        return Found(Tool(name, path), (run.note,)), run
    version = parse_version(name, run.stdout or run.stderr) if run.ok else ""
    return Found(Tool(name, path, version)), run


def probe_tool(root: Root, name: str, timeout: float) -> Found[Tool]:
    if name == "uv":
        return probe_uv(root, timeout)
    path = root.which(name)
    if path is None:
        return Found(Tool(name))
    return _probe_at(name, path, timeout)[0]


# ------------------------------------------------------------------------------------ uv

# The oldest uv the plan's flags are tested with (pyproject's dependency: uv>=0.5).
MIN_UV = (0, 5)


def _package_uv() -> str:
    """``uv.find_uv_bin()`` of the running interpreter, or "" (no uv package, or no binary)."""
    try:
        module = importlib.import_module("uv")
        find = getattr(module, "find_uv_bin", None)
        return str(find()) if callable(find) else ""
    except Exception:  # ImportError, uv's UvNotFound (a FileNotFoundError), a broken install
        return ""


def uv_candidates(root: Root) -> list[str]:
    """Where uv is, best first, each once: see the module docstring. A fixture root: DIR/bin."""
    first = root.which("uv")
    if not root.is_host:
        return [first] if first else []
    exe = "uv.exe" if sys.platform == "win32" else "uv"
    beside = Path(sys.executable).parent / exe
    found = [
        first or "",
        str(beside) if beside.is_file() and os.access(beside, os.X_OK) else "",
        _package_uv(),
    ]
    out: list[str] = []
    seen: set[str] = set()
    for path in found:
        if not path:
            continue
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append(os.path.abspath(path))
    return out


def uv_new_enough(version: str) -> bool:
    """Is a uv of ``version`` new enough for the plan's flags? An unknown version passes."""
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    return not parts or parts >= MIN_UV


_new_enough = uv_new_enough


def probe_uv(root: Root, timeout: float) -> Found[Tool]:
    """The uv the plan will name: the first candidate that runs and is at least ``MIN_UV``."""
    least = ".".join(map(str, MIN_UV))
    first: Found[Tool] | None = None
    passed_over: list[str] = []
    for path in uv_candidates(root):
        found, run = _probe_at("uv", path, timeout)
        first = first or found
        version = found.value.version
        if run.ok and _new_enough(version):
            if not passed_over:
                return found
            note = (
                f"uv: passed over {'; '.join(passed_over)}; the plan uses uv "
                f"{version or '(version unknown)'} at {path}."
            )
            return Found(found.value, (*found.notes, note))
        passed_over.append(
            f"{path} (uv {version}, older than {least})" if run.ok else f"{path} (does not run)"
        )
    if first is None:
        return Found(Tool("uv"))
    if first.value.version and not _new_enough(first.value.version):
        note = (
            f"uv {first.value.version} at {first.value.path} is older than {least}, which the "
            "plan's uv flags need: upgrade it (pip install -U uv) or use --installer pip."
        )
        return Found(first.value, (*first.notes, note))
    return first
