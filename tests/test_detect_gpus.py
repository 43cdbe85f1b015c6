"""Issue 11: the GPU table (built from a slice of the real sources), and detection of driverless,
old, mixed and Windows machines from fixture roots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from torch_wizard.machine import Machine, detect, dump_profile, gputable
from torch_wizard.machine.pci import parse_cim

REPO = Path(__file__).resolve().parent.parent
MACHINES = Path(__file__).parent / "fixtures" / "machines"
SLICE = Path(__file__).parent / "fixtures" / "gpu_sources" / "pci.ids.slice"


def machine(name: str) -> Machine:
    return detect(root=MACHINES / name, timeout=3.0)


def build_slice(tmp_path: Path) -> dict[str, list[str]]:
    out = tmp_path / "gpus.tsv"
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_gpu_table.py"), str(SLICE), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = [ln.split("\t") for ln in out.read_text().splitlines() if not ln.startswith("#")]
    return {r[0]: r for r in rows}


# ------------------------------------------------------------------------- the table's script


def test_script_builds_rows_from_the_slice(tmp_path: Path) -> None:
    rows = build_slice(tmp_path)
    # named in NVIDIA's list, and one found through its chip (AD102 anchored by the RTX 4090)
    assert rows["10de:2684"][1:] == ["NVIDIA GeForce RTX 4090", "Ada Lovelace", "8.9", "name"]
    assert rows["10de:2685"][1:] == [
        "NVIDIA GeForce RTX 4090 D",
        "Ada Lovelace",
        "8.9",
        "chip:AD102",
    ]
    assert rows["10de:2504"][3:] == ["8.6", "chip:GA106"]
    assert rows["10de:102d"][2:4] == ["Kepler", "3.7"]
    assert rows["10de:2b85"][2:4] == ["Blackwell", "12.0"]
    assert "10de:22ba" not in rows  # the GPU's audio function
    # LLVM's table: "Radeon RX 7900 XTX" under gfx1100, RDNA 3; the W7900 through Navi 31
    assert rows["1002:744c"][2:] == ["RDNA 3", "gfx1100", "name"]
    assert rows["1002:7448"][3] == "gfx1100"
    assert rows["1002:73bf"][2:4] == ["RDNA 2", "gfx1030"]
    assert "1002:7480" not in rows  # Navi 33: LLVM names no product (TBA), so unknown
    assert "1002:73a4" not in rows and "1002:ab30" not in rows  # USB and audio functions
    assert rows["8086:56a0"][3:] == ["arc", "pciids.h"]
    assert rows["8086:a780"][3] == "xe" and rows["8086:46a6"][3] == "xe"
    assert rows["8086:5917"][3] == "older"
    assert "8086:1237" not in rows  # a chipset, not graphics


def test_bundled_table_is_the_scripts_output(tmp_path: Path) -> None:
    """Every row the script makes from the slice is in the bundled table as is (same sources)."""
    for pci_id, row in build_slice(tmp_path).items():
        entry = gputable.lookup(pci_id)
        assert entry is not None, pci_id
        assert [entry.pci_id, entry.name, entry.architecture, entry.target, entry.how] == row
    header = gputable.source_line()
    assert "pci.ids 2025.06.09" in header and "AMDGPUUsage.rst" in header


def test_script_refuses_a_missing_source(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_gpu_table.py"), str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "no such file" in run.stderr
    assert "Traceback" not in run.stderr


def test_lookup_unknown_and_case() -> None:
    assert gputable.lookup("10DE:2684") == gputable.lookup("10de:2684")
    assert gputable.lookup("10de:ffff") is None
    assert gputable.lookup("garbage") is None


def test_table_is_not_read_for_a_machine_without_a_gpu() -> None:
    code = (
        "from torch_wizard.machine import detect, gputable; "
        f"detect(root={str(MACHINES / 'cpu-server')!r}); print(gputable._rows is None); "
        f"detect(root={str(MACHINES / 'rtx4090-nouveau')!r}); print(gputable._rows is None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.split() == ["True", "False"]


# ------------------------------------------------------------------------------ Windows CIM


def test_cim_single_object_list_and_garbage() -> None:
    one = '{"Name":"AMD Radeon RX 7900 XTX","PNPDeviceID":"PCI\\\\VEN_1002&DEV_744C&SUBSYS_0E3B1002&REV_C8\\\\6&2D2A4B7E&0&00000019","DriverVersion":"31.0.24033.1003","AdapterRAM":4293918720}'
    devices, ok = parse_cim(one)
    assert ok and [(d.pci_id, d.name) for d in devices] == [("1002:744c", "AMD Radeon RX 7900 XTX")]
    many = json.dumps(
        [
            {"Name": "Microsoft Basic Display Adapter", "PNPDeviceID": "ROOT\\BASICDISPLAY\\0000"},
            {"Name": "Intel(R) Arc(TM) A770 Graphics", "PNPDeviceID": "PCI\\VEN_8086&DEV_56A0&X"},
            "not an object",
        ]
    )
    devices, ok = parse_cim(many)
    assert ok and [d.pci_id for d in devices] == ["8086:56a0"]
    assert parse_cim("Get-CimInstance : Access denied") == ([], False)
    assert parse_cim("") == ([], True)


# ------------------------------------------------------------------------------- fixtures


def test_rtx4090_with_nouveau() -> None:
    m = machine("rtx4090-nouveau")
    nv = m.nvidia
    assert nv.driver_version == "" and nv.kernel_driver == "nouveau" and not nv.device_nodes
    (gpu,) = nv.gpus  # the audio function is not a GPU
    assert (gpu.name, gpu.compute_capability, gpu.architecture, gpu.pci_id) == (
        "NVIDIA GeForce RTX 4090",
        "8.9",
        "Ada Lovelace",
        "10de:2684",
    )
    assert m.notes == (
        "NVIDIA GeForce RTX 4090: no NVIDIA driver is loaded (the nouveau driver is bound to it "
        "instead); CUDA needs NVIDIA's driver.",
    )


def test_rtx3060_without_any_driver() -> None:
    m = machine("rtx3060-no-driver")
    assert m.os.distro_id == "fedora"
    assert m.nvidia.kernel_driver == "" and m.nvidia.driver_version == ""
    assert [(g.name, g.compute_capability) for g in m.nvidia.gpus] == [
        ("NVIDIA GeForce RTX 3060", "8.6")
    ]
    assert [(g.name, g.discrete, g.architecture) for g in m.intel] == [
        ("Intel UHD Graphics 770", False, "Xe (integrated)")
    ]
    assert any("no NVIDIA driver is loaded; CUDA needs" in n for n in m.notes)


def test_rx7900xtx_without_rocm_or_kfd() -> None:
    m = machine("rx7900xtx-no-rocm")
    amd = m.amd
    assert amd.source == "pci" and amd.rocm_version == "" and amd.kernel_driver == ""
    (gpu,) = amd.gpus
    assert (gpu.gfx, gpu.architecture, gpu.pci_id) == ("gfx1100", "RDNA 3", "1002:744c")
    assert "7900 XTX" in gpu.name
    assert any("amdgpu kernel driver is not running" in n for n in m.notes)


def test_k80_old_nvidia_smi_gets_compute_capability_from_the_table() -> None:
    m = machine("k80-driver470")
    assert m.nvidia.driver_version == "470.256.02" and m.nvidia.kernel_driver == "nvidia"
    assert [(g.name, g.compute_capability, g.architecture) for g in m.nvidia.gpus] == [
        ("Tesla K80", "3.7", "Kepler"),
        ("Tesla K80", "3.7", "Kepler"),
    ]
    assert any("it comes from torch-wizard's GPU table" in n for n in m.notes)


def test_gtx1080_beside_rtx4090() -> None:
    m = machine("gtx1080-rtx4090")
    assert [(g.index, g.compute_capability, g.pci_id) for g in m.nvidia.gpus] == [
        (0, "8.9", "10de:2684"),
        (1, "6.1", "10de:1b80"),
    ]
    assert m.notes == ()


def test_windows_amd_from_the_video_controller_list() -> None:
    m = machine("windows-amd-rx7900xtx")
    assert m.os.name == "windows"
    (gpu,) = m.amd.gpus
    assert (gpu.name, gpu.gfx, gpu.pci_id) == ("AMD Radeon RX 7900 XTX", "gfx1100", "1002:744c")
    assert not m.nvidia.present and not m.intel
    assert not any("kfd" in n for n in m.notes)  # no /sys on Windows: no Linux advice


def test_windows_intel_arc_from_the_video_controller_list() -> None:
    m = machine("windows-intel-arc")
    assert [(g.name, g.discrete, g.pci_id) for g in m.intel] == [
        ("Intel UHD Graphics 770", False, "8086:a780"),
        ("Intel Arc A770", True, "8086:56a0"),
    ]


def test_windows_powershell_failure_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    ps = tmp_path / "bin" / "powershell"
    ps.write_text("#!/bin/sh\necho 'Get-CimInstance : Access denied' >&2\nexit 1\n")
    ps.chmod(0o755)
    (tmp_path / "machine.json").write_text('{"os": "windows", "arch": "x86_64"}')
    m = detect(root=tmp_path, timeout=2.0)
    assert not m.amd.gpus and not m.intel and not m.nvidia.present
    assert any(
        "powershell failed (exit code 1): Get-CimInstance : Access denied" in n for n in m.notes
    )


def test_unknown_nvidia_id_falls_back_and_says_so(tmp_path: Path) -> None:
    base = tmp_path / "sys/bus/pci/devices/0000:01:00.0"
    base.mkdir(parents=True)
    (base / "class").write_text("0x030000\n")
    (base / "vendor").write_text("0x10de\n")
    (base / "device").write_text("0xffff\n")
    (tmp_path / "machine.json").write_text('{"os": "linux", "arch": "x86_64"}')
    m = detect(root=tmp_path, timeout=2.0)
    assert [(g.name, g.compute_capability) for g in m.nvidia.gpus] == [
        ("NVIDIA GPU [10de:ffff]", "")
    ]
    assert any("10de:ffff is not in torch-wizard's GPU table" in n for n in m.notes)


@pytest.mark.parametrize(
    "name", ["rtx4090-nouveau", "gtx1080-rtx4090", "windows-amd-rx7900xtx", "k80-driver470"]
)
def test_profile_round_trip_keeps_the_new_fields(name: str, tmp_path: Path) -> None:
    from torch_wizard.machine import load_profile

    m = machine(name)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(dump_profile(m)))
    back = load_profile(path)
    assert back.nvidia == m.nvidia and back.amd == m.amd and back.intel == m.intel


# ------------------------------------------------------------------------- CPU off Linux


def test_archspec_features_give_the_avx_flags() -> None:
    """archspec's own microarchitecture data (what host() returns on Windows / Intel macOS)."""
    import archspec.cpu  # type: ignore[import-untyped]

    from torch_wizard.machine.cpu import flags_from_features

    targets = archspec.cpu.TARGETS
    assert flags_from_features(targets["haswell"].features) == ("avx", "avx2", "fma", "f16c")
    assert "avx2" not in flags_from_features(targets["ivybridge"].features)
    assert "avx512f" in flags_from_features(targets["skylake_avx512"].features)
    assert flags_from_features(targets["m2"].features)[:2] == ("neon", "asimd")


