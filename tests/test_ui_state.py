"""The wizard's pure helpers: flow steps, formatting, what the screens say about a machine."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from tests.support.ui import REPO, SNAP_VENV, canned_report, fixture_machine, rehearsal
from torch_wizard.machine.model import AMDGPU, AMDInfo, NvidiaGPU, NvidiaInfo, OSInfo
from torch_wizard.plan import Choices, make_plan
from torch_wizard.run.verify import MARKER, parse_report
from torch_wizard.ui.state import (
    failure_hints,
    flow_steps,
    fmt_bytes,
    fmt_duration,
    machine_rows,
    machine_summary,
    machine_verdict,
    progress_text,
    report_lines,
    run_heading,
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
    code = "import sys, torch_wizard.cli, torch_wizard.commands.ui; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False"


def test_bad_input_exits_2_before_the_ui(tmp_path: object) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "torch_wizard", "--dry-run", "--root", "/nonexistent/machine"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
        check=False,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--root" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "torch_wizard", "--index-base", "http://mirror.example.org/whl"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
        check=False,
    )
    assert r.returncode == 2 and "--allow-insecure-index" in r.stderr


@pytest.mark.parametrize(
    ("args", "tty_ends"),
    [
        ((), ()),  # a bare torch-wizard from a script: pipes everywhere
        (("--dry-run",), ()),
        (("--dry-run",), ("stdin", "stderr")),  # torch-wizard --dry-run | less
        ((), ("stdout", "stderr")),  # echo | torch-wizard
    ],
)
def test_no_terminal_exits_2_with_one_line_before_textual(
    args: tuple[str, ...], tty_ends: tuple[str, ...]
) -> None:
    """Without a terminal on stdin, stdout and stderr the wizard does not start (it would write
    escape codes into the pipe and wait for keys forever): one line pointing at the headless
    commands, exit 2, at once."""
    master, slave = os.openpty()
    ends: dict[str, int] = {
        name: slave if name in tty_ends else subprocess.PIPE
        for name in ("stdin", "stdout", "stderr")
    }
    try:
        start = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch_wizard",
                *args,
                "--root",
                str(REPO / "tests/fixtures/machines/cpu-server"),
            ],
            cwd=REPO,
            **ends,  # type: ignore[arg-type]
        )
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # it started the UI and waits for keys: the bug this test is about
            proc.communicate()
            raise
        elapsed = time.monotonic() - start
        on_tty = b""
        while select.select([master], [], [], 0.2)[0]:
            on_tty += os.read(master, 65536)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 2
    stderr = (err or on_tty.replace(b"\r\n", b"\n")).decode()
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("torch-wizard: the wizard needs a terminal")
    assert "'torch-wizard plan'" in stderr and "'torch-wizard install --yes'" in stderr
    assert not out and b"\x1b" not in on_tty and "\x1b" not in stderr  # Textual never started
    assert elapsed < 10, f"{elapsed:.1f} s"


# --------------------------------------------------------------------------------------------------
# The Machine screen's verdict


@pytest.mark.parametrize(
    ("name", "level", "text"),
    [
        (
            "cpu-server",
            "cpu",
            "No GPU that PyTorch can use was found: PyTorch will run on the CPU.",
        ),
        (
            "gtx1080-driver580",
            "gpu",
            "NVIDIA GeForce GTX 1080 found (driver 580.82.07): PyTorch can use it.",
        ),
        (
            "h100x8",
            "gpu",
            "8x NVIDIA H100 80GB HBM3 found (driver 535.129.03): PyTorch can use them.",
        ),
        (
            "amd-gfx1100-rocm6.4",
            "gpu",
            "AMD Radeon RX 7900 XTX (gfx1100) found: PyTorch can use it through ROCm.",
        ),
        (
            "jetson-orin-jp62",
            "gpu",
            "Jetson AGX Orin (JetPack 6.2): PyTorch can use its GPU through NVIDIA's Jetson builds.",
        ),
        ("macbook-m2", "gpu", "Apple M2 Pro: PyTorch uses its GPU through MPS."),
        (
            "intel-arc",
            "gpu",
            "Intel Arc A770 found: PyTorch can use it through Intel's XPU builds.",
        ),
        (
            "raspberry-pi5",
            "cpu",
            "No GPU that PyTorch can use was found: PyTorch will run on the CPU.",
        ),
    ],
)
def test_machine_verdict_on_fixture_machines(name: str, level: str, text: str) -> None:
    verdict = machine_verdict(fixture_machine(name))
    assert (verdict.level, verdict.text) == (level, text)


def test_machine_verdict_warns_when_the_gpu_cannot_be_used() -> None:
    container = machine_verdict(fixture_machine("container-no-devnodes"))
    assert container.level == "warn" and "/dev/nvidia*" in container.text
    assert "PyTorch would run on the CPU" in container.text
    pi = machine_verdict(fixture_machine("raspberry-pi4-32bit"))
    assert pi.level == "warn" and "32-bit (armv7l)" in pi.text

    base = fixture_machine("cpu-server")
    no_driver = replace(base, nvidia=NvidiaInfo(gpus=(NvidiaGPU(0, "NVIDIA GeForce GTX 1080"),)))
    verdict = machine_verdict(no_driver)
    assert verdict.level == "warn" and "no NVIDIA driver is loaded" in verdict.text
    kepler = replace(
        base,
        nvidia=NvidiaInfo(
            driver_version="470.256.02",
            device_nodes=True,
            gpus=(NvidiaGPU(0, "NVIDIA Tesla K80", compute_capability="3.7"),),
        ),
    )
    verdict = machine_verdict(kepler)
    assert verdict.level == "warn" and "compute capability 5.0 or newer" in verdict.text
    windows_amd = replace(
        base,
        os=OSInfo(name="windows"),
        amd=AMDInfo(gpus=(AMDGPU(name="Radeon RX 7900 XTX", gfx="gfx1100"),)),
    )
    verdict = machine_verdict(windows_amd)
    assert verdict.level == "warn" and "only on Linux" in verdict.text
    intel_mac = replace(base, os=OSInfo(name="macos"))
    assert "2.2.2" in machine_verdict(intel_mac).text
    musl = replace(base, os=OSInfo(name="linux", libc="musl"))
    assert "musl" in machine_verdict(musl).text


# --------------------------------------------------------------------------------------------------
# The Run and Done screens' text


def test_progress_text_names_the_wheel_not_its_file() -> None:
    wheel = "torch-2.15.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert progress_text(wheel, 96_000_000, 192_000_000) == "torch 2.15.0+cu126  96.0 MB / 192.0 MB"
    assert progress_text(wheel, 0, 0) == "downloading torch 2.15.0+cu126"
    assert progress_text("build", 120, 5400) == "compiling: 120 of 5400 build steps"
    assert progress_text("numpy-2.3.1.tar.gz", 0, 0) == "downloading numpy-2.3.1.tar.gz"


def test_run_heading() -> None:
    plan = make_plan(fixture_machine("cpu-server"), Choices(venv=SNAP_VENV))
    assert run_heading(plan) == f"Installing PyTorch into {SNAP_VENV}"


@pytest.mark.parametrize("name", ["cpu-server", "rtx4090-driver550"])
def test_report_lines_read_the_rehearsal_report(name: str) -> None:
    """The canned report survives the verify module's own parser, and reads as plain words."""
    machine = fixture_machine(name)
    plan = make_plan(machine, Choices(venv=SNAP_VENV))
    line = f"{MARKER} {json.dumps(canned_report(plan, machine), sort_keys=True)}"
    report = parse_report(f"noise\n{line}\n")
    assert report is not None and report.ok and not report.error
    lines = report_lines(report, plan.choice.backend, plan.choice.torch)
    assert lines[0].startswith(f"torch {report.torch}")
    assert any("GFLOP/s" in x for x in lines)
    assert lines[-1] == "Check: a small matrix product came out exactly right"
    if plan.choice.backend == "cpu":
        assert lines[1] == "Runs on: the CPU, using its AVX2 instructions"
    else:
        assert lines[0] == "torch 2.15.0+cu126 (CUDA 12.6) on Python 3.11.9"
        assert lines[1] == "Runs on: the GPU through CUDA (NVIDIA GeForce RTX 4090)"


