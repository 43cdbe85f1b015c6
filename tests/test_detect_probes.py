"""Unit tests per probe: parsing real output formats, garbage, [N/A], missing/failing/hanging tools.

Tools are real executables written into a temporary machine root's bin/ and run for real.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from torch_wizard.errors import UsageError
from torch_wizard.machine import amd, boards, cpu, intel, memory, nvidia, system, toolchain
from torch_wizard.machine import detect as detect_machine
from torch_wizard.machine.root import Root, run_argv

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell tool stand-ins")


def make_root(tmp_path: Path, files: dict[str, str], tools: dict[str, str] | None = None) -> Root:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "bin").mkdir(exist_ok=True)
    for name, body in (tools or {}).items():
        p = tmp_path / "bin" / name
        p.write_text("#!/bin/sh\n" + body)
        p.chmod(0o755)
    return Root(tmp_path)


# ------------------------------------------------------------------------------------ Root


def test_root_reads_only_under_its_dir(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"proc/meminfo": "MemTotal: 1 kB\n"})
    assert root.read("/proc/meminfo") == "MemTotal: 1 kB\n"
    assert root.read("proc/cpuinfo") is None
    assert root.listdir("sys/bus/pci/devices") == []


def test_fixture_root_finds_tools_only_in_its_bin(tmp_path: Path) -> None:
    root = make_root(tmp_path, {})
    assert root.which("sh") is None  # on the host's PATH, but not in DIR/bin
    assert root.run_tool("git", ["--version"], 1.0).status == "missing"


def test_run_tool_failure_is_a_note(tmp_path: Path) -> None:
    root = make_root(tmp_path, {}, {"broken": "echo 'kaboom: no device' >&2\nexit 3\n"})
    run = root.run_tool("broken", [], 2.0)
    assert run.status == "failed" and run.returncode == 3
    assert "exit code 3" in run.note and "kaboom" in run.note


def test_run_tool_hang_is_killed_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    body = f"(sleep 2; touch {marker}) &\nsleep 100\n"
    root = make_root(tmp_path, {}, {"hangs": body})
    start = time.monotonic()
    run = root.run_tool("hangs", [], 0.3)
    assert time.monotonic() - start < 2.0
    assert run.status == "timeout" and "0.3 s" in run.note
    time.sleep(2.3)
    assert not marker.exists(), "the hung tool's child survived the timeout"


def test_run_tool_gets_no_stdin(tmp_path: Path) -> None:
    root = make_root(tmp_path, {}, {"reader": "cat\necho done\n"})
    run = root.run_tool("reader", [], 2.0)
    assert run.ok and run.stdout == "done\n"


def test_run_argv_unstartable() -> None:
    run = run_argv("ghost", ["/nonexistent/ghost-tool"], 1.0)
    assert run.status == "failed" and "could not be started" in run.note


def test_host_root_adds_wsl_lib_dir() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    assert "/usr/lib/wsl/lib" in Root().tool_dirs()


def test_malformed_machine_json_is_a_note(tmp_path: Path) -> None:
    make_root(tmp_path, {"machine.json": "[1, 2]"})
    m = detect_machine(root=tmp_path, timeout=1.0)
    assert any("machine.json" in n for n in m.notes)


def test_missing_root_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such directory"):
        detect_machine(root=tmp_path / "nope")


# ---------------------------------------------------------------------------------- system

OS_RELEASE = (
    'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\n'
    'ID_LIKE=debian\n# comment\nGARBAGE LINE\nQUOTED=\'single quoted\'\nESC="a \\"b\\" \\$c"\n'
)


def test_parse_os_release() -> None:
    rel = system.parse_os_release(OS_RELEASE)
    assert rel["PRETTY_NAME"] == "Ubuntu 22.04.4 LTS"
    assert rel["ID"] == "ubuntu" and rel["VERSION_ID"] == "22.04"
    assert rel["QUOTED"] == "single quoted"
    assert rel["ESC"] == 'a "b" $c'
    assert "GARBAGE LINE" not in rel


def test_wsl_from_proc_version(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            "etc/os-release": OS_RELEASE,
            "proc/version": "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@x) #1 SMP\n",
        },
    )
    found = system.probe_os(root, root.defaults()[0])
    assert found.value.wsl
    assert found.value.distro_like == ("debian",)


def test_musl_loader_means_musl(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"lib/ld-musl-x86_64.so.1": "", "etc/os-release": "ID=alpine\n"})
    found = system.probe_os(root, root.defaults()[0])
    assert found.value.libc == "musl"
    assert any("musl" in n for n in found.notes)


def test_host_libc_on_linux() -> None:
    import platform

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc Linux host only")
    info = system.probe_os(Root(), Root().defaults()[0]).value
    assert info.libc == "glibc" and info.libc_version.count(".") >= 1


# ------------------------------------------------------------------------------------- cpu


@pytest.mark.parametrize(
    ("machine", "bits", "os_name", "expected"),
    [
        ("x86_64", 64, "linux", "x86_64"),
        ("AMD64", 64, "windows", "x86_64"),
        ("x86_64", 32, "linux", "i686"),
        ("aarch64", 64, "linux", "aarch64"),
        ("aarch64", 32, "linux", "armv7l"),  # 32-bit Python on a 64-bit Pi kernel
        ("arm64", 64, "macos", "arm64"),
        ("arm64", 64, "linux", "aarch64"),
        ("win-arm64", 64, "windows", "arm64"),
        ("armv7l", 32, "linux", "armv7l"),
        ("armv6l", 32, "linux", "other"),
        ("riscv64", 64, "linux", "other"),
    ],
)
def test_normalise_arch(machine: str, bits: int, os_name: str, expected: str) -> None:
    assert cpu.normalise_arch(machine, bits, os_name) == expected


def test_host_arch_matches_the_interpreter() -> None:
    import struct

    _, bits, arch = cpu.host_machine()
    assert bits == struct.calcsize("P") * 8
    assert arch != "other"


def test_parse_cpuinfo_garbage_does_not_crash() -> None:
    parsed = cpu.parse_cpuinfo("\x00\x01 garbage\nflags:\nprocessor : x\n::::\n")
    assert parsed["flags"] == () and parsed["logical"] == 0


# ---------------------------------------------------------------------------------- memory


def test_parse_meminfo() -> None:
    info = memory.parse_meminfo(
        "MemTotal:       16314132 kB\nMemFree: 1 kB\nMemAvailable:  8000000 kB\n"
    )
    assert info.total == 16314132 * 1024 and info.available == 8000000 * 1024


def test_meminfo_without_total_is_a_note(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"proc/meminfo": "nonsense\n"})
    found = memory.probe_memory(root, "linux", 1.0)
    assert found.value.total == 0 and found.notes


# ---------------------------------------------------------------------------------- nvidia


@pytest.mark.parametrize(
    ("line", "version"),
    [
        (
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024",
            "550.54.14",
        ),
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  565.57.01  Release Build  "
            "(dvs-builder@U16-A24-9-2)  Thu Oct 10 12:15:00 UTC 2024",
            "565.57.01",
        ),
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  540.4.0  Release Build",
            "540.4.0",
        ),
        ("NVRM version: something else entirely", ""),
        ("", ""),
    ],
)
def test_parse_proc_version(line: str, version: str) -> None:
    assert nvidia.parse_proc_version(line + "\nGCC version:  gcc version 12.3.0\n") == version


def test_parse_query_csv() -> None:
    text = (
        "NVIDIA GeForce RTX 4090, 550.54.14, 24564 MiB, 8.9\n"
        "NVIDIA H100 80GB HBM3, 550.54.14, [N/A], [N/A]\n"
        "\n"
        "Unable to determine the device handle for GPU0000:02:00.0: Unknown Error\n"
        "NVIDIA Foo, 550.54.14, 1 MiB, not-a-cc\n"
    )
    gpus, driver, bad = nvidia.parse_query(text)
    assert driver == "550.54.14"
    assert [(g.index, g.name, g.compute_capability) for g in gpus] == [
        (0, "NVIDIA GeForce RTX 4090", "8.9"),
        (1, "NVIDIA H100 80GB HBM3", ""),
        (2, "NVIDIA Foo", ""),
    ]
    assert gpus[0].memory == 24564 * 1024**2 and gpus[1].memory == 0
    assert len(bad) == 2


def test_parse_cuda_version() -> None:
    header = "| NVIDIA-SMI 550.54.14   Driver Version: 550.54.14   CUDA Version: 12.4     |"
    assert nvidia.parse_cuda_version(header) == "12.4"
    assert nvidia.parse_cuda_version("garbage") == ""


def test_old_nvidia_smi_without_compute_cap_is_retried(tmp_path: Path) -> None:
    smi = (
        'case "$1" in\n'
        "  *compute_cap*) echo 'Field \"compute_cap\" is not a valid field to query.'; exit 2 ;;\n"
        "  --query-gpu=*) echo 'Tesla T4, 470.57.02, 15109 MiB' ;;\n"
        "  *) echo '| NVIDIA-SMI 470.57.02  Driver Version: 470.57.02  CUDA Version: 11.4 |' ;;\n"
        "esac\n"
    )
    root = make_root(tmp_path, {"dev/nvidia0": ""}, {"nvidia-smi": smi})
    found = nvidia.probe_nvidia(root, 2.0)
    assert found.value.driver_version == "470.57.02"
    assert found.value.driver_source == "nvidia-smi"
    assert found.value.cuda_driver_version == "11.4"
    assert [g.name for g in found.value.gpus] == ["Tesla T4"]
    assert any("compute capability" in n for n in found.notes)


def test_garbage_nvidia_smi_and_sysfs(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {"sys/module/nvidia/version": "not a version\n", "dev/nvidia0": ""},
        {"nvidia-smi": "head -c 300 /dev/urandom | od -c\n"},
    )
    found = nvidia.probe_nvidia(root, 2.0)
    assert found.value.driver_version == ""
    assert any("not a driver version" in n for n in found.notes)
    assert any("not GPU records" in n for n in found.notes)


def test_failing_nvidia_smi_falls_through_to_proc(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            "proc/driver/nvidia/version": "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun\n",
            "dev/nvidia0": "",
            "sys/bus/pci/devices/0000:01:00.0/class": "0x030000\n",
            "sys/bus/pci/devices/0000:01:00.0/vendor": "0x10de\n",
            "sys/bus/pci/devices/0000:01:00.0/device": "0x2204\n",
        },
        {
            "nvidia-smi": "echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\nexit 9\n"
        },
    )
    found = nvidia.probe_nvidia(root, 2.0)
    assert found.value.driver_version == "535.183.01"
    assert [g.pci_id for g in found.value.gpus] == ["10de:2204"]
    assert any("exit code 9" in n and "NVIDIA driver" in n for n in found.notes)


def test_gpu_without_driver(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            "sys/bus/pci/devices/0000:01:00.0/class": "0x030000\n",
            "sys/bus/pci/devices/0000:01:00.0/vendor": "0x10de\n",
            "sys/bus/pci/devices/0000:01:00.0/device": "0x2684\n",
        },
    )
    found = nvidia.probe_nvidia(root, 1.0)
    assert found.value.gpus and not found.value.driver_version
    assert any("no NVIDIA driver is loaded" in n for n in found.notes)


# ------------------------------------------------------------------------------------- amd


@pytest.mark.parametrize(
    ("value", "gfx"),
    [
        (110000, "gfx1100"),
        (90010, "gfx90a"),
        (90402, "gfx942"),
        (120001, "gfx1201"),
        (100300, "gfx1030"),
        (90006, "gfx906"),
        (0, ""),
    ],
)
def test_gfx_from_target_version(value: int, gfx: str) -> None:
    assert amd.gfx_from_target_version(value) == gfx


def test_parse_enumerator_ignores_cpu_and_garbage() -> None:
    assert amd.parse_enumerator("gfx000\ngfx1100\ngfx90a\nhello\n") == ["gfx1100", "gfx90a"]


def test_parse_rocminfo_fixture() -> None:
    text = (
        Path(__file__).parent / "fixtures/machines/amd-gfx1100-rocm6.4/outputs/rocminfo.txt"
    ).read_text()
    gpus = amd.parse_rocminfo(text)
    assert [(g.gfx, g.name) for g in gpus] == [("gfx1100", "Radeon RX 7900 XTX")]


def test_rocminfo_used_when_enumerator_fails(tmp_path: Path) -> None:
    rocminfo = Path(__file__).parent / "fixtures/machines/amd-gfx1100-rocm6.4/outputs/rocminfo.txt"
    root = make_root(
        tmp_path,
        {"opt/rocm/.info/version": "7.0.2-56\n"},
        {"rocm_agent_enumerator": "exit 1\n", "rocminfo": f"cat {rocminfo}\n"},
    )
    found = amd.probe_amd(root, 2.0)
    assert found.value.source == "rocminfo"
    assert found.value.gfx_targets == ("gfx1100",)
    assert found.value.rocm_version == "7.0.2"
    assert any("rocm_agent_enumerator failed" in n for n in found.notes)


def test_amd_pci_only_is_a_note(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            "sys/bus/pci/devices/0000:0b:00.0/class": "0x030000\n",
            "sys/bus/pci/devices/0000:0b:00.0/vendor": "0x1002\n",
            # Navi 33: LLVM's processor table names no product of it, so not in the GPU table
            "sys/bus/pci/devices/0000:0b:00.0/device": "0x7480\n",
        },
    )
    found = amd.probe_amd(root, 1.0)
    assert found.value.source == "pci" and found.value.gfx_targets == ()
    assert any("--amd-arch" in n for n in found.notes)


# ----------------------------------------------------------------------------------- intel


@pytest.mark.parametrize(
    ("device", "discrete"),
    [
        ("56a0", True),
        ("56A5", True),
        ("e20b", True),
        ("0bd5", True),
        ("56c0", True),
        ("4905", True),
        ("a780", False),
        ("9a49", False),
    ],
)
def test_intel_classify(device: str, discrete: bool) -> None:
    assert intel.classify(device).discrete is discrete


# ---------------------------------------------------------------------------------- boards


@pytest.mark.parametrize(
    ("text", "l4t", "jetpack"),
    [
        (
            "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64",
            "36.4.3",
            "6.2",
        ),
        ("# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic", "36.4.0", "6.1"),
        (
            "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64",
            "35.4.1",
            "5.1.2",
        ),
        (
            "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64",
            "32.7.1",
            "4.6.1",
        ),
        ("# R36 (release), REVISION: 9.9", "36.9.9", "6"),
    ],
)
def test_tegra_release(text: str, l4t: str, jetpack: str) -> None:
    assert boards.parse_tegra_release(text) == l4t
    assert boards.jetpack_for(l4t) == jetpack


def test_garbage_tegra_release_is_a_note(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"etc/nv_tegra_release": "hello\n"})
    found = boards.probe_board(root)
    assert found.value.kind == "jetson" and found.value.l4t == ""
    assert found.notes


# ------------------------------------------------------------------------------- toolchain


@pytest.mark.parametrize(
    ("name", "text", "version"),
    [
        ("gcc", "gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0\nCopyright (C) 2021", "11.4.0"),
        ("gcc", "gcc (GCC) 13.2.1 20230801\n", "13.2.1"),
        ("gcc", "Apple clang version 15.0.0 (clang-1500.3.9.4)\nTarget: arm64", "15.0.0"),
        ("clang", "Ubuntu clang version 14.0.0-1ubuntu1.1\nTarget: x86_64", "14.0.0"),
        ("nvcc", "Cuda compilation tools, release 12.4, V12.4.131\n", "12.4.131"),
        ("hipcc", "HIP version: 6.4.43483-a187df25c\n", "6.4.43483"),
        ("cmake", "cmake version 3.27.9\n\nCMake suite", "3.27.9"),
        ("ninja", "1.11.1.git.kitware.jobserver-1\n", "1.11.1"),
        ("git", "git version 2.39.5\n", "2.39.5"),
        ("ccache", "ccache version 4.8\nFeatures: file-storage", "4.8"),
        ("uv", "uv 0.5.11 (c4d0caaee 2024-12-19)\n", "0.5.11"),
        ("git", "garbage without numbers", ""),
    ],
)
def test_parse_version(name: str, text: str, version: str) -> None:
    assert toolchain.parse_version(name, text) == version


def test_failing_tool_is_found_without_version(tmp_path: Path) -> None:
    root = make_root(tmp_path, {}, {"cmake": "exit 1\n"})
    found = toolchain.probe_tool(root, "cmake", 1.0)
    assert found.value.found and found.value.version == ""


def test_jetson_driver_files_are_no_container_warning(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures/machines/jetson-orin-jp62"
    shutil.copytree(fixture, tmp_path / "jetson")
    make_root(tmp_path / "jetson", {"sys/module/nvidia/version": "540.4.0\n"})
    m = detect_machine(root=tmp_path / "jetson", timeout=1.0)
    assert m.board.jetpack == "6.2"
    assert not any("/dev/nvidia" in n or "nvidia-smi" in n for n in m.notes)
