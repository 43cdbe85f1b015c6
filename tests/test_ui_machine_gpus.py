"""Issue 11 on the Machine screen (the real app through Pilot): a driverless GPU gets the driver
advice; a machine whose GPUs work gets none."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.support.ui import machine_source, on_screen, wait_for
from torch_wizard.plan import Choices
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.machine import MachineScreen

SIZE = (100, 40)


def app_for(name: str, tmp_path: Path) -> WizardApp:
    return WizardApp(
        machine_source(name),
        Choices(venv=str(tmp_path / "venv")),
        save_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        dry_run=True,
    )


async def advice_of(name: str, tmp_path: Path) -> tuple[bool, str]:
    app = app_for(name, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, MachineScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.machine is not None)  # type: ignore[attr-defined]
        box = screen.query_one("#driver-advice", Static)
        return bool(box.display), str(box.render())


async def test_nouveau_rtx4090_shows_which_driver_and_what_then(tmp_path: Path) -> None:
    shown, text = await advice_of("rtx4090-nouveau", tmp_path)
    assert shown
    assert "NVIDIA GeForce RTX 4090 (Ada Lovelace, compute capability 8.9)" in text
    assert "nouveau driver in use cannot run CUDA" in text
    assert "`sudo ubuntu-drivers install`" in text and "branch 580" in text
    assert "torch 2.15.0 with CUDA 13.2 (cu132)" in text and "CPU build" in text


async def test_amd_without_kfd_shows_the_amdgpu_advice(tmp_path: Path) -> None:
    shown, text = await advice_of("rx7900xtx-no-rocm", tmp_path)
    assert shown and "amdgpu" in text and "render and video groups" in text


async def test_mixed_gpus_say_which_build_covers_both(tmp_path: Path) -> None:
    shown, text = await advice_of("gtx1080-rtx4090", tmp_path)
    assert shown and "cu126 is the newest build that covers all of them" in text
    assert "would leave NVIDIA GeForce GTX 1080 (6.1) out" in text
    assert "driver" not in text.lower().replace("driver 580", "")


async def test_a_working_gpu_needs_no_advice(tmp_path: Path) -> None:
    shown, _ = await advice_of("rtx4090-driver550", tmp_path)
    assert not shown


def test_verdicts_for_driverless_amd_and_old_nvidia() -> None:
    from tests.support.ui import fixture_machine
    from torch_wizard.ui.state import machine_verdict

    amd = machine_verdict(fixture_machine("rx7900xtx-no-rocm"))
    assert amd.level == "warn" and "ROCm cannot reach it (no /sys/class/kfd" in amd.text
    assert amd.text.startswith("AMD Radeon RX 7900 XT/7900 XTX")  # no "AMD AMD"
    k80 = machine_verdict(fixture_machine("k80-driver470"))
    assert "2x Tesla K80 found (driver 470.256.02), but they are too old" in k80.text
    assert "the newest torch whose CUDA build still covers them" in k80.text
    win = machine_verdict(fixture_machine("windows-amd-rx7900xtx"))
    assert win.text.startswith("AMD Radeon RX 7900 XTX (gfx1100) found, but PyTorch supports")


def test_verdict_when_the_driver_version_is_unknown() -> None:
    from dataclasses import replace

    from tests.support.ui import fixture_machine
    from torch_wizard.ui.state import machine_verdict

    m = fixture_machine("rtx4090-nouveau")
    m = replace(m, nvidia=replace(m.nvidia, kernel_driver="nvidia"))
    verdict = machine_verdict(m)
    assert "found with NVIDIA's driver, but its version is unknown" in verdict.text
    assert "no NVIDIA driver is loaded" not in verdict.text