def test_archspec_on_this_host_agrees_with_proc_cpuinfo() -> None:
    from torch_wizard.machine.cpu import archspec_cpu, parse_cpuinfo

    flags, vendor, problem = archspec_cpu()
    assert problem == ""
    raw = parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    # archspec names a micro-architecture whose features the CPU has: a subset of the raw flags
    assert set(flags) <= set(raw["flags"])  # type: ignore[arg-type]
    assert ("avx2" in flags) == ("avx2" in raw["flags"])  # type: ignore[operator]
    assert vendor == raw["vendor"]


# --------------------------------------------------------------------------------- macOS


def test_macbook_gpu_from_system_profiler() -> None:
    m = machine("macbook-m2")
    assert (m.apple.chip, m.apple.gpu) == ("Apple M2 Pro", "Apple M2 Pro (19-core GPU)")
    assert m.notes == ()


def test_system_profiler_intel_mac_and_garbage() -> None:
    from torch_wizard.machine.apple import parse_displays

    intel_mac = json.dumps(
        {
            "SPDisplaysDataType": [
                {"sppci_model": "Intel UHD Graphics 630", "spdisplays_vendor": "Intel"},
                {"sppci_model": "AMD Radeon Pro 5500M", "spdisplays_vendor": "sppci_vendor_amd"},
            ]
        }
    )
    assert parse_displays(intel_mac) == ("Intel UHD Graphics 630, AMD Radeon Pro 5500M", "")
    assert parse_displays("system_profiler: error") is None
    assert parse_displays("[]") == ("", "")


def test_hung_system_profiler_is_stopped(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "system_profiler"
    tool.write_text("#!/bin/sh\nexec sleep 30\n")
    tool.chmod(0o755)
    (tmp_path / "machine.json").write_text('{"os": "macos", "arch": "arm64"}')
    m = detect(root=tmp_path, timeout=0.5)
    assert m.apple.gpu == "" and m.apple.silicon
    assert any("system_profiler did not answer within 0.5 s" in n for n in m.notes)


def test_amdgpu_bound_without_kfd_is_a_container_note(tmp_path: Path) -> None:
    base = tmp_path / "sys/bus/pci/devices/0000:03:00.0"
    base.mkdir(parents=True)
    (base / "class").write_text("0x030000\n")
    (base / "vendor").write_text("0x1002\n")
    (base / "device").write_text("0x744c\n")
    (base / "driver").symlink_to("../../../../bus/pci/drivers/amdgpu")
    (tmp_path / "machine.json").write_text('{"os": "linux", "arch": "x86_64"}')
    m = detect(root=tmp_path, timeout=2.0)
    assert m.amd.kernel_driver == "amdgpu" and m.amd.source == "pci"
    assert any("amdgpu driver is bound but /sys/class/kfd is missing" in n for n in m.notes)
