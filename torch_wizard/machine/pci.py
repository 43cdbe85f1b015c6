"""PCI display devices: Linux sysfs, or the video controller list on Windows.

Linux: ``sys/bus/pci/devices/*/{class,vendor,device}`` and the ``driver`` link (the kernel driver
bound to the device, e.g. ``../../../bus/pci/drivers/nouveau``; Documentation/ABI/testing/
sysfs-bus-pci). A display controller has a class code 0x03xxxx (PCI Code and ID Assignment
Specification, base class 03h). Vendors: 0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel.

Windows has no sysfs: the video controllers come from CIM (``Get-CimInstance -ClassName
Win32_VideoController``, Microsoft's Win32_VideoController class: ``Name``, ``PNPDeviceID``,
``DriverVersion``, ``AdapterRAM``) as JSON (``ConvertTo-Json``: one object for one controller, a
list for several). A PCI device's ``PNPDeviceID`` is ``PCI\\VEN_vvvv&DEV_dddd&SUBSYS_...&REV_rr\\...``
(Microsoft, "Identifiers for PCI Devices"); others (the Basic Display Adapter, remote displays)
are not on the PCI bus and are skipped. PowerShell runs with the detection timeout.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from torch_wizard.machine.root import Found, Root

PCI_DIR = "sys/bus/pci/devices"
CIM_QUERY = (
    "Get-CimInstance -ClassName Win32_VideoController | "
    "Select-Object Name,PNPDeviceID,DriverVersion,AdapterRAM | ConvertTo-Json -Compress"
)
POWERSHELL_ARGS = ["-NoProfile", "-NonInteractive", "-Command", CIM_QUERY]
_PNP = re.compile(r"^PCI\\VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})", re.IGNORECASE)


@dataclass(frozen=True)
class PCIDevice:
    address: str  # "0000:01:00.0" (Windows: the PNPDeviceID)
    vendor: str  # "10de", lower-case hex without 0x
    device: str  # "2684"
    pci_class: str  # "030000"
    driver: str = ""  # the bound kernel driver ("nvidia", "nouveau", "amdgpu"); "" when none
    name: str = ""  # the OS's name for it (Windows); "" on Linux
    driver_version: str = ""  # Windows DriverVersion ("31.0.24033.1003")

    @property
    def pci_id(self) -> str:
        return f"{self.vendor}:{self.device}"


Devices = Callable[[], list[PCIDevice]]


def _hex(text: str | None) -> str:
    value = (text or "").strip().lower()
    return value[2:] if value.startswith("0x") else value


def _driver(root: Root, base: str) -> str:
    try:
        return os.path.basename(os.readlink(root.path(f"{base}/driver")))
    except OSError:
        return ""


def display_devices(root: Root) -> list[PCIDevice]:
    """Display-class PCI devices from sysfs (Linux)."""
    out: list[PCIDevice] = []
    for address in root.listdir(PCI_DIR):
        base = f"{PCI_DIR}/{address}"
        cls = _hex(root.read(f"{base}/class"))
        if not cls.startswith("03"):
            continue
        out.append(
            PCIDevice(
                address=address,
                vendor=_hex(root.read(f"{base}/vendor")),
                device=_hex(root.read(f"{base}/device")),
                pci_class=cls,
                driver=_driver(root, base),
            )
        )
    return out


def parse_cim(text: str) -> tuple[list[PCIDevice], bool]:
    """PCI video controllers from the CIM query's JSON, and whether the text was JSON at all."""
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        return [], False
    items = data if isinstance(data, list) else [data]
    out: list[PCIDevice] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        pnp = str(item.get("PNPDeviceID") or "")
        m = _PNP.match(pnp)
        if not m:
            continue
        out.append(
            PCIDevice(
                address=pnp,
                vendor=m.group(1).lower(),
                device=m.group(2).lower(),
                pci_class="030000",
                name=str(item.get("Name") or "").strip(),
                driver_version=str(item.get("DriverVersion") or "").strip(),
            )
        )
    return out, True


def windows_devices(root: Root, timeout: float) -> Found[list[PCIDevice]]:
    if root.which("powershell") is None:
        return Found([], ("PowerShell was not found, so the GPUs could not be listed.",))
    run = root.run_tool("powershell", POWERSHELL_ARGS, timeout)
    if not run.ok:
        return Found([], (run.note,) if run.note else ())
    devices, parsed = parse_cim(run.stdout)
    if not parsed:
        line = run.stdout.strip().splitlines()[:1]
        return Found([], (f"The video controller list is not JSON: {line[0][:80]!r}.",))
    return Found(devices)


def probe_display(root: Root, os_name: str, timeout: float) -> Found[list[PCIDevice]]:
    """The display devices of the target: sysfs on Linux, CIM on Windows, none on macOS."""
    if os_name == "windows":
        return windows_devices(root, timeout)
    if os_name == "macos":
        return Found([])
    return Found(display_devices(root))


def devices_of(root: Root, devices: Devices | None, vendor: str) -> list[PCIDevice]:
    return [d for d in (devices() if devices else display_devices(root)) if d.vendor == vendor]
