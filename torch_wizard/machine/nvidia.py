"""NVIDIA: driver version, GPUs with compute capability, CUDA version of the driver, device nodes.

Driver version, first source that answers (shared/facts.md, "NVIDIA"):
1. ``sys/module/nvidia/version`` ("550.54.14"),
2. ``proc/driver/nvidia/version``: "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  <date>"
   or, for the open modules, "... Open Kernel Module for x86_64  565.57.01  Release Build ...": the
   version is the field after the module name,
3. ``nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader``:
   one CSV line per GPU ("NVIDIA GeForce RTX 4090, 550.54.14, 24564 MiB, 8.9"); fields may read
   "[N/A]" (compute_cap needs a recent nvidia-smi: when it is refused, the query is repeated
   without it). The CUDA version the driver supports comes from plain ``nvidia-smi``'s header
   ("CUDA Version: 12.4").
GPU presence without nvidia-smi: a PCI device of display class 0x03xxxx with vendor 0x10de (on
Windows: a video controller with that vendor); its name, architecture and compute capability then
come from the bundled GPU table (``torch_wizard.machine.gputable``), which also fills in the compute
capability an old nvidia-smi cannot report. The kernel driver bound to the GPU (sysfs ``driver``
link, else ``sys/module/nouveau`` / ``sys/module/nvidia``) tells "no driver" from "nouveau".
Usable here: ``dev/nvidia0`` (or ``dev/dxg`` on WSL) exists; a driver without them is a container
started without GPU access.
"""

from __future__ import annotations

import re
from dataclasses import replace

from torch_wizard.machine.model import NvidiaGPU, NvidiaInfo
from torch_wizard.machine.pci import Devices, PCIDevice, devices_of
from torch_wizard.machine.root import Found, Root, ToolRun

NVIDIA_VENDOR = "10de"
QUERY = "--query-gpu=name,driver_version,memory.total,compute_cap"
QUERY_OLD = "--query-gpu=name,driver_version,memory.total"
CSV = "--format=csv,noheader"

_VERSION = re.compile(r"^\d+(?:\.\d+){1,2}$")
_PROC_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)")
_CUDA = re.compile(r"CUDA Version\s*:\s*(\d+\.\d+)")
_CC = re.compile(r"^\d+\.\d+$")
_MEM = re.compile(r"^(\d+(?:\.\d+)?)\s*(MiB|GiB|KiB|B)?$", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def parse_proc_version(text: str) -> str:
    """The driver version from /proc/driver/nvidia/version text, or ""."""
    for line in text.splitlines():
        if line.startswith("NVRM"):
            m = _PROC_VERSION.search(line)
            if m:
                return m.group(1)
    return ""


def _field(value: str) -> str:
    value = value.strip()
    return "" if value.startswith("[") or value in ("N/A", "") else value


def parse_memory(value: str) -> int:
    m = _MEM.match(_field(value))
    if not m:
        return 0
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "MiB").lower()])


def parse_query(text: str) -> tuple[list[NvidiaGPU], str, list[str]]:
    """GPUs, driver version and complaints from nvidia-smi --query-gpu CSV (no header)."""
    gpus: list[NvidiaGPU] = []
    driver = ""
    bad: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) not in (3, 4):
            bad.append(line.strip()[:80])
            continue
        name = _field(fields[0]) or "NVIDIA GPU"
        version = _field(fields[1])
        if version and not _VERSION.match(version):
            bad.append(line.strip()[:80])
            continue
        cc = _field(fields[3]) if len(fields) == 4 else ""
        if cc and not _CC.match(cc):
            bad.append(line.strip()[:80])
            cc = ""
        driver = driver or version
        gpus.append(
            NvidiaGPU(
                index=len(gpus), name=name, memory=parse_memory(fields[2]), compute_capability=cc
            )
        )
    return gpus, driver, bad


def parse_cuda_version(text: str) -> str:
    m = _CUDA.search(text)
    return m.group(1) if m else ""


def _smi_query(root: Root, timeout: float) -> tuple[ToolRun, ToolRun | None]:
    run = root.run_tool("nvidia-smi", [QUERY, CSV], timeout)
    if run.status == "failed" and "compute_cap" in (run.stdout + run.stderr):
        return run, root.run_tool("nvidia-smi", [QUERY_OLD, CSV], timeout)
    return run, None


