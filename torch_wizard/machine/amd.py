"""AMD GPUs: gfx targets and the ROCm version.

gfx targets, first source that answers (shared/facts.md, "AMD"):
1. ``rocm_agent_enumerator``: one target per line ("gfx000" is the CPU agent: ignored),
2. ``rocminfo``: per agent "Name: gfx1100" and "Marketing Name: Radeon RX 7900 XTX",
3. ``sys/class/kfd/kfd/topology/nodes/*/properties``, no ROCm needed: "gfx_target_version 110000"
   is major*10000 + minor*100 + stepping, printed as gfx{major}{minor:x}{stepping:x}
   (110000 -> gfx1100, 90010 -> gfx90a, 90402 -> gfx942); 0 is a CPU node. This is the encoding of
   the amdgpu kernel driver's kfd_topology.c and of ROCR-Runtime's libhsakmt topology.c.
4. a PCI display device with vendor 0x1002 (on Windows: a video controller): no kfd, so the
   amdgpu kernel driver is not running; its name, architecture and gfx target come from the
   bundled GPU table (``torch_wizard.machine.gputable``), else the target is unknown.
ROCm version: ``opt/rocm/.info/version`` ("6.4.1-83" -> "6.4.1").
"""

from __future__ import annotations

import re
from dataclasses import replace

from torch_wizard.machine.model import AMDGPU, AMDInfo
from torch_wizard.machine.pci import Devices, PCIDevice, devices_of
from torch_wizard.machine.root import Found, Root

AMD_VENDOR = "1002"
KFD_NODES = "sys/class/kfd/kfd/topology/nodes"
_GFX = re.compile(r"^gfx[0-9a-f]{3,5}$")
_ROCM = re.compile(r"^(\d+\.\d+(?:\.\d+)?)")


def gfx_from_target_version(value: int) -> str:
    if value <= 0:
        return ""
    major, minor, step = value // 10000, (value // 100) % 100, value % 100
    return f"gfx{major}{minor:x}{step:x}"


def parse_enumerator(text: str) -> list[str]:
    out = []
    for line in text.split():
        if _GFX.match(line) and line != "gfx000":
            out.append(line)
    return out


def parse_rocminfo(text: str) -> list[AMDGPU]:
    """GPU agents from rocminfo output, in order."""
    gpus: list[AMDGPU] = []
    name = marketing = ""

    def flush() -> None:
        if _GFX.match(name) and name != "gfx000":
            gpus.append(AMDGPU(name=marketing, gfx=name))

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Agent ") and stripped[6:].strip().isdigit():
            flush()
            name = marketing = ""
            continue
        key, sep, value = stripped.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Name" and not name:
            name = value
        elif key == "Marketing Name" and not marketing:
            marketing = value
    flush()
    return gpus


def parse_kfd_properties(text: str) -> str:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "gfx_target_version" and parts[1].isdigit():
            return gfx_from_target_version(int(parts[1]))
    return ""


def rocm_version(root: Root) -> str:
    text = (root.read("opt/rocm/.info/version") or "").strip()
    m = _ROCM.match(text)
    return m.group(1) if m else ""


def probe_amd(
    root: Root, timeout: float, devices: Devices | None = None, os_name: str = "linux"
) -> Found[AMDInfo]:
    notes: list[str] = []
    gpus: list[AMDGPU] = []
    source = ""
    if root.which("rocm_agent_enumerator"):
        run = root.run_tool("rocm_agent_enumerator", [], timeout)
        if run.ok:
            targets = parse_enumerator(run.stdout)
            if targets:
                gpus, source = [AMDGPU(gfx=t) for t in targets], "rocm_agent_enumerator"
            elif run.stdout.strip() and not set(run.stdout.split()) <= {"gfx000"}:
                notes.append("rocm_agent_enumerator printed no gfx target in a known format.")
        elif run.note:
            notes.append(run.note)
    if root.which("rocminfo"):
        run = root.run_tool("rocminfo", [], timeout)
        if run.ok:
            found = parse_rocminfo(run.stdout)
            if not gpus and found:
                gpus, source = found, "rocminfo"
            elif gpus and len(found) == len(gpus):  # names for the enumerator's targets
                gpus = [AMDGPU(name=f.name, gfx=g.gfx) for g, f in zip(gpus, found, strict=True)]
        elif run.note and not gpus:
            notes.append(run.note)
    if not gpus:
        for node in root.listdir(KFD_NODES):
            gfx = parse_kfd_properties(root.read(f"{KFD_NODES}/{node}/properties") or "")
            if gfx:
                gpus.append(AMDGPU(gfx=gfx))
        source = "kfd" if gpus else source
    pci = devices_of(root, devices, AMD_VENDOR)
    if not gpus and pci:
        gpus = [_from_pci(d) for d in pci]
        source = "pci"
        unknown = [g.pci_id for g in gpus if not g.gfx]
        known = [g.name for g in gpus if g.gfx]
        if known and os_name == "linux":
            bound = [d.driver for d in pci if d.driver]
            if bound and bound[0] == "amdgpu":
                notes.append(
                    f"{known[0]}: the amdgpu driver is bound but /sys/class/kfd is missing (a "
                    "container started without /dev/kfd, or a kernel without HSA_AMD), so ROCm "
                    "cannot use it here."
                )
            else:
                why = f"the {bound[0]} driver is bound instead" if bound else "no driver is bound"
                notes.append(
                    f"{known[0]}: the amdgpu kernel driver is not running ({why}, no "
                    "/sys/class/kfd), so ROCm cannot use it yet."
                )
        if unknown:
            notes.append(
                f"AMD GPU {', '.join(unknown)}: its gfx target is unknown (no ROCm tools, no "
                "/sys/class/kfd, and not in torch-wizard's GPU table): load the amdgpu driver, or "
                "pass --amd-arch gfxNNNN."
            )
    elif pci and len(pci) == len(gpus):
        gpus = [_with_table(g, d) for g, d in zip(gpus, pci, strict=True)]
    drivers = [d.driver for d in pci if d.driver]
    return Found(
        AMDInfo(
            gpus=tuple(gpus),
            rocm_version=rocm_version(root),
            source=source,
            kernel_driver=drivers[0] if drivers else "",
        ),
        tuple(notes),
    )


def _from_pci(dev: PCIDevice) -> AMDGPU:
    from torch_wizard.machine import gputable

    entry = gputable.lookup(dev.pci_id)
    if entry is None:
        return AMDGPU(name=dev.name or f"AMD GPU [{dev.pci_id}]", pci_id=dev.pci_id)
    return AMDGPU(
        name=dev.name or entry.name,
        gfx=entry.target,
        pci_id=dev.pci_id,
        architecture=entry.architecture,
    )


def _with_table(gpu: AMDGPU, dev: PCIDevice) -> AMDGPU:
    from torch_wizard.machine import gputable

    entry = gputable.lookup(dev.pci_id)
    gpu = replace(gpu, pci_id=dev.pci_id)
    if entry is None:
        return gpu
    return replace(gpu, name=gpu.name or entry.name, architecture=entry.architecture)
