"""The real ``torch-wizard detect`` command, overrides, profiles and the existing-torch probe."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from torch_wizard.errors import UsageError
from torch_wizard.machine import (
    apply_overrides,
    detect,
    dump_profile,
    load_profile,
    target_from_args,
)

MACHINES = Path(__file__).parent / "fixtures" / "machines"


def root(name: str) -> str:
    return str(MACHINES / name)


# ------------------------------------------------------------------------------- the command


def test_detect_text_on_a_fixture() -> None:
    proc = run_cli("detect", "--root", root("rtx4090-driver550"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Ubuntu 24.04.2 LTS" in out
    assert "driver 550.54.14, CUDA 12.4" in out
    assert "GPU 0: NVIDIA GeForce RTX 4090 (Ada Lovelace, compute capability 8.9, 24.0 GiB)" in out
    assert "AMD Ryzen 9 7950X" in out and "gcc 13.2.0" in out
    assert proc.stderr == ""


def test_detect_text_shows_notes() -> None:
    proc = run_cli("detect", "--root", root("container-no-devnodes"))
    assert proc.returncode == 0
    assert "Notes:" in proc.stdout and "docker run without --gpus all" in proc.stdout


def test_detect_json_round_trips_through_load_profile(tmp_path: Path) -> None:
    proc = run_cli("detect", "--json", "--root", root("jetson-orin-jp62"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema_version"] == 1
    assert data["board"]["jetpack"] == "6.2"
    path = tmp_path / "jetson.json"
    path.write_text(proc.stdout)
    loaded = load_profile(path)
    expected = detect(root=root("jetson-orin-jp62"))
    assert loaded.board == expected.board and loaded.cpu == expected.cpu
    assert loaded.python == expected.python
    assert loaded.source == f"profile:{path}"
    # ... and detect --profile prints the same machine again.
    again = run_cli("detect", "--json", "--profile", str(path))
    assert again.returncode == 0, again.stderr
    data2 = json.loads(again.stdout)
    data.pop("source"), data2.pop("source")
    assert data2 == data


def test_detect_json_on_the_host_is_fast_and_complete() -> None:
    start = time.monotonic()
    proc = run_cli("detect", "--json")
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 2.0, f"detect --json took {elapsed:.2f} s"
    data = json.loads(proc.stdout)
    assert data["python"]["version"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert data["source"] == "host"
    assert data["python"]["tags"], "packaging.tags gave no tags"


def test_detect_overrides_from_the_command_line() -> None:
    proc = run_cli(
        "detect",
        "--json",
        "--root",
        root("cpu-server"),
        "--compute-capability",
        "8.6",
        "--nvidia-driver",
        "550.54.14",
        "--python",
        "3.12",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["nvidia"]["driver_version"] == "550.54.14"
    assert data["nvidia"]["gpus"][0]["compute_capability"] == "8.6"
    assert data["python"]["version"] == "3.12"
    assert data["source"].endswith("+overrides")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "expected a JSON object"),
        (
            '{"os": {"name": "beos"}, "cpu": {"arch": "x86_64"}, "python": {"version": "3.11"}}',
            "beos",
        ),
        ('{"os": {"name": "linux"}}', "profile.cpu: missing"),
        ('{"schema_version": 99, "os": {"name": "linux"}}', "schema_version 99"),
    ],
)
def test_bad_profile_is_one_line_exit_2(tmp_path: Path, content: str | None, needle: str) -> None:
    path = tmp_path / "profile.json"
    if content is not None:
        path.write_text(content)
    proc = run_cli("detect", "--profile", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--root", "/nonexistent/machine"],
        ["--compute-capability", "eight"],
        ["--nvidia-driver", "latest"],
        ["--amd-arch", "navi31"],
        ["--python", "2.7"],
        ["--root", str(MACHINES / "cpu-server"), "--profile", "x.json"],
    ],
)
def test_bad_target_is_one_line_exit_2(args: list[str]) -> None:
    proc = run_cli("detect", *args)
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_hanging_nvidia_smi_does_not_hang_the_command() -> None:
    start = time.monotonic()
    proc = run_cli("detect", "--root", root("nvidia-smi-hangs"), timeout=30)
    assert proc.returncode == 0
    assert time.monotonic() - start < 10
    assert "did not answer" in proc.stdout


# --------------------------------------------------------------------------------- overrides


def test_compute_capability_without_gpus_creates_one() -> None:
    m = apply_overrides(detect(root=root("cpu-server")), compute_capability="8.9")
    assert len(m.nvidia.gpus) == 1 and m.nvidia.gpus[0].compute_capability == "8.9"
    assert m.nvidia.device_nodes and m.nvidia.present
    assert m.source.endswith("+overrides")


def test_compute_capability_replaces_detected_ones() -> None:
    m = apply_overrides(detect(root=root("h100x8")), compute_capability="10.0")
    assert len(m.nvidia.gpus) == 8 and {g.compute_capability for g in m.nvidia.gpus} == {"10.0"}


def test_os_macos_picks_arm64_and_drops_gpus() -> None:
    m = apply_overrides(detect(root=root("rtx4090-driver550")), os="macos")
    assert m.os.name == "macos" and m.cpu.arch == "arm64"
    assert m.platform_key == "macos-arm64"
    assert m.apple.silicon and not m.nvidia.present
    assert m.cpu.flags == ()  # x86 flags mean nothing on arm64
    assert m.python.executable == "" and m.python.tags == ()


def test_os_windows_keeps_nvidia_drops_rocm() -> None:
    m = apply_overrides(detect(root=root("amd-gfx1100-rocm6.4")), os="windows")
    assert m.platform_key == "windows-x86_64" and not m.amd.gpus
    m2 = apply_overrides(detect(root=root("rtx4090-driver550")), os="windows")
    assert m2.nvidia.gpus[0].compute_capability == "8.9"
    assert m2.os.libc == ""


def test_linux_arm64_override_is_aarch64_and_board_dropped_on_os_change() -> None:
    m = apply_overrides(detect(root=root("cpu-server")), arch="arm64")
    assert m.cpu.arch == "aarch64" and m.platform_key == "linux-aarch64"
    jet = apply_overrides(detect(root=root("jetson-orin-jp62")), os="windows")
    assert jet.board.kind == "" and jet.cpu.arch == "arm64"


def test_armv7l_override_is_32_bit() -> None:
    m = apply_overrides(detect(root=root("raspberry-pi5")), arch="armv7l")
    assert m.cpu.pointer_bits == 32 and m.python.bits == 32
    assert m.cpu.flags == ("asimd",)  # same family: flags kept


def test_amd_arch_and_driver_and_python() -> None:
    m = apply_overrides(
        detect(root=root("cpu-server")), amd_arch="GFX942", nvidia_driver="580.65.06", python="3.13"
    )
    assert m.amd.gfx_targets == ("gfx942",) and m.amd.source == "override"
    assert m.nvidia.driver_version == "580.65.06" and m.nvidia.driver_source == "override"
    assert m.python.version == "3.13" and m.python.minor == "3.13"


def test_no_overrides_is_identity() -> None:
    m = detect(root=root("cpu-server"))
    assert apply_overrides(m) is m


def test_target_from_args_with_suppressed_attributes(tmp_path: Path) -> None:
    ns = argparse.Namespace(root=root("raspberry-pi5"))  # nothing else present, as with SUPPRESS
    m = target_from_args(ns)
    assert m.board.kind == "raspberry-pi" and m.source.startswith("root:")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(dump_profile(m)))
    m2 = target_from_args(argparse.Namespace(profile=str(path), arch="armv7l"))
    assert m2.cpu.arch == "armv7l" and m2.source == f"profile:{path}+overrides"
    with pytest.raises(UsageError):
        target_from_args(argparse.Namespace(root=str(tmp_path / "missing")))


def test_load_profile_accepts_a_plan_json_target(tmp_path: Path) -> None:
    m = detect(root=root("gtx1080-driver580"))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"schema_version": 1, "target": dump_profile(m), "steps": []}))
    assert load_profile(path).nvidia == m.nvidia


# ----------------------------------------------------------------------- torch in the venv


def _make_venv(path: Path) -> Path:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(path)], check=True)
    else:  # pragma: no cover - uv is a dev dependency
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    py = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return py


def test_existing_torch_in_the_target_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    py = _make_venv(venv)
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pkg = Path(site) / "torch"
    pkg.mkdir()
    # Importing this package would fail: the probe must read version.py without importing torch.
    (pkg / "__init__.py").write_text("raise ImportError('torch must not be imported')\n")
    (pkg / "version.py").write_text(
        "from typing import Optional\n__version__ = '2.9.1+cu126'\ndebug = False\n"
        "cuda: Optional[str] = '12.6'\nhip: Optional[str] = None\n"
    )
    m = detect(target_path=str(venv))
    assert (m.torch.version, m.torch.cuda, m.torch.hip) == ("2.9.1+cu126", "12.6", "")
    assert m.torch.location == str(venv.absolute())
    assert m.disk.path == str(venv.absolute())


def test_no_torch_in_an_empty_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _make_venv(venv)
    m = detect(target_path=str(venv))
    assert m.torch.version == "" and not any("torch" in n for n in m.notes)


def test_detect_text_gives_driver_advice_for_a_driverless_gpu() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch_wizard",
            "detect",
            "--root",
            str(MACHINES / "rtx4090-nouveau"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "NVIDIA       driver not loaded (nouveau in use)" in out
    advice = out.split("\nDriver:\n", 1)[1]
    assert "`sudo ubuntu-drivers install`" in advice and "(cu132)" in advice
