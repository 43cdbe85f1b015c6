"""The verification script (run for real), its report parser and the mismatch diagnoses."""

from __future__ import annotations

import json
import subprocess
import sys

from torch_wizard.run.verify import MARKER, VerifyReport, diagnose, parse_report, verify_argv


def test_script_reports_a_missing_torch_for_real() -> None:
    # The dev venv has no torch: the script must say so in its report and exit 1.
    r = subprocess.run(
        verify_argv(sys.executable, "cpu"), capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 1
    report = parse_report(r.stdout)
    assert report is not None and not report.ok
    assert report.error.startswith("import torch failed: ModuleNotFoundError")
    assert report.python == ".".join(map(str, sys.version_info[:3]))
    assert "pip" in report.packages
    assert diagnose(report, "cpu")[0].startswith(
        "torch does not work in this environment: import torch failed"
    )


def line(**fields: object) -> str:
    base: dict[str, object] = {
        "ok": True,
        "torch": "2.13.0+cpu",
        "device": "cpu",
        "matmul_ok": True,
    }
    base.update(fields)
    return f"noise\n{MARKER} {json.dumps(base)}\nmore noise\n"


def test_parse_report_reads_the_last_marker_line() -> None:
    out = line(
        devices=[{"kind": "cuda", "name": "NVIDIA GeForce RTX 4090", "capability": "8.9"}],
        gflops=1234.5,
    )
    report = parse_report(out)
    assert report is not None and report.ok and report.gflops == 1234.5
    assert report.devices[0].name == "NVIDIA GeForce RTX 4090"
    assert parse_report("no report here") is None
    assert parse_report(f"{MARKER} {{not json") is None
    bad = parse_report(f"{MARKER} " + json.dumps({"ok": "yes"}))
    assert bad is not None and not bad.ok and "unreadable" in bad.error


def test_healthy_cpu_install_has_no_diagnosis() -> None:
    assert diagnose(parse_report(line()), "cpu", "2.13.0") == []


def test_cpu_wheel_where_cuda_was_expected_means_wrong_index() -> None:
    report = VerifyReport(ok=False, torch="2.13.0+cpu", device="cpu", matmul_ok=True)
    [msg] = diagnose(report, "cu128", "2.13.0")
    assert "CPU-only torch" in msg and "wrong index" in msg and "whl/cu128" in msg


def test_cuda_wheel_without_a_usable_gpu_means_driver_or_access() -> None:
    report = VerifyReport(
        ok=False,
        torch="2.13.0+cu130",
        cuda_build="13.0",
        cuda_available=False,
        device="cpu",
        matmul_ok=True,
    )
    [msg] = diagnose(report, "cu130")
    assert (
        "CUDA 13.0 build but sees no GPU" in msg
        and "driver is likely too old" in msg
        and "/dev/nvidia" in msg
    )


def test_rocm_and_xpu_and_gpu_wheel_on_cpu_plan() -> None:
    rocm = VerifyReport(ok=False, torch="2.13.0+rocm7.0", hip_build="7.0.1", matmul_ok=True)
    assert "ROCm 7.0.1 build but sees no GPU" in diagnose(rocm, "rocm7.0")[0]
    xpu = VerifyReport(ok=False, torch="2.13.0+cpu", matmul_ok=True)
    assert "no XPU support" in diagnose(xpu, "xpu")[0]
    gpu_on_cpu = VerifyReport(ok=True, torch="2.13.0+cu128", cuda_build="12.8", matmul_ok=True)
    assert "GPU build" in diagnose(gpu_on_cpu, "cpu")[0]


def test_wrong_version_and_bad_matmul() -> None:
    report = VerifyReport(
        ok=False, torch="2.12.0+cpu", device="cpu", matmul_ok=False, matmul_mismatches=7
    )
    msgs = diagnose(report, "cpu", "2.13.0")
    assert "plan asked for 2.13.0" in msgs[0] and "7 wrong entries" in msgs[1]
    assert "no report" in diagnose(None, "cpu")[0]