def test_report_lines_explain_a_mismatch() -> None:
    machine = fixture_machine("rtx4090-driver550")
    plan = make_plan(machine, Choices(venv=SNAP_VENV))
    data = canned_report(plan, machine)
    data.update(torch="2.15.0+cpu", cuda_build="", cuda_available=False, devices=[], device="cpu")
    report = parse_report(f"{MARKER} {json.dumps(data)}")
    assert report is not None
    lines = report_lines(report, "cu126", "2.15.0")
    assert lines[1].startswith("Runs on: the CPU")
    assert any(x.startswith("! ") and "CPU-only torch" in x for x in lines)


def test_rehearsal_keeps_the_plan_but_runs_quick_stand_ins() -> None:
    machine = fixture_machine("cpu-server")
    plan = make_plan(machine, Choices(venv=SNAP_VENV))
    fast = rehearsal(plan, machine)
    assert [(s.id, s.title) for s in fast.steps] == [(s.id, s.title) for s in plan.steps]
    assert fast.choice == plan.choice
    assert fast.step("create-venv").argv[-3:] == ("venv", "--without-pip", SNAP_VENV)
    assert fast.step("verify").argv[0] == f"{SNAP_VENV}/bin/python"


# --------------------------------------------------------------------------------------------------
# The step bar and the Choices legend


