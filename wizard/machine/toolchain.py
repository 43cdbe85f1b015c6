"""Build tools: path and normalised version from ``TOOL --version`` (``-v`` is never used)."""

from __future__ import annotations

import re

from wizard.machine.model import Tool
from wizard.machine.root import Found, Root

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


def probe_tool(root: Root, name: str, timeout: float) -> Found[Tool]:
    path = root.which(name)
    if path is None:
        return Found(Tool(name))
    run = root.run_tool(name, ["--version"], timeout)
    if run.status == "timeout":
        return Found(Tool(name, path), (run.note,))
    version = parse_version(name, run.stdout or run.stderr) if run.ok else ""
    return Found(Tool(name, path, version))