def probe_nvidia(
    root: Root, timeout: float, wsl: bool = False, devices: Devices | None = None
) -> Found[NvidiaInfo]:
    notes: list[str] = []
    driver, source = "", ""
    text = (root.read("sys/module/nvidia/version") or "").strip()
    if text:
        if _VERSION.match(text):
            driver, source = text, "/sys/module/nvidia/version"
        else:
            notes.append(f"/sys/module/nvidia/version holds {text[:40]!r}, not a driver version.")
    if not driver:
        text = root.read("proc/driver/nvidia/version") or ""
        found = parse_proc_version(text)
        if found:
            driver, source = found, "/proc/driver/nvidia/version"
        elif text.strip():
            notes.append("/proc/driver/nvidia/version has no driver version in a known format.")

    gpus: list[NvidiaGPU] = []
    cuda = ""
    old_smi = False
    smi_path = root.which("nvidia-smi")
    if smi_path is not None:
        run, retry = _smi_query(root, timeout)
        final = retry or run
        if final.ok:
            gpus, smi_driver, bad = parse_query(final.stdout)
            if bad:
                notes.append(f"nvidia-smi printed lines that are not GPU records: {bad[0]!r}.")
            if smi_driver and not driver:
                driver, source = smi_driver, "nvidia-smi"
            old_smi = retry is not None
        elif final.note:
            notes.append(final.note)
        if run.status != "timeout" and (retry is None or retry.status != "timeout"):
            header = root.run_tool("nvidia-smi", [], timeout)
            if header.ok:
                cuda = parse_cuda_version(header.stdout)
            elif header.note and header.status == "timeout":
                notes.append(header.note)
    pci = devices_of(root, devices, NVIDIA_VENDOR)
    if not gpus and pci:
        gpus = [_from_pci(i, d) for i, d in enumerate(pci)]
        unknown = [g.pci_id for g in gpus if not g.compute_capability]
        if unknown:
            notes.append(
                f"NVIDIA GPU {', '.join(unknown)} is not in torch-wizard's GPU table, so its name "
                "and compute capability are unknown (pass --compute-capability X.Y if needed)."
            )
    elif pci and len(pci) == len(gpus):
        gpus = [_with_table(g, d) for g, d in zip(gpus, pci, strict=True)]
    if smi_path is None and driver and gpus:
        table = all(g.compute_capability for g in gpus)
        notes.append(
            "nvidia-smi was not found: GPU names and compute capability come from "
            + (
                "their PCI ids (torch-wizard's GPU table)."
                if table
                else "/sys only (pass --compute-capability X.Y if needed)."
            )
        )
    if old_smi:
        notes.append(
            "This nvidia-smi cannot report compute capability (an old driver)"
            + (
                "; it comes from torch-wizard's GPU table."
                if gpus and all(g.compute_capability for g in gpus)
                else "."
            )
        )
    kernel = _kernel_driver(root, pci, driver)

    nodes = root.exists("dev/nvidia0") or (wsl and root.exists("dev/dxg"))
    if not nodes:
        nodes = any(n.startswith("nvidia") and n[6:].isdigit() for n in root.listdir("dev"))
    if not nodes and source == "nvidia-smi":
        nodes = True  # nvidia-smi reached the GPU (Windows has no /dev; WSL has /dev/dxg)
    if driver and not nodes:
        notes.append(
            "An NVIDIA driver is loaded but /dev/nvidia* is missing: this looks like a container "
            "started without GPU access (e.g. docker run without --gpus all); CUDA will not work here."
        )
    info = NvidiaInfo(
        driver_version=driver,
        driver_source=source,
        cuda_driver_version=cuda,
        gpus=tuple(gpus),
        device_nodes=bool(nodes),
        kernel_driver=kernel,
    )
    if gpus and not driver:
        names = ", ".join(dict.fromkeys(g.name for g in gpus))
        if kernel == "nvidia":
            notes.append(
                f"{names}: NVIDIA's driver is installed but its version is unknown (no "
                "nvidia-smi answered): pass --nvidia-driver VERSION, as nvidia-smi shows it."
            )
        else:
            using = " (the nouveau driver is bound to it instead)" if kernel == "nouveau" else ""
            notes.append(f"{names}: no NVIDIA driver is loaded{using}; CUDA needs NVIDIA's driver.")
    return Found(info, tuple(notes))


def _kernel_driver(root: Root, pci: list[PCIDevice], driver: str) -> str:
    bound = [d.driver for d in pci if d.driver in ("nvidia", "nouveau")]
    if bound:
        return bound[0]
    if driver or root.exists("sys/module/nvidia"):
        return "nvidia"
    # Windows: a card Windows drives itself is the "Microsoft Basic Display Adapter"; any other
    # name with a DriverVersion is NVIDIA's installed driver
    if any(d.driver_version and "Basic Display" not in d.name for d in pci if d.name):
        return "nvidia"
    return "nouveau" if root.exists("sys/module/nouveau") else ""


def _from_pci(index: int, dev: PCIDevice) -> NvidiaGPU:
    from torch_wizard.machine import gputable

    entry = gputable.lookup(dev.pci_id)
    if entry is None:
        name = dev.name or f"NVIDIA GPU [{dev.pci_id}]"
        return NvidiaGPU(index=index, name=name, pci_id=dev.pci_id)
    return NvidiaGPU(
        index=index,
        name=entry.name,
        compute_capability=entry.target,
        pci_id=dev.pci_id,
        architecture=entry.architecture,
    )


def _with_table(gpu: NvidiaGPU, dev: PCIDevice) -> NvidiaGPU:
    """nvidia-smi's record with the PCI id, and what the table adds (architecture; compute
    capability when this nvidia-smi cannot report it)."""
    from torch_wizard.machine import gputable

    entry = gputable.lookup(dev.pci_id)
    gpu = replace(gpu, pci_id=dev.pci_id)
    if entry is None:
        return gpu
    return replace(
        gpu,
        compute_capability=gpu.compute_capability or entry.target,
        architecture=entry.architecture,
    )
