"""The bundled GPU table: PCI vendor:device id -> marketing name, architecture and target.

``data/gpus.tsv`` is built by ``scripts/build_gpu_table.py`` from primary sources named in its
header (pci.ids for names, NVIDIA's CUDA GPUs lists for compute capability, LLVM's AMDGPU
processor table for gfx targets, Linux's Intel pciids.h for discrete Intel parts). ``target`` is
the compute capability ("8.9") for NVIDIA, the gfx target ("gfx1100") for AMD and the family for
Intel ("arc" discrete, "xe" integrated Xe, "older"). ``how`` says how the row was found: "name"
(the product is named in the source) or "chip:AD102" (another product of that chip is).

The file is read on the first lookup only (detection of a machine without a PCI GPU never reads
it) and kept for the life of the process. An id that is not in the table gives ``None``: callers
fall back to what they knew without it and say so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "gpus.tsv"


@dataclass(frozen=True)
class GPUEntry:
    pci_id: str  # "10de:2684"
    name: str  # "NVIDIA GeForce RTX 4090"
    architecture: str  # "Ada Lovelace", "RDNA 3", "Intel Arc A-series (DG2)"
    target: str  # "8.9", "gfx1100", "arc" / "xe" / "older"
    how: str  # "name", "chip:AD102", "pciids.h", "platform"

    @property
    def chip(self) -> str:
        return self.how[5:] if self.how.startswith("chip:") else ""


_lock = threading.Lock()
_rows: dict[str, str] | None = None


def _load() -> dict[str, str]:
    global _rows
    with _lock:
        if _rows is None:
            rows: dict[str, str] = {}
            try:
                text = TABLE.read_text(encoding="utf-8")
            except OSError:
                text = ""
            for line in text.splitlines():
                if line and not line.startswith("#"):
                    rows[line[:9]] = line
            _rows = rows
        return _rows


def lookup(pci_id: str) -> GPUEntry | None:
    """The table's row for "vvvv:dddd" (any case), or None."""
    line = _load().get(pci_id.strip().lower())
    if line is None:
        return None
    fields = line.split("\t")
    if len(fields) != 5:
        return None
    return GPUEntry(*fields)


def source_line() -> str:
    """The table's header lines (its sources and build date), for messages and tests."""
    try:
        with open(TABLE, encoding="utf-8") as f:
            return "".join(line[2:] for line in f if line.startswith("# ") and "\t" not in line)
    except OSError:
        return ""
