"""Build torch_wizard/machine/data/gpus.tsv, the GPU table keyed by PCI vendor:device id.

    python scripts/build_gpu_table.py PCI_IDS [--nvidia FILE] [--amd FILE] [-o OUT] [--date D]

Primary sources, one per fact:

- Names: the PCI ID Repository's ``pci.ids`` (https://pci-ids.ucw.cz), as Debian packages it
  (package ``pci.ids``, ``/usr/share/misc/pci.ids``; ``apt-get download pci.ids`` then
  ``dpkg-deb -x``). A device line is ``<TAB>dddd  CHIP [Marketing name]``.
- NVIDIA compute capability: NVIDIA's "CUDA GPU Compute Capability" and "Legacy CUDA GPU Compute
  Capability" pages, as text (``scripts/gpu_sources/nvidia-cuda-gpus.txt``): a line ``X.Y`` opens
  a compute capability, the product names of its row follow, one a line.
- AMD gfx target: LLVM's AMDGPU processor table (``llvm/docs/AMDGPUUsage.rst``, table
  ``amdgpu-processor-table``; slice in ``scripts/gpu_sources/AMDGPUUsage-processors.rst``): the
  ``Processor`` column gives the target, the ``Example Products`` column the products, and the
  section heading (``**GCN GFX11 (RDNA 3)**``) the architecture.
- Intel family: discrete parts are the device ids of the Linux kernel's ``pciids.h`` discrete
  groups (``torch_wizard.machine.intel.DISCRETE``); integrated Xe (graphics version 12 and newer) is
  named by the platform in pci.ids (Tiger Lake ... Panther Lake, Linux's ``pciids.h`` groups
  ``INTEL_TGL_IDS`` onwards); anything else is older integrated graphics.

A product matched by name anchors its chip (NVIDIA: ``AD102`` from ``AD102 [GeForce RTX 4090]``;
AMD: ``Navi 31``); every device of that chip gets the chip's value unless two anchors of one chip
disagree. Each row says how it was found: ``name`` or ``chip:AD102``. Ids without a value are left
out (detection then falls back to what it did before the table, and says so).
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "scripts" / "gpu_sources"
OUT = REPO / "torch_wizard" / "machine" / "data" / "gpus.tsv"

VENDORS = {"10de": "NVIDIA", "1002": "AMD", "8086": "Intel"}

# NVIDIA CUDA C++ Programming Guide, "Compute Capability": the major revision names the
# architecture (3 Kepler, 5 Maxwell, 6 Pascal, 7 Volta, 8 Ampere, 9 Hopper, 10 and 12
# Blackwell); 7.5 is Turing and 8.9 Ada Lovelace (the guide's per-architecture notes and
# NVIDIA's Turing / Ada tuning guides).
CC_ARCH = {"7.5": "Turing", "8.9": "Ada Lovelace"}
MAJOR_ARCH = {
    "3": "Kepler",
    "5": "Maxwell",
    "6": "Pascal",
    "7": "Volta",
    "8": "Ampere",
    "9": "Hopper",
    "10": "Blackwell",
    "11": "Blackwell",
    "12": "Blackwell",
}

_NV_CHIP = re.compile(r"^([A-Z]{2}\d{2,3})")
_AMD_CHIP = re.compile(r"^([A-Z][A-Za-z]+(?: \d+)?)")
_NOT_A_GPU = re.compile(r"\b(USB|Audio|Switch|Port|Controller|Bridge)\b")
_INTEL_GPU = re.compile(
    r"Graphics|\bArc\b|Iris|\bUHD\b|Data Center GPU|\bDG[12]\b|\bGT[1-4]\b|Battlemage|Alchemist"
)
_INTEL_XE = re.compile(
    r"Tiger ?Lake|Rocket ?Lake|Alder ?Lake|Raptor ?Lake|Meteor ?Lake|Arrow ?Lake|Lunar ?Lake|"
    r"Panther ?Lake|Iris Xe|\bDG1\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Device:
    vendor: str
    device: str
    name: str  # the whole pci.ids name: "AD102 [GeForce RTX 4090]"

    @property
    def marketing(self) -> str:
        m = re.search(r"\[(.+)\]", self.name)
        return m.group(1) if m else self.name

    @property
    def chip_text(self) -> str:
        return self.name.split("[", 1)[0].strip()


@dataclass(frozen=True)
class Row:
    pci_id: str
    name: str
    arch: str
    target: str  # compute capability, gfx target or Intel family
    how: str


# ----------------------------------------------------------------------------- parsers


def parse_pci_ids(lines: Iterable[str]) -> tuple[str, list[Device]]:
    """(version, devices of the three vendors) from pci.ids text."""
    version = ""
    vendor = ""
    out: list[Device] = []
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith("#"):
            m = re.match(r"#\s*Version:\s*(\S+)", line)
            if m:
                version = m.group(1)
            continue
        if not line.strip():
            continue
        if line.startswith("C "):  # the device class list at the end
            vendor = ""
            continue
        if not line.startswith("\t"):
            vendor = line[:4].lower() if line[:4].lower() in VENDORS else ""
            continue
        if vendor and not line.startswith("\t\t"):
            device, _, name = line.strip().partition("  ")
            if re.fullmatch(r"[0-9a-f]{4}", device) and name.strip():
                out.append(Device(vendor, device, name.strip()))
    return version, out


def parse_nvidia(lines: Iterable[str]) -> dict[str, str]:
    """Product name (normalised) -> compute capability."""
    out: dict[str, str] = {}
    cc = ""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if re.fullmatch(r"\d{1,2}\.\d", line):
            cc = line
            continue
        if cc:
            out[norm(line)] = cc
    return out


def _columns(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def parse_llvm_processors(text: str) -> dict[str, tuple[str, str]]:
    """Product name (normalised) -> (gfx target, architecture) from AMDGPUUsage.rst's table."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ":name: amdgpu-processor-table" in ln)
    borders = [i for i in range(start, len(lines)) if re.match(r"\s*=+ =+", lines[i])]
    cols = _columns(lines[borders[0]])
    proc_col, prod_col = cols[0], cols[-1]
    out: dict[str, tuple[str, str]] = {}
    arch = family = target = ""
    refs: list[tuple[str, str]] = []
    current = ""

    def flush() -> None:
        nonlocal current
        name = " ".join(current.split())
        if target and name and "TBA" not in name:
            out[norm(name)] = (target, arch)
        current = ""

    for line in lines[borders[1] + 1 : borders[2]]:
        heading = re.match(r"\s*\*\*(.+?)\*\*", line)
        if heading:
            flush()
            m = re.search(r"\(([^)]*)\)\s*$", heading.group(1))
            arch = family = m.group(1) if m else heading.group(1)
            # "[AMD-GCN-GFX90A-CDNA2]_": the reference names the architecture of those targets
            refs = re.findall(r"\[AMD-GCN-((?:GFX[0-9A-F]+-)+)([A-Z][A-Z0-9.]*)\]_", line)
            target = ""
            continue
        if re.match(r"\s*-{10,}", line):
            continue
        proc = line[proc_col[0] : proc_col[1]].strip()
        if proc.startswith("``"):
            flush()
            target = proc.strip("`")
            arch = family
            for gfxs, name in refs:
                if target.upper() in gfxs.split("-"):
                    arch = (
                        re.sub(r"^([A-Z]+)(\d)", r"\1 \2", name)
                        .replace("VEGA", "Vega")
                        .replace("7NM", "7nm")
                    )
        elif proc == "\\":  # a continuation row of the same processor
            flush()
        product = line[prod_col[0] :].rstrip() if len(line) > prod_col[0] else ""
        if product.startswith("- "):
            flush()
            current = product[2:]
        elif product.strip() and current and not product.startswith(" .."):
            current += " " + product.strip()
    flush()
    return out


