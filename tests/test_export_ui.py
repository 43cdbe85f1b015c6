"""The Preview offers both exports: a key each (x: requirements, p: pyproject) and a palette
command each; what they save is what ``torch-wizard export`` prints for the same plan."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from textual.command import CommandPalette

from tests.support.ui import machine_source, on_screen, past_machine, wait_for
from torch_wizard.plan import Choices
from torch_wizard.plan.project import plan_export
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.preview import PreviewScreen
from torch_wizard.ui.screens.save import SaveScreen

SIZE = (100, 32)


def app_for(tmp_path: Path) -> WizardApp:
    return WizardApp(
        machine_source("cpu-server"),
        Choices(venv=str(tmp_path / "venv")),
        dry_run=True,
        save_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
    )


async def test_keys_save_both_exports(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        plan = app.state.plan
        assert plan is not None
        for key in ("x", "p"):
            await pilot.press(key)
            await on_screen(pilot, SaveScreen)
            await pilot.press("enter")
            await on_screen(pilot, PreviewScreen)
    requirements = (tmp_path / "out" / "requirements-torch.txt").read_text()
    assert requirements == plan_export(plan, "requirements")
    assert f"--index-url {plan.choice.index_url}" in requirements.splitlines()
    assert f"torch=={plan.choice.torch}" in requirements.splitlines()
    fragment = (tmp_path / "out" / "pyproject-torch.toml").read_text()
    assert fragment == plan_export(plan, "pyproject")
    uv = tomlkit.parse(fragment).unwrap()["tool"]["uv"]
    assert uv["index"] == [{"name": "pytorch-cpu", "url": plan.choice.index_url, "explicit": True}]
    assert uv["sources"]["torch"] == [
        {
            "index": "pytorch-cpu",
            "marker": "sys_platform == 'linux' and platform_machine == 'x86_64'",
        }
    ]


async def test_palette_offers_both_exports(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Export requirements file", "Export pyproject tables"} <= set(titles)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: CommandPalette.is_open(app))  # type: ignore[arg-type]
        await pilot.press(*"export pyproject")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await on_screen(pilot, SaveScreen)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
    assert "[tool.uv.sources]" in (tmp_path / "out" / "pyproject-torch.toml").read_text()
