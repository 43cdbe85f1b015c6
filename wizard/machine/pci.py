"""PCI display devices from ``sys/bus/pci/devices/*/{class,vendor,device}`` (Linux sysfs).

A display controller has a class code 0x03xxxx (PCI Code and ID Assignment Specification,
base class 03h). Vendors: 0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.machine.root import Root

PCI_DIR = "sys/bus/pci/devices"


@dataclass(frozen=True)
class PCIDevice:
    address: str  # "0000:01:00.0"
    vendor: str  # "10de", lower-case hex without 0x
    device: str  # "2684"
    pci_class: str  # "030000"

    @property
    def pci_id(self) -> str:
        return f"{self.vendor}:{self.device}"


def _hex(text: str | None) -> str:
    value = (text or "").strip().lower()
    return value[2:] if value.startswith("0x") else value


def display_devices(root: Root) -> list[PCIDevice]:
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
            )
        )
    return out
