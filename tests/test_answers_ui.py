"""The Preview's "save answers" (key ``a``) writes a file that the command line's own reader
(``--config``) takes back as the same choices: the real app through Pilot, then the real CLI."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES
from tests.support.ui import machine_source, on_screen, past_machine
from torch_wizard.answers import parse_answers
from torch_wizard.commands.common import build_choices
from torch_wizard.plan import Choices
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.preview import PreviewScreen
from torch_wizard.ui.screens.save import SaveScreen


async def test_key_a_saves_answers_the_cli_reads_back(tmp_path: Path) -> None:
    chosen = Choices(venv=str(tmp_path / "venv"), torch="2.13.0", packages=("torch",),
                     installer="pip", cache_dir=str(tmp_path / "cache"))  # fmt: skip
    app = WizardApp(machine_source("cpu-server"), chosen, save_dir=tmp_path / "out",
                    state_dir=tmp_path / "state", dry_run=True)  # fmt: skip
    async with app.run_test(size=(100, 32)) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        await pilot.press("a")
        await on_screen(pilot, SaveScreen)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        state = app.state.choices
    saved = tmp_path / "out" / "torch-wizard-answers.toml"
    text = saved.read_text()
    again = build_choices(argparse.Namespace(**parse_answers(text, str(saved))))
    assert again == Choices(
        channel=state.channel, backend=state.backend, torch=state.torch, packages=state.packages,
        build=state.build, installer=state.installer, venv=state.venv, cache_dir=state.cache_dir,
        cache=state.cache, index_base=state.index_base, source=state.source,
    )  # fmt: skip
    assert again.torch == "2.13.0" and again.installer == "pip"
    # and the real CLI plans from it as the wizard did
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    r = subprocess.run(
        [sys.executable, "-m", "torch_wizard", "plan", "--format", "json", "--config", str(saved),
         "--root", str(FIXTURES / "machines" / "cpu-server")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    choice = json.loads(r.stdout)["choice"]
    assert (choice["torch"], choice["installer"], choice["venv"]) == (
        "2.13.0", "pip", str(tmp_path / "venv"),
    )  # fmt: skip
