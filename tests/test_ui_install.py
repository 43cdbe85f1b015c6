"""The whole wizard on this machine: detect, accept, preview, run a real CPU install of torch 2.13.0
from a local index on 127.0.0.1, and a Done screen with the verification report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import torchindex
from tests.support.httpserver import serve_directory
from tests.support.ui import on_screen, past_machine, wait_for
from torch_wizard.machine import detect
from torch_wizard.machine.model import Machine
from torch_wizard.plan import Choices
from torch_wizard.plan.model import Plan
from torch_wizard.run.runner import Runner
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.done import DoneScreen
from torch_wizard.ui.screens.preview import PreviewScreen


@pytest.mark.slow
async def test_wizard_installs_torch_from_a_local_index(tmp_path: Path) -> None:
    why_not = torchindex.supported_here()
    if why_not:
        pytest.skip(why_not)
    root = torchindex.build_index()
    if root is None:
        pytest.skip(f"no local torch index: {torchindex.last_error}")
    venv = tmp_path / "venv"

    def host() -> Machine:
        return detect(target_path=str(venv))

    def runner(plan: Plan) -> Runner:
        return Runner(plan, state_dir=tmp_path / "state", env=torchindex.clean_pip_env())

    with serve_directory(root) as url:
        choices = Choices(
            torch=torchindex.TORCH_VERSION,
            backend="cpu",
            packages=("torch",),
            venv=str(venv),
            index_base=f"{url}/whl",
        )
        app = WizardApp(
            host, choices, runner_factory=runner, save_dir=tmp_path, state_dir=tmp_path / "state"
        )
        async with app.run_test(size=(100, 32)) as pilot:
            await past_machine(pilot)
            await pilot.press("enter")
            await on_screen(pilot, PreviewScreen)
            plan = app.state.plan
            assert plan is not None
            assert f"--index-url {url}/whl/cpu" in " ".join(plan.step("install-torch").argv)
            await pilot.press("r")
            await on_screen(pilot, DoneScreen, timeout=600)
            finished = app.result.finished
            assert finished.outcome == "ok", finished.message
            report = finished.verify
            assert report is not None and report.ok
            assert report.torch.startswith(torchindex.TORCH_VERSION) and report.device == "cpu"
            assert report.gflops > 0
            shown = str(app.screen.query_one("#report").render())
            assert "GFLOP/s" in shown and f"torch {report.torch}" in shown
            use = str(app.screen.query_one("#use").render())
            assert f"source {venv}/bin/activate" in use
            assert Path(finished.log_path).is_file()
            assert finished.receipt_path and Path(finished.receipt_path).is_file()
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0
    assert (venv / "bin" / "python").exists()
