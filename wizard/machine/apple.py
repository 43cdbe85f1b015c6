"""Apple: on macOS arm64 the machine is Apple silicon and the PyTorch wheels on PyPI use MPS.

The chip name comes from ``sysctl -n machdep.cpu.brand_string`` ("Apple M2 Pro").
"""

from __future__ import annotations

from wizard.machine.model import AppleInfo, Arch, OSName
from wizard.machine.root import Found, Root


def probe_apple(root: Root, os_name: OSName, arch: Arch, timeout: float) -> Found[AppleInfo]:
    if os_name != "macos":
        return Found(AppleInfo())
    run = root.run_tool("sysctl", ["-n", "machdep.cpu.brand_string"], timeout)
    chip = run.stdout.strip().splitlines()[0].strip() if run.ok and run.stdout.strip() else ""
    notes: tuple[str, ...] = ()
    if run.status in ("failed", "timeout"):
        notes = (run.note,)
    silicon = arch == "arm64" or chip.startswith("Apple")
    if silicon and arch != "arm64":
        notes += (
            f"This Python runs as {arch} on Apple silicon ({chip}), i.e. under Rosetta: "
            "use an arm64 Python for current PyTorch wheels and MPS.",
        )
    return Found(AppleInfo(silicon=silicon, chip=chip), notes)
