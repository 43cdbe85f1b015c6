"""Boards: NVIDIA Jetson (L4T / JetPack) and Raspberry Pi.

- ``etc/nv_tegra_release`` first line, e.g. "# R36 (release), REVISION: 4.3, GCID: ..., BOARD:
  generic, EABI: aarch64, DATE: ...": L4T 36.4.3.
- ``proc/device-tree/model``: the board's name, NUL-terminated ("NVIDIA Jetson AGX Orin Developer
  Kit", "Raspberry Pi 5 Model B Rev 1.0"). A Raspberry Pi is a model starting "Raspberry Pi".

L4T -> JetPack: NVIDIA's JetPack archive (https://developer.nvidia.com/embedded/jetpack-archive),
which names the L4T (Jetson Linux) release of every JetPack release.
"""

from __future__ import annotations

import re

from torch_wizard.machine.model import BoardInfo
from torch_wizard.machine.root import Found, Root

# L4T release -> JetPack release [NVIDIA JetPack SDK archive, developer.nvidia.com/embedded/jetpack-archive].
JETPACK_BY_L4T: dict[str, str] = {
    # R39 = JetPack 7.2 (Orin joins the SBSA stack) and R38.4 = JetPack 7.1, as recorded on boards
    # in public repositories ("JetPack 7.2.1 / L4T r39.2.1", "L4T_VERSION=38.4.0 JETPACK_VERSION=7.1").
    "39.2.1": "7.2.1",
    "39.2.0": "7.2",
    "38.4.0": "7.1",
    "38.2.0": "7.0",
    "36.4.4": "6.2.1",
    "36.4.3": "6.2",
    "36.4.0": "6.1",
    "36.3.0": "6.0",
    "36.2.0": "6.0",  # JetPack 6.0 Developer Preview
    "35.6.1": "5.1.5",
    "35.6.0": "5.1.4",
    "35.5.0": "5.1.3",
    "35.4.1": "5.1.2",
    "35.3.1": "5.1.1",
    "35.2.1": "5.1",
    "35.1.0": "5.0.2",
    "32.7.6": "4.6.6",
    "32.7.5": "4.6.5",
    "32.7.4": "4.6.4",
    "32.7.3": "4.6.3",
    "32.7.2": "4.6.2",
    "32.7.1": "4.6.1",
    "32.6.1": "4.6",
    "32.5.1": "4.5.1",
    "32.5.0": "4.5",
}
# L4T major -> JetPack major, for revisions newer than the table.
JETPACK_MAJOR = {"39": "7", "38": "7", "36": "6", "35": "5", "34": "5", "32": "4"}

_RELEASE = re.compile(r"#\s*R(\d+)\s*\([^)]*\)\s*,\s*REVISION:\s*(\d+)(?:\.(\d+))?")


def parse_tegra_release(text: str) -> str:
    """The L4T release ("36.4.3") from nv_tegra_release text, or ""."""
    m = _RELEASE.search(text)
    if not m:
        return ""
    return f"{m.group(1)}.{m.group(2)}.{m.group(3) or '0'}"


def jetpack_for(l4t: str) -> str:
    if l4t in JETPACK_BY_L4T:
        return JETPACK_BY_L4T[l4t]
    return JETPACK_MAJOR.get(l4t.split(".")[0], "")


def probe_board(root: Root) -> Found[BoardInfo]:
    notes: list[str] = []
    model = (root.read("proc/device-tree/model") or "").replace("\x00", "").strip()
    tegra = root.read("etc/nv_tegra_release")
    if tegra is not None:
        l4t = parse_tegra_release(tegra)
        if not l4t:
            notes.append(
                "/etc/nv_tegra_release is not in the known '# R36 (release), REVISION: 4.3' form."
            )
        jetpack = jetpack_for(l4t) if l4t else ""
        if l4t and l4t not in JETPACK_BY_L4T and jetpack:
            notes.append(
                f"L4T {l4t} is newer than the known releases; assuming JetPack {jetpack}.x."
            )
        elif l4t and not jetpack:
            notes.append(f"L4T {l4t} matches no known JetPack release.")
        return Found(BoardInfo(kind="jetson", model=model, l4t=l4t, jetpack=jetpack), tuple(notes))
    if model.startswith("NVIDIA Jetson"):
        notes.append(f"{model} without /etc/nv_tegra_release: the JetPack version is unknown.")
        return Found(BoardInfo(kind="jetson", model=model), tuple(notes))
    if model.startswith("Raspberry Pi"):
        return Found(BoardInfo(kind="raspberry-pi", model=model))
    return Found(BoardInfo(model=model) if model else BoardInfo())