# ----------------------------------------------------------------------------- matching


def norm(name: str) -> str:
    """Case and vendor prefixes/suffixes do not matter: "AMD Instinct MI100 Accelerator" and
    "Instinct MI100" are one product."""
    n = " ".join(name.replace("®", "").replace("™", "").split()).lower()
    for prefix in ("nvidia ", "amd "):
        n = n.removeprefix(prefix)
    return n.removesuffix(" accelerator")


def alternatives(marketing: str) -> Iterator[str]:
    """ "Radeon RX 7900 XT/7900 XTX/7900 GRE" -> the three full names; "A / B" groups too."""
    for group in (g.strip() for g in marketing.split(" / ")):
        parts = [p.strip() for p in group.split("/") if p.strip()]
        if not parts:
            continue
        first = parts[0]
        yield first
        words = first.split()
        for alt in parts[1:]:
            head = alt.split()[0]
            if head in words:
                yield " ".join(words[: words.index(head)] + alt.split())
            elif len(words) > 1:
                yield " ".join([*words[:-1], *alt.split()])


def nvidia_arch(cc: str) -> str:
    return CC_ARCH.get(cc) or MAJOR_ARCH.get(cc.split(".")[0], "")


def _by_chip(
    devices: list[Device], chip_of: re.Pattern[str], lookup: dict[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """(device id -> value by name, chip -> value) where no two anchors of a chip disagree."""
    named: dict[str, object] = {}
    chips: dict[str, set[object]] = {}
    for d in devices:
        for alt in alternatives(d.marketing):
            value = lookup.get(norm(alt))
            if value is None:
                continue
            named.setdefault(d.device, value)
            m = chip_of.match(d.chip_text)
            if m:
                chips.setdefault(m.group(1), set()).add(value)
    return named, {c: next(iter(v)) for c, v in chips.items() if len(v) == 1}


def build_rows(
    devices: list[Device],
    nvidia: dict[str, str],
    amd: dict[str, tuple[str, str]],
    intel_discrete: dict[str, str],
) -> list[Row]:
    rows: list[Row] = []
    by_vendor: dict[str, list[Device]] = {v: [] for v in VENDORS}
    for d in devices:
        by_vendor[d.vendor].append(d)

    nv = by_vendor["10de"]
    named, chips = _by_chip(nv, _NV_CHIP, dict(nvidia))
    for d in nv:
        m = _NV_CHIP.match(d.chip_text)
        chip = m.group(1) if m else ""
        how = "name"
        value = named.get(d.device)
        if value is None and chip in chips and not _NOT_A_GPU.search(d.name):
            value, how = chips[chip], f"chip:{chip}"
        if value is None:
            continue
        cc = str(value)
        rows.append(Row(f"10de:{d.device}", f"NVIDIA {d.marketing}", nvidia_arch(cc), cc, how))

    am = by_vendor["1002"]
    named_a, chips_a = _by_chip(am, _AMD_CHIP, dict(amd))
    for d in am:
        if _NOT_A_GPU.search(d.name):
            continue
        m = _AMD_CHIP.match(d.chip_text)
        chip = m.group(1) if m else ""
        how = "name"
        got = named_a.get(d.device)
        if got is None and chip in chips_a:
            got, how = chips_a[chip], f"chip:{chip}"
        if got is None:
            continue
        gfx, arch = got  # type: ignore[misc]
        rows.append(Row(f"1002:{d.device}", f"AMD {d.marketing}", str(arch), str(gfx), how))

    for d in by_vendor["8086"]:
        if not _INTEL_GPU.search(d.name) or _NOT_A_GPU.search(d.name):
            continue
        name = d.marketing if d.marketing.startswith("Intel") else f"Intel {d.marketing}"
        if d.device in intel_discrete:
            family, arch, how = "arc", intel_discrete[d.device], "pciids.h"
        elif _INTEL_XE.search(d.name):
            family, arch, how = "xe", "Xe (integrated)", "platform"
        else:
            family, arch, how = "older", "integrated (before Xe)", "platform"
        rows.append(Row(f"8086:{d.device}", name, arch, family, how))
    return sorted(rows, key=lambda r: r.pci_id)


def render(rows: list[Row], header: list[str]) -> str:
    out = [f"# {line}" if line else "#" for line in header]
    out.append("# id\tname\tarchitecture\ttarget\thow")
    for r in rows:
        fields = (r.pci_id, r.name, r.arch, r.target, r.how)
        out.append("\t".join(f.replace("\t", " ") for f in fields))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pci_ids", help="pci.ids (e.g. /usr/share/misc/pci.ids from Debian's pci.ids)")
    ap.add_argument("--pci-ids-package", default="", help="where pci.ids came from, for the header")
    ap.add_argument("--nvidia", default=str(SOURCES / "nvidia-cuda-gpus.txt"))
    ap.add_argument("--amd", default=str(SOURCES / "AMDGPUUsage-processors.rst"))
    ap.add_argument("-o", "--output", default=str(OUT))
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    args = ap.parse_args(argv)
    for path in (args.pci_ids, args.nvidia, args.amd):
        if not Path(path).is_file():
            print(f"build_gpu_table: {path}: no such file", file=sys.stderr)
            return 2
    sys.path.insert(0, str(REPO))
    from torch_wizard.machine.intel import DISCRETE

    with open(args.pci_ids, encoding="utf-8", errors="replace") as f:
        version, devices = parse_pci_ids(f)
    nvidia = parse_nvidia(Path(args.nvidia).read_text(encoding="utf-8").splitlines())
    amd = parse_llvm_processors(Path(args.amd).read_text(encoding="utf-8"))
    rows = build_rows(devices, nvidia, amd, DISCRETE)
    package = f", {args.pci_ids_package}" if args.pci_ids_package else ""
    header = [
        f"torch-wizard GPU table, built {args.date} by scripts/build_gpu_table.py; do not edit.",
        f"names: pci.ids {version or '(unknown version)'} (the PCI ID Repository, "
        f"https://pci-ids.ucw.cz{package})",
        "NVIDIA target = compute capability: NVIDIA 'CUDA GPU Compute Capability' and 'Legacy "
        "CUDA GPU Compute Capability' (developer.nvidia.com/cuda-gpus, /cuda-legacy-gpus), "
        f"from scripts/gpu_sources/{Path(args.nvidia).name}",
        "AMD target = LLVM processor: llvm/docs/AMDGPUUsage.rst 'AMDGPU Processors' "
        f"(commit f5c8b0a9139b), from scripts/gpu_sources/{Path(args.amd).name}",
        "Intel target = family (arc: discrete, per Linux include/drm/intel/pciids.h; xe: "
        "integrated Xe, graphics version 12+; older)",
        "how: name = the product is named in the source; chip:X = another product of chip X is",
        "",
    ]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(render(rows, header), encoding="utf-8")
    counts = {v: sum(r.pci_id.startswith(v) for r in rows) for v in VENDORS}
    print(f"{args.output}: {len(rows)} rows ({counts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
