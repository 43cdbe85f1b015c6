"""Detection over the fixture machine roots in tests/fixtures/machines: expected Machine fields."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from torch_wizard.machine import Machine, detect

MACHINES = Path(__file__).parent / "fixtures" / "machines"
GB = 1024**3


def machine(name: str, timeout: float = 3.0) -> Machine:
    return detect(root=MACHINES / name, timeout=timeout)


def test_every_fixture_has_a_source_and_defaults() -> None:
    names = sorted(p.name for p in MACHINES.iterdir() if p.is_dir())
    assert len(names) >= 13
    for name in names:
        assert (MACHINES / name / "SOURCE.md").is_file(), name
        assert (MACHINES / name / "machine.json").is_file(), name
        for tool in (MACHINES / name / "bin").glob("*"):
            if not tool.name.startswith("."):
                assert tool.stat().st_mode & 0o111, f"{tool} is not executable"


def test_cpu_server() -> None:
    m = machine("cpu-server")
    assert m.source == f"root:{MACHINES / 'cpu-server'}"
    assert (m.os.name, m.os.distro_id, m.os.distro_version) == ("linux", "ubuntu", "22.04")
    assert (m.os.libc, m.os.libc_version) == ("glibc", "2.35")
    assert m.os.kernel == "5.15.0-119-generic"
    assert m.cpu.arch == "x86_64" and m.cpu.vendor == "AuthenticAMD"
    assert m.cpu.model == "AMD EPYC 7763 64-Core Processor"
    assert m.cpu.flags == ("avx", "avx2", "fma", "f16c")
    assert m.cpu.cores_logical == 8 and m.cpu.cores_physical == 4
    assert m.memory.total == 263842308 * 1024
    assert m.disk.free == 412 * GB and m.disk.path == "/home/ci"
    assert not m.nvidia.present and not m.amd.gpus and not m.intel  # ASPEED VGA is no GPU
    assert m.board.kind == ""
    assert m.tool("gcc").version == "11.4.0" and m.tool("g++").version == "11.4.0"
    assert m.tool("cmake").version == "3.22.1"
    assert m.tool("git").version == "2.34.1" and m.tool("ninja").version == "1.10.1"
    assert not m.tool("nvcc").found and not m.tool("uv").found
    assert m.notes == ()


def test_rtx4090_driver550() -> None:
    m = machine("rtx4090-driver550")
    nv = m.nvidia
    assert nv.driver_version == "550.54.14"
    assert nv.driver_source == "/sys/module/nvidia/version"
    assert nv.cuda_driver_version == "12.4"
    assert nv.device_nodes
    assert len(nv.gpus) == 1  # the HDMI audio function is not a GPU
    gpu = nv.gpus[0]
    assert gpu.name == "NVIDIA GeForce RTX 4090"
    assert gpu.compute_capability == "8.9"
    assert gpu.memory == 24564 * 1024**2
    assert gpu.pci_id == "10de:2684"
    assert "avx512f" in m.cpu.flags and "avx512_bf16" in m.cpu.flags
    assert m.tool("gcc").version == "13.2.0"
    assert m.notes == ()


def test_gtx1080_driver580() -> None:
    m = machine("gtx1080-driver580")
    assert m.nvidia.driver_version == "580.82.07"
    assert m.nvidia.cuda_driver_version == "13.0"
    assert [g.compute_capability for g in m.nvidia.gpus] == ["6.1"]
    assert m.nvidia.gpus[0].name == "NVIDIA GeForce GTX 1080"


def test_rtx5090_driver570_open_module() -> None:
    m = machine("rtx5090-driver570")
    assert m.nvidia.driver_version == "570.124.04"
    assert m.nvidia.cuda_driver_version == "12.8"
    assert m.nvidia.gpus[0].compute_capability == "12.0"
    assert m.nvidia.gpus[0].memory == 32607 * 1024**2


def test_h100x8() -> None:
    m = machine("h100x8")
    assert len(m.nvidia.gpus) == 8
    assert {g.compute_capability for g in m.nvidia.gpus} == {"9.0"}
    assert [g.index for g in m.nvidia.gpus] == list(range(8))
    assert {g.pci_id for g in m.nvidia.gpus} == {"10de:2330"}
    assert m.nvidia.driver_version == "535.129.03" and m.nvidia.cuda_driver_version == "12.2"
    assert "amx_tile" in m.cpu.flags
    assert m.tool("nvcc").version == "12.3.103"
    assert not m.intel and not m.amd.gpus


def test_amd_gfx1100_rocm64() -> None:
    m = machine("amd-gfx1100-rocm6.4")
    assert m.amd.source == "rocm_agent_enumerator"
    assert m.amd.gfx_targets == ("gfx1100",)
    assert m.amd.gpus[0].name == "Radeon RX 7900 XTX"  # named by rocminfo
    assert m.amd.gpus[0].pci_id == "1002:744c"
    assert m.amd.rocm_version == "6.4.1"
    assert m.tool("hipcc").version == "6.4.43483"
    assert not m.nvidia.present


def test_amd_from_kfd_only() -> None:
    m = machine("amd-kfd-only")
    assert m.amd.source == "kfd"
    assert m.amd.gfx_targets == ("gfx1030",)
    assert m.amd.rocm_version == ""


def test_intel_arc_discrete_and_integrated() -> None:
    m = machine("intel-arc")
    by_id = {g.pci_id: g for g in m.intel}
    assert set(by_id) == {"8086:56a0", "8086:a780"}  # the audio function is not a GPU
    assert by_id["8086:56a0"].discrete and "Arc" in by_id["8086:56a0"].name
    assert not by_id["8086:a780"].discrete


def test_jetson_orin_jp62() -> None:
    m = machine("jetson-orin-jp62")
    assert m.board.kind == "jetson"
    assert m.board.model == "NVIDIA Jetson AGX Orin Developer Kit"
    assert (m.board.l4t, m.board.jetpack) == ("36.4.3", "6.2")
    assert m.cpu.arch == "aarch64" and m.cpu.vendor == "ARM"
    assert m.cpu.model == "ARM Cortex-A78AE"
    assert "asimd" in m.cpu.flags and "avx2" not in m.cpu.flags
    assert m.python.version == "3.10.12" and m.python.executable == "" and m.python.tags == ()
    assert m.platform_key == "linux-aarch64"
    assert m.tool("nvcc").version == "12.6.68"


def test_raspberry_pi5() -> None:
    m = machine("raspberry-pi5")
    assert m.board.kind == "raspberry-pi"
    assert m.board.model == "Raspberry Pi 5 Model B Rev 1.0"
    assert m.cpu.arch == "aarch64" and m.cpu.model == "ARM Cortex-A76"
    assert m.cpu.cores_logical == 4
    assert m.python.minor == "3.11"
    assert (m.os.distro_id, m.os.libc_version) == ("debian", "2.36")


def test_raspberry_pi_32bit_userland_is_armv7l() -> None:
    m = machine("raspberry-pi4-32bit")
    assert m.cpu.arch == "armv7l"
    assert m.cpu.machine == "aarch64"
    assert m.cpu.pointer_bits == 32 and m.python.bits == 32
    assert m.os.distro_like == ("debian",)


def test_old_xeon_without_avx2() -> None:
    m = machine("old-xeon-no-avx2")
    assert m.cpu.flags == ("avx",)
    assert not m.cpu.has_avx2
    assert (m.os.distro_id, m.os.distro_like) == ("rocky", ("rhel", "centos", "fedora"))
    assert m.os.libc_version == "2.28"
    assert not m.intel and not m.nvidia.present


def test_container_without_device_nodes() -> None:
    m = machine("container-no-devnodes")
    assert m.nvidia.driver_version == "550.54.14"
    assert not m.nvidia.device_nodes
    assert m.nvidia.gpus[0].pci_id == "10de:2684"
    # no nvidia-smi: name and compute capability from the PCI id, through the GPU table
    assert m.nvidia.gpus[0].name == "NVIDIA GeForce RTX 4090"
    assert m.nvidia.gpus[0].compute_capability == "8.9"
    assert any("/dev/nvidia" in n and "container" in n for n in m.notes)
    assert any("nvidia-smi was not found" in n for n in m.notes)


def test_nvidia_smi_hangs_is_stopped_at_the_timeout() -> None:
    start = time.monotonic()
    m = machine("nvidia-smi-hangs", timeout=0.5)
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"detection took {elapsed:.1f} s with a 0.5 s tool timeout"
    assert m.nvidia.driver_version == "535.183.01"
    assert m.nvidia.driver_source == "/proc/driver/nvidia/version"
    assert [g.pci_id for g in m.nvidia.gpus] == ["10de:1db4", "10de:1db4"]
    assert m.nvidia.device_nodes
    assert any("did not answer within 0.5 s" in n for n in m.notes)


def test_nvidia_smi_na_fields_and_warning_line() -> None:
    m = machine("nvidia-smi-na")
    gpus = m.nvidia.gpus
    assert len(gpus) == 2
    # nvidia-smi says [N/A]; the PCI id (10de:2204, GA102) fills it in from the GPU table
    assert (gpus[0].compute_capability, gpus[0].memory) == ("8.6", 24576 * 1024**2)
    assert (gpus[1].compute_capability, gpus[1].memory) == ("8.6", 0)
    assert m.nvidia.driver_version == "535.154.05"
    assert any("infoROM" in n for n in m.notes)


def test_wsl2() -> None:
    m = machine("wsl2-rtx3060")
    assert m.os.wsl
    assert m.nvidia.driver_source == "nvidia-smi"
    assert m.nvidia.driver_version == "566.36"
    assert m.nvidia.device_nodes  # /dev/dxg
    assert m.nvidia.gpus[0].compute_capability == "8.6"
    assert m.notes == ()


def test_macbook_m2() -> None:
    m = machine("macbook-m2")
    assert m.os.name == "macos" and m.os.macos_version == "14.5"
    assert m.cpu.arch == "arm64" and m.platform_key == "macos-arm64"
    assert m.apple.silicon and m.apple.chip == "Apple M2 Pro"
    assert m.cpu.model == "Apple M2 Pro" and m.cpu.cores_physical == 10
    assert m.memory.total == 16 * GB
    assert m.python.version == "3.12.4"
    assert not m.nvidia.present


@pytest.mark.parametrize("name", sorted(p.name for p in MACHINES.iterdir() if p.is_dir()))
def test_fixture_never_raises_and_names_its_source(name: str) -> None:
    m = machine(name, timeout=0.5)
    assert m.source.startswith("root:")
    assert m.python.version
