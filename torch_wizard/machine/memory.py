"""RAM: ``proc/meminfo`` MemTotal/MemAvailable (Linux, host or fixture root); on other hosts
``sysctl hw.memsize`` (macOS) or psutil, imported only there."""

from __future__ import annotations

from torch_wizard.machine.model import MemoryInfo, OSName
from torch_wizard.machine.root import Found, Root


def parse_meminfo(text: str) -> MemoryInfo:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if not sep or not parts or not parts[0].isdigit():
            continue
        scale = 1024 if len(parts) > 1 and parts[1].lower() == "kb" else 1
        values[key.strip()] = int(parts[0]) * scale
    total = values.get("MemTotal", 0)
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return MemoryInfo(total=total, available=available)


def probe_memory(root: Root, os_name: OSName, timeout: float) -> Found[MemoryInfo]:
    text = root.read("proc/meminfo")
    if text is not None:
        info = parse_meminfo(text)
        if info.total:
            return Found(info)
        return Found(MemoryInfo(), ("proc/meminfo has no MemTotal line; RAM is unknown.",))
    if os_name == "macos":
        run = root.run_tool("sysctl", ["-n", "hw.memsize"], timeout)
        if run.ok and run.stdout.strip().isdigit():
            return Found(MemoryInfo(total=int(run.stdout.strip())))
    if root.is_host:
        try:
            import psutil  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            return Found(MemoryInfo(), ("RAM is unknown (no /proc/meminfo and no psutil).",))
        vm = psutil.virtual_memory()
        return Found(MemoryInfo(total=int(vm.total), available=int(vm.available)))
    return Found(MemoryInfo())
