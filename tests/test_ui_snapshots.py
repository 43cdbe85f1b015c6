"""SVG snapshots of every screen at 80x24 and 120x40 for a CPU-only and an NVIDIA fixture machine,
plus the blocker screen, the Advanced, help and save dialogs.

Deterministic by construction: fixture machines with the host's Python facts pinned, a fixed venv
path, a fixed log file name shown through a path alias, elapsed times hidden, a fixed theme, no
cursor blink. Runs that reach the Done screen create a real venv under tmp_path, shown under the
fixed venv path through a path alias, and print a canned verification report. Update the baselines with ``pytest tests/test_ui_snapshots.py --snapshot-update``
and look at ``snapshot_report.html`` when one fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar

from tests.support.ui import (
    SNAP_VENV,
    machine_source,
    on_screen,
    past_machine,
    planner_with,
    py_step,
    rehearsal_planner,
    wait_for,
)
from torch_wizard.plan import Choices
from torch_wizard.run.runner import Runner
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.advanced import AdvancedScreen
from torch_wizard.ui.screens.blocker import BlockerScreen
from torch_wizard.ui.screens.done import DoneScreen
from torch_wizard.ui.screens.help import HelpScreen
from torch_wizard.ui.screens.preview import PreviewScreen
from torch_wizard.ui.screens.run import RunScreen
from torch_wizard.ui.screens.save import SaveScreen
from torch_wizard.ui.screens.source import SourceScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
MACHINES = {"cpu": "cpu-server", "nvidia": "rtx4090-driver550", "pi32": "raspberry-pi4-32bit"}
PAIR = ("cpu", "nvidia")

Steps = Callable[[Pilot[Any]], Awaitable[None]]


def make_app(
    tmp_path: Path,
    machine: str,
    *,
    dry_run: bool = True,
    theme: str = "textual-dark",
    real_venv: bool = False,
    **kw: Any,
) -> WizardApp:
    """The app on a fixture machine. ``real_venv``: plan for a venv under ``tmp_path`` (a run
    really creates it) shown as ``SNAP_VENV``; otherwise plan for ``SNAP_VENV`` itself."""
    state = tmp_path / "state"
    venv = tmp_path / ".venv"
    aliases = {str(state): "~/.local/state/torch-wizard"}
    if real_venv:
        aliases[str(venv)] = SNAP_VENV

    def runner(plan: Any) -> Runner:
        return Runner(plan, log_path=state / "install.log", preflight=False, grace=0.3)

    return WizardApp(
        machine_source(MACHINES[machine]),
        Choices(venv=str(venv) if real_venv else SNAP_VENV),
        dry_run=dry_run,
        save_dir=kw.pop("save_dir", tmp_path),
        state_dir=state,
        runner_factory=runner,
        show_timings=False,
        path_aliases=aliases,
        theme=theme,
        **kw,
    )


def still(steps: Steps) -> Steps:
    """Run ``steps``, then stop cursors blinking so a screenshot is the same every time."""

    async def run(pilot: Pilot[Any]) -> None:
        await steps(pilot)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()

    return run


async def machine_screen(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "machine", None) is not None)


async def choices_screen(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)


async def source_screen(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    build = pilot.app.screen.query_one("#set-build")
    source = next(b for b in build.children if b.name == "source")
    await pilot.click(source)
    await wait_for(pilot, lambda: pilot.app.screen.options.choices.build == "source")
    await pilot.press("enter")
    await on_screen(pilot, SourceScreen)


async def preview_screen(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    await pilot.press("enter")
    await on_screen(pilot, PreviewScreen)


async def run_to_done(pilot: Pilot[Any]) -> None:
    await preview_screen(pilot)
    await pilot.press("r")
    await on_screen(pilot, DoneScreen)


@SIZES
@pytest.mark.parametrize("machine", PAIR)
@pytest.mark.parametrize(
    "steps",
    [machine_screen, choices_screen, source_screen, preview_screen],
    ids=lambda f: f.__name__,
)
def test_screens(
    snap_compare: Any, tmp_path: Path, machine: str, steps: Steps, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(tmp_path, machine), terminal_size=size, run_before=still(steps))


@SIZES
def test_choices_light_theme(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, "nvidia", theme="textual-light")
    assert snap_compare(app, terminal_size=size, run_before=still(choices_screen))


async def blocker_screen(pilot: Pilot[Any]) -> None:
    await machine_screen(pilot)
    await pilot.press("enter")
    await on_screen(pilot, BlockerScreen)


async def advanced_dialog(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    await pilot.press("a")
    await on_screen(pilot, AdvancedScreen)


async def help_dialog(pilot: Pilot[Any]) -> None:
    await preview_screen(pilot)
    await pilot.press("f1")
    await on_screen(pilot, HelpScreen)


async def save_dialog(pilot: Pilot[Any]) -> None:
    await preview_screen(pilot)
    await pilot.press("s")
    await on_screen(pilot, SaveScreen)


@SIZES
@pytest.mark.parametrize(
    ("machine", "steps"),
    [
        ("pi32", blocker_screen),
        ("nvidia", advanced_dialog),
        ("cpu", help_dialog),
        ("cpu", save_dialog),
    ],
    ids=["blocker", "advanced", "help", "save"],
)
def test_dialogs(
    snap_compare: Any, tmp_path: Path, machine: str, steps: Steps, size: tuple[int, int]
) -> None:
    app = make_app(tmp_path, machine, save_dir=Path("/tmp/torch-wizard-ui-snapshot"))
    assert snap_compare(app, terminal_size=size, run_before=still(steps))


@SIZES
@pytest.mark.parametrize("machine", PAIR)
def test_run_screen(snap_compare: Any, tmp_path: Path, machine: str, size: tuple[int, int]) -> None:
    release = tmp_path / "release"
    planner = rehearsal_planner("wait", release)
    app = make_app(tmp_path, machine, dry_run=False, planner=planner, real_venv=True)

    async def mid_run(pilot: Pilot[Any]) -> None:
        await preview_screen(pilot)
        await pilot.press("r")
        await on_screen(pilot, RunScreen)
        bar = pilot.app.screen.query_one(ProgressBar)
        await wait_for(pilot, lambda: bar.progress == 96000000)

    try:
        assert snap_compare(app, terminal_size=size, run_before=still(mid_run))
    finally:
        release.write_text("go")


@SIZES
def test_cancel_confirmation(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    release = tmp_path / "release"
    code = f"import os, time\nprint('working', flush=True)\nwhile not os.path.exists({str(release)!r}): time.sleep(0.05)\n"
    steps = (py_step("install-torch", "Install torch (fixture)", code),)
    app = make_app(tmp_path, "cpu", dry_run=False, planner=planner_with(*steps))

    async def confirm(pilot: Pilot[Any]) -> None:
        await preview_screen(pilot)
        await pilot.press("r")
        await on_screen(pilot, RunScreen)
        await wait_for(pilot, lambda: len(pilot.app.screen.query_one("Log").lines) >= 2)
        await pilot.press("escape")
        await pilot.pause(0.2)

    try:
        assert snap_compare(app, terminal_size=size, run_before=still(confirm))
    finally:
        release.write_text("go")


@SIZES
@pytest.mark.parametrize("machine", PAIR)
def test_done_ok(snap_compare: Any, tmp_path: Path, machine: str, size: tuple[int, int]) -> None:
    planner = rehearsal_planner("ok")
    app = make_app(tmp_path, machine, dry_run=False, planner=planner, real_venv=True)
    assert snap_compare(app, terminal_size=size, run_before=still(run_to_done))
    assert (tmp_path / ".venv" / "pyvenv.cfg").is_file()  # the run really made the venv


@SIZES
@pytest.mark.parametrize("machine", PAIR)
def test_done_failed(
    snap_compare: Any, tmp_path: Path, machine: str, size: tuple[int, int]
) -> None:
    planner = rehearsal_planner("fail")
    app = make_app(tmp_path, machine, dry_run=False, planner=planner, real_venv=True)
    assert snap_compare(app, terminal_size=size, run_before=still(run_to_done))
    assert not (tmp_path / ".venv").exists()  # the new venv is removed: torch never got in
