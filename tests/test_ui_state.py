"""The wizard's pure helpers: flow steps, formatting, what the screens say about a machine."""

from __future__ import annotations

import subprocess
import sys

from tests.support.ui import REPO, fixture_machine
from wizard.ui.state import (
    failure_hints,
    flow_steps,
    fmt_bytes,
    fmt_duration,
    machine_rows,
    machine_summary,
    venv_hints,
)


def test_flow_steps_depend_on_build_and_dry_run() -> None:
    assert flow_steps("wheel", False) == ("machine", "choices", "preview", "run", "done")
    assert flow_steps("source", False) == ("machine", "choices", "source", "preview", "run", "done")
    assert flow_steps("wheel", True) == ("machine", "choices", "preview")
    assert flow_steps("source", True)[-2:] == ("source", "preview")


def test_formatting() -> None:
    assert fmt_bytes(0) == "unknown"
    assert fmt_bytes(192_000_000) == "192.0 MB"
    assert fmt_bytes(5_400_000_000) == "5.4 GB"
    assert fmt_duration(75.2) == "1:15"
    assert fmt_duration(3725) == "1:02:05"


def test_machine_rows_name_gpu_driver_and_compute_capability() -> None:
    rows = dict(machine_rows(fixture_machine("rtx4090-driver550")))
    gpu_text = " ".join(
        v for k, v in machine_rows(fixture_machine("rtx4090-driver550")) if k in ("GPU", "")
    )
    assert "RTX 4090" in gpu_text and "compute capability 8.9" in gpu_text
    assert "550.54.14" in gpu_text
    assert "avx2" in rows["CPU flags"]
    summary = machine_summary(fixture_machine("h100x8"))
    assert summary.count("8x") == 1 and "H100" in summary


def test_old_cpu_and_board_are_called_out() -> None:
    rows = dict(machine_rows(fixture_machine("old-xeon-no-avx2")))
    assert "(no AVX2)" in rows["CPU flags"]
    rows = dict(machine_rows(fixture_machine("jetson-orin-jp62")))
    assert "JetPack 6.2" in rows["Board"]


def test_hints() -> None:
    assert venv_hints("/v", "linux") == ["source /v/bin/activate", "/v/bin/python your_script.py"]
    assert "Scripts" in venv_hints("C:\\v", "windows")[0]
    tail = ("ERROR: Could not find a version that satisfies the requirement torch",)
    assert any("no matching wheel" in h for h in failure_hints("install-torch", tail))
    assert any("python3-venv" in h for h in failure_hints("create-venv", ()))
    assert any(
        "disk is full" in h
        for h in failure_hints("install-torch", ("OSError: [Errno 28] No space left on device",))
    )


def test_the_ui_command_imports_textual_only_when_run() -> None:
    code = "import sys, wizard.cli, wizard.commands.ui; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False"


def test_bad_input_exits_2_before_the_ui(tmp_path: object) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "wizard", "--dry-run", "--root", "/nonexistent/machine"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
        check=False,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--root" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "wizard", "--index-base", "http://mirror.example.org/whl"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
        check=False,
    )
    assert r.returncode == 2 and "--allow-insecure-index" in r.stderr