def test_step_bar_spacing_is_the_same_whichever_step_is_current() -> None:
    from torch_wizard.ui.widgets import STEP_SEPARATOR as SEP
    from torch_wizard.ui.widgets import step_bar_content

    steps = flow_steps("wheel", False)
    expected = f"torch-wizard 1 Machine {SEP} 2 Choices {SEP} 3 Preview {SEP} 4 Run {SEP} 5 Done"
    widths = set()
    for current in steps:
        plain = step_bar_content(steps, current).plain.rstrip()
        assert " ".join(plain.replace("▐", " ").replace("▌", " ").split()) == expected
        assert plain.count(f"▐{steps.index(current) + 1} ") == 1  # the current one, as a pill
        widths.add(len(plain))
    assert len(widths) == 1  # the bar does not shift as the flow moves on
    dry = step_bar_content(flow_steps("wheel", True), "choices")
    assert dry.plain.rstrip() == f"torch-wizard 1 Machine {SEP} ▐2 Choices▌ {SEP} 3 Preview"
    longest = step_bar_content(flow_steps("source", False), "done")
    assert len(longest.plain) <= 78  # fits 80 columns with the bar's padding
    # no styled run starts with a space (librsvg drops those in SVG screenshots)
    for content in (dry, longest):
        assert all(not content.plain[s.start : s.end].startswith(" ") for s in content.spans)


def test_choices_legend_fits_and_explains_the_marks() -> None:
    from torch_wizard.ui.screens.choices import legend_content

    legend = legend_content()
    assert legend.plain == "★ recommended · ✗ will not work here (see Why below) · Enter accepts"
    assert len(legend.plain) <= 78
    assert all(not legend.plain[s.start : s.end].startswith(" ") for s in legend.spans)


def test_plan_headline_says_what_the_commands_do() -> None:
    from torch_wizard.ui.state import plan_headline

    cpu = make_plan(fixture_machine("cpu-server"), Choices(venv=SNAP_VENV))
    assert plan_headline(cpu) == (
        "Installs torch 2.15.0 and torchvision 0.29.2, the CPU-only build [cpu], into "
        f"{SNAP_VENV} with pip."
    )
    assert plan_headline(cpu, dry_run=True).endswith(
        "Dry run: nothing runs here; copy or save the commands to run them."
    )
    gpu = make_plan(fixture_machine("rtx4090-driver550"), Choices(venv=SNAP_VENV))
    assert "the CUDA 12.6 build [cu126]" in plan_headline(gpu)
    source = make_plan(fixture_machine("cpu-server"), Choices(venv=SNAP_VENV, build="source"))
    assert plan_headline(source).startswith("Builds torch 2.15.0 from source (CPU only) into")
