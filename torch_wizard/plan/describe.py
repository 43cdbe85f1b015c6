"""Backends and hardware in words: labels, GPU phrases, version keys."""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from torch_wizard.catalog.core import cuda_version, rocm_version, variant_kind
from torch_wizard.machine.model import Machine

# --------------------------------------------------------------------------------------------------
# Describing backends and hardware in words


LABELS = {
    "cpu": "CPU only",
    "pypi": "PyPI default",
    "xpu": "Intel XPU",
    "jetson": "Jetson (JetPack CUDA)",
    "cuda": "CUDA",  # a source build against the installed toolkit
    "rocm": "ROCm",
}


def backend_label(variant: str) -> str:
    """ "cu126" -> "CUDA 12.6", "rocm6.4" -> "ROCm 6.4", "cpu" -> "CPU only"."""
    kind = variant_kind(variant)
    if kind == "cuda":
        return f"CUDA {cuda_version(variant)}"
    if kind == "rocm":
        return f"ROCm {rocm_version(variant)}"
    return LABELS.get(kind or variant, variant)


def _version_key(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def _gpu_phrase(machine: Machine) -> str:
    gpus = machine.nvidia.gpus
    if not gpus:
        return "the NVIDIA GPU"
    names = list(dict.fromkeys(g.name for g in gpus))
    head = names[0] if len(names) == 1 else ", ".join(names)
    count = f"{len(gpus)}x " if len(gpus) > 1 and len(names) == 1 else ""
    ccs = sorted({g.compute_capability for g in gpus if g.compute_capability}, key=_version_key)
    cc = f" (compute capability {', '.join(ccs)})" if ccs and "capability" not in head else ""
    return f"{count}{head}{cc}"


def _ccs(machine: Machine) -> tuple[str, ...]:
    return tuple(
        sorted(
            {g.compute_capability for g in machine.nvidia.gpus if g.compute_capability},
            key=_version_key,
        )
    )
