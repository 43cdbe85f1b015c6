"""Apple: on macOS arm64 the machine is Apple silicon and the PyTorch wheels on PyPI use MPS.

The chip name comes from ``sysctl -n machdep.cpu.brand_string`` ("Apple M2 Pro"); the GPUs from
``system_profiler SPDisplaysDataType -json`` (system_profiler(8); run with the detection timeout):
``SPDisplaysDataType`` is a list of adapters with ``sppci_model`` ("Apple M2 Pro", "AMD Radeon Pro
5500M"), ``sppci_cores`` (Apple GPUs: the core count, as a string) and ``spdisplays_vendor``
("sppci_vendor_Apple"). An Apple adapter names the chip when sysctl cannot.
"""

from __future__ import annotations

import json

from torch_wizard.machine.model import AppleInfo, Arch, OSName
from torch_wizard.machine.root import Found, Root


def probe_apple(root: Root, os_name: OSName, arch: Arch, timeout: float) -> Found[AppleInfo]:
    if os_name != "macos":
        return Found(AppleInfo())
    run = root.run_tool("sysctl", ["-n", "machdep.cpu.brand_string"], timeout)
    chip = run.stdout.strip().splitlines()[0].strip() if run.ok and run.stdout.strip() else ""
    notes: tuple[str, ...] = ()
    if run.status in ("failed", "timeout"):
        notes = (run.note,)
    gpu, apple_chip, note = displays(root, timeout)
    chip = chip or apple_chip
    if note:
        notes += (note,)
    silicon = arch == "arm64" or chip.startswith("Apple")
    if silicon and arch != "arm64":
        notes += (
            f"This Python runs as {arch} on Apple silicon ({chip}), i.e. under Rosetta: "
            "use an arm64 Python for current PyTorch wheels and MPS.",
        )
    return Found(AppleInfo(silicon=silicon, chip=chip, gpu=gpu), notes)


def parse_displays(text: str) -> tuple[str, str] | None:
    """("Apple M2 Pro (19-core GPU)", "Apple M2 Pro") from system_profiler's JSON; None if not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    rows = data.get("SPDisplaysDataType") if isinstance(data, dict) else None
    names: list[str] = []
    apple = ""
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        model = str(row.get("sppci_model") or row.get("_name") or "").strip()
        if not model:
            continue
        cores = str(row.get("sppci_cores") or "").strip()
        names.append(f"{model} ({cores}-core GPU)" if cores.isdigit() else model)
        if "apple" in str(row.get("spdisplays_vendor") or "").lower() or model.startswith("Apple"):
            apple = apple or model
    return ", ".join(names), apple


def displays(root: Root, timeout: float) -> tuple[str, str, str]:
    """(GPUs, Apple chip, note) from system_profiler; a missing tool is no news."""
    if root.which("system_profiler") is None:
        return "", "", ""
    run = root.run_tool("system_profiler", ["SPDisplaysDataType", "-json"], timeout)
    if not run.ok:
        return "", "", run.note
    parsed = parse_displays(run.stdout)
    if parsed is None:
        return "", "", "system_profiler SPDisplaysDataType -json printed no JSON; GPUs unknown."
    return parsed[0], parsed[1], ""
