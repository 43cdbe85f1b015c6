"""Machine detection: probe the host (or a fixture machine root) into a ``Machine`` profile.

API contract:
- ``detect(root=None, target_path=".venv", timeout=3.0) -> Machine``: probe everything. ``root``
  (a directory) makes every file read happen under it and every tool lookup happen only in
  ``root/bin`` (see shared/design.md, "Fixture machine roots"). Never raises for a failing,
  missing, hanging or garbage-printing tool: such findings go to ``Machine.notes``.
- ``apply_overrides(machine, **overrides) -> Machine``: --os/--arch/--python/--nvidia-driver/
  --compute-capability/--amd-arch from the CLI.
- ``load_profile(path) -> Machine`` / ``dump_profile(machine) -> dict``: the ``detect --json`` form.
"""

from __future__ import annotations

from wizard.machine.model import (
    AMDGPU,
    AMDInfo,
    AppleInfo,
    BoardInfo,
    CPUInfo,
    DiskInfo,
    ExistingTorch,
    IntelGPU,
    Machine,
    MemoryInfo,
    NvidiaGPU,
    NvidiaInfo,
    OSInfo,
    PythonInfo,
    Tool,
)

__all__ = [
    "AMDGPU",
    "AMDInfo",
    "AppleInfo",
    "BoardInfo",
    "CPUInfo",
    "DiskInfo",
    "ExistingTorch",
    "IntelGPU",
    "Machine",
    "MemoryInfo",
    "NvidiaGPU",
    "NvidiaInfo",
    "OSInfo",
    "PythonInfo",
    "Tool",
]
