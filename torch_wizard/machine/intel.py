"""Intel GPUs: PCI display devices (class 0x03xxxx) with vendor 0x8086.

Discrete when the device id is in ``DISCRETE``; integrated graphics otherwise. The ids are those
of the Linux kernel's ``include/drm/intel/pciids.h`` (formerly ``i915_pciids.h``) groups for
discrete parts: DG1 (``INTEL_DG1_IDS``), DG2 / Arc A-series (``INTEL_DG2_G10/G11/G12_IDS``),
ATS-M / Data Center GPU Flex (``INTEL_ATS_M_IDS``), Ponte Vecchio / Data Center GPU Max
(``INTEL_PVC_IDS``) and Battlemage / Arc B-series (``INTEL_BMG_IDS``), as of Linux 6.16.
"""

from __future__ import annotations

from torch_wizard.machine.model import IntelGPU
from torch_wizard.machine.pci import Devices, PCIDevice, devices_of
from torch_wizard.machine.root import Found, Root

INTEL_VENDOR = "8086"

# fmt: off
_FAMILIES: dict[str, tuple[str, ...]] = {
    "Intel Iris Xe MAX / DG1": ("4905", "4906", "4907", "4908", "4909"),
    "Intel Arc A-series (DG2)": (
        "5690", "5691", "5692", "56a0", "56a1", "56a2", "56be", "56bf",  # G10
        "5693", "5694", "5695", "56a5", "56a6", "56b0", "56b1", "56ba", "56bb", "56bc", "56bd",  # G11
        "5696", "5697", "56a3", "56a4", "56b2", "56b3",  # G12
    ),
    "Intel Data Center GPU Flex (ATS-M)": ("56c0", "56c1", "56c2"),
    "Intel Data Center GPU Max (Ponte Vecchio)": (
        "0b69", "0b6e", "0bd4", "0bd5", "0bd6", "0bd7", "0bd8", "0bd9", "0bda", "0bdb",
        "0be0", "0be1", "0be5",
    ),
    "Intel Arc B-series (Battlemage)": (
        "e202", "e209", "e20b", "e20c", "e20d", "e210", "e211", "e212", "e215", "e216",
        "e220", "e221", "e222",
    ),
}
# fmt: on
DISCRETE: dict[str, str] = {dev: fam for fam, devs in _FAMILIES.items() for dev in devs}


def classify(device: str) -> IntelGPU:
    """Discrete or integrated from the kernel's id groups; the name and architecture from the GPU
    table ("Intel Arc A770", "Xe (integrated)"), else the family ("Intel Arc A-series (DG2)") or
    "Intel integrated graphics"."""
    from torch_wizard.machine import gputable

    device = device.lower()
    family = DISCRETE.get(device)
    pci_id = f"{INTEL_VENDOR}:{device}"
    entry = gputable.lookup(pci_id)
    name = entry.name if entry else (family or "Intel integrated graphics")
    arch = entry.architecture if entry else (family or "")
    return IntelGPU(name=name, pci_id=pci_id, discrete=bool(family), architecture=arch)


def _gpu(dev: PCIDevice) -> IntelGPU:
    gpu = classify(dev.device)
    if dev.name and gpu.name == "Intel integrated graphics":
        return IntelGPU(name=dev.name, pci_id=gpu.pci_id, discrete=False)
    return gpu


def probe_intel(root: Root, devices: Devices | None = None) -> Found[tuple[IntelGPU, ...]]:
    return Found(tuple(_gpu(d) for d in devices_of(root, devices, INTEL_VENDOR)))
