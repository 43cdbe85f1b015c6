"""The machine profile: what detection found, as frozen dataclasses.

A ``Machine`` is plain data. It is saved by ``torch-wizard detect --json`` and loaded by
``--profile FILE`` (see ``torch_wizard.serial``), so every plan can be made for another machine.
Sizes are bytes, versions are strings as the source printed them (normalised where noted).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

OSName = Literal["linux", "windows", "macos"]
# The architecture as the *interpreter* sees it (a 32-bit Python on a 64-bit kernel is armv7l/i686).
Arch = Literal["x86_64", "aarch64", "arm64", "armv7l", "i686", "other"]


@dataclass(frozen=True)
class OSInfo:
    name: OSName
    kernel: str = ""  # uname release, e.g. "6.8.0-45-generic"
    distro_id: str = ""  # os-release ID: "ubuntu", "debian", "fedora", "arch", "alpine" ...
    distro_like: tuple[str, ...] = ()  # os-release ID_LIKE
    distro_version: str = ""  # os-release VERSION_ID: "22.04"
    pretty_name: str = ""  # os-release PRETTY_NAME, or "macOS 14.5", "Windows 11"
    libc: Literal["glibc", "musl", ""] = ""  # "" off Linux or when unknown
    libc_version: str = ""  # "2.35"
    macos_version: str = ""  # "14.5" on macOS
    wsl: bool = False


@dataclass(frozen=True)
class CPUInfo:
    arch: Arch  # what the interpreter runs as: this decides which wheels fit
    machine: str = ""  # uname -m of the kernel, e.g. "aarch64" under a 32-bit armv7l Python
    pointer_bits: int = 64
    model: str = ""  # "AMD Ryzen 9 7950X 16-Core Processor"
    vendor: str = ""  # "GenuineIntel", "AuthenticAMD", "ARM", "Apple"
    # the flags that matter: avx, avx2, fma, avx512f, avx512_vnni, amx, neon, asimd, sve ...
    flags: tuple[str, ...] = ()
    cores_logical: int = 0
    cores_physical: int = 0

    @property
    def has_avx2(self) -> bool:
        return "avx2" in self.flags


@dataclass(frozen=True)
class MemoryInfo:
    total: int = 0  # bytes
    available: int = 0  # bytes


@dataclass(frozen=True)
class DiskInfo:
    path: str = ""  # the path measured: the target venv or its nearest existing parent
    free: int = 0  # bytes
    total: int = 0  # bytes


@dataclass(frozen=True)
class PythonInfo:
    version: str  # "3.11.7"
    executable: str = ""  # the interpreter running the wizard (sys.executable); "" when unknown
    # The interpreter new venvs are made from: ``executable`` outside a venv; inside one (pipx,
    # `uv tool`, uvx, a project venv) the interpreter that venv is based on, so a venv made by the
    # plan outlives the wizard's own. "" when unknown (the plan then names `pythonX.Y`).
    base_executable: str = ""
    implementation: str = "cpython"
    bits: int = 64
    free_threaded: bool = False
    in_venv: bool = False  # the interpreter running the wizard is a venv's
    externally_managed: bool = False  # PEP 668 marker present for this interpreter
    has_ensurepip: bool = True  # `python -m venv` can seed pip
    has_headers: bool = False  # Python.h present (source builds)
    tags: tuple[str, ...] = ()  # the first few packaging.tags.sys_tags(), best first

    @property
    def minor(self) -> str:
        """The minor version, e.g. "3.11"."""
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class NvidiaGPU:
    index: int
    name: str
    memory: int = 0  # bytes, 0 when unknown
    compute_capability: str = ""  # "8.9"; "" when unknown
    pci_id: str = ""  # "10de:2684"
    architecture: str = ""  # "Ada Lovelace", from the GPU table; "" when unknown


@dataclass(frozen=True)
class NvidiaInfo:
    driver_version: str = ""  # "550.54.14"; "" when no driver
    # where the version came from: "/sys/module/nvidia/version", "/proc/driver/nvidia/version",
    # or "nvidia-smi"
    driver_source: str = ""
    cuda_driver_version: str = ""  # the CUDA version the driver supports (nvidia-smi's header)
    gpus: tuple[NvidiaGPU, ...] = ()
    device_nodes: bool = False  # /dev/nvidia0 (or /dev/dxg on WSL) exists: the GPU is usable here
    # The kernel driver bound to the GPUs (sysfs driver link, else a loaded module): "nvidia",
    # "nouveau", or "" (none, or not knowable: Windows, macOS, a profile)
    kernel_driver: str = ""

    @property
    def present(self) -> bool:
        return bool(self.driver_version or self.gpus)


@dataclass(frozen=True)
class AMDGPU:
    name: str = ""
    gfx: str = ""  # "gfx1100"
    pci_id: str = ""
    architecture: str = ""  # "RDNA 3", from the GPU table


@dataclass(frozen=True)
class AMDInfo:
    gpus: tuple[AMDGPU, ...] = ()
    rocm_version: str = ""  # "6.4.1" from /opt/rocm/.info/version or rocminfo; "" if absent
    # "rocm_agent_enumerator", "rocminfo", "kfd", "override"; "pci" when only the PCI bus (or
    # Windows' video controller list) shows the GPU: no kfd, so the amdgpu kernel driver is not
    # running (a gfx target then comes from the GPU table)
    source: str = ""
    kernel_driver: str = ""  # the bound kernel driver on Linux ("amdgpu", "radeon"), "" when none

    @property
    def gfx_targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.gfx for g in self.gpus if g.gfx and g.gfx != "gfx000"))


@dataclass(frozen=True)
class IntelGPU:
    name: str = ""
    pci_id: str = ""  # "8086:56a0"
    discrete: bool = False  # Arc / Data Center GPU Max / Flex, not integrated graphics
    architecture: str = ""  # "Xe (integrated)", "Intel Arc A-series (DG2)", from the GPU table


@dataclass(frozen=True)
class AppleInfo:
    silicon: bool = False  # M-series: MPS is available from the PyPI wheels
    chip: str = ""  # "Apple M2 Pro"
    gpu: str = ""  # system_profiler's display adapter: "Apple M2 Pro (19-core GPU)"


@dataclass(frozen=True)
class BoardInfo:
    kind: Literal["jetson", "raspberry-pi", ""] = ""
    model: str = ""  # /proc/device-tree/model, e.g. "NVIDIA Jetson AGX Orin Developer Kit"
    l4t: str = ""  # "36.4.3" from /etc/nv_tegra_release
    jetpack: str = ""  # "6.2" (derived from L4T)


@dataclass(frozen=True)
class Tool:
    name: str  # "gcc", "cmake", "ninja", "git", "nvcc", "ccache", "uv", "clang", "g++", "hipcc"
    path: str = ""
    version: str = ""  # normalised "12.2.0"; "" when the tool is missing or its version unknown

    @property
    def found(self) -> bool:
        return bool(self.path)


@dataclass(frozen=True)
class ExistingTorch:
    version: str = ""  # "2.9.1+cu126"; "" when none
    location: str = ""  # the interpreter or venv it was found in
    cuda: str = ""  # torch.version.cuda
    hip: str = ""  # torch.version.hip


@dataclass(frozen=True)
class Machine:
    os: OSInfo
    cpu: CPUInfo
    python: PythonInfo
    memory: MemoryInfo = field(default_factory=MemoryInfo)
    disk: DiskInfo = field(default_factory=DiskInfo)
    nvidia: NvidiaInfo = field(default_factory=NvidiaInfo)
    amd: AMDInfo = field(default_factory=AMDInfo)
    intel: tuple[IntelGPU, ...] = ()
    apple: AppleInfo = field(default_factory=AppleInfo)
    board: BoardInfo = field(default_factory=BoardInfo)
    tools: tuple[Tool, ...] = ()
    torch: ExistingTorch = field(default_factory=ExistingTorch)
    # Problems met while probing (garbage output, a hung tool, a driver without device nodes):
    # reported to the user, never raised.
    notes: tuple[str, ...] = ()
    source: str = "host"  # "host", "root:DIR", "profile:FILE", plus "+overrides"

    def tool(self, name: str) -> Tool:
        for t in self.tools:
            if t.name == name:
                return t
        return Tool(name)

    @property
    def platform_key(self) -> str:
        """The wheel platform family: "linux-x86_64", "linux-aarch64", "windows-x86_64",
        "windows-arm64", "macos-arm64", "macos-x86_64"; other combinations give e.g. "linux-armv7l"."""
        arch = self.cpu.arch
        if arch == "arm64" and self.os.name == "linux":
            arch = "aarch64"
        if arch == "aarch64" and self.os.name in ("macos", "windows"):
            arch = "arm64"
        return f"{self.os.name}-{arch}"

    def with_overrides(self, **changes: object) -> Machine:
        return replace(self, **changes)  # type: ignore[arg-type]
