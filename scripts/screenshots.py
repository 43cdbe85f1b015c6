"""Save an SVG of every wizard screen into screenshots/, from the real app driven with Pilot.

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--size 100x30]

Fixture machines (tests/fixtures/machines) stand in for the hardware; the Run and Done screens
come from real runs of rehearsals of the real plan (tests/support/ui.py): the venv is really
created, the install prints pip-like lines, the verify step prints a canned report, so nothing
is downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input, ProgressBar  # noqa: E402

from tests.support.ui import (  # noqa: E402
    SNAP_VENV,
    machine_source,
    on_screen,
    past_machine,
    rehearsal_planner,
    wait_for,
)
from torch_wizard.machine.model import Machine  # noqa: E402
from torch_wizard.plan import Choices  # noqa: E402
from torch_wizard.plan.model import Plan  # noqa: E402
from torch_wizard.run.runner import Runner  # noqa: E402
from torch_wizard.ui.app import WizardApp  # noqa: E402
from torch_wizard.ui.screens.advanced import AdvancedScreen  # noqa: E402
from torch_wizard.ui.screens.blocker import BlockerScreen  # noqa: E402
from torch_wizard.ui.screens.done import DoneScreen  # noqa: E402
from torch_wizard.ui.screens.help import HelpScreen  # noqa: E402
from torch_wizard.ui.screens.preview import PreviewScreen  # noqa: E402
from torch_wizard.ui.screens.run import RunScreen  # noqa: E402
from torch_wizard.ui.screens.source import SourceScreen  # noqa: E402

Drive = Callable[[Pilot[Any]], Awaitable[None]]


async def to_preview(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    await pilot.press("enter")
    await on_screen(pilot, PreviewScreen)


async def to_source(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    build = pilot.app.screen.query_one("#set-build")
    await pilot.click(next(b for b in build.children if b.name == "source"))
    await wait_for(pilot, lambda: pilot.app.screen.options.choices.build == "source")
    await pilot.press("enter")
    await on_screen(pilot, SourceScreen)


async def to_advanced(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    await pilot.press("a")
    await on_screen(pilot, AdvancedScreen)


async def to_blocker(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "machine", None) is not None)
    await pilot.press("enter")
    await on_screen(pilot, BlockerScreen)


async def to_help(pilot: Pilot[Any]) -> None:
    await to_preview(pilot)
    await pilot.press("f1")
    await on_screen(pilot, HelpScreen)


async def to_done(pilot: Pilot[Any]) -> None:
    await to_preview(pilot)
    await pilot.press("r")
    await on_screen(pilot, DoneScreen)


async def shoot(
    out: Path,
    name: str,
    machine: str,
    drive: Drive,
    size: tuple[int, int],
    *,
    planner: Callable[[Machine, Choices], Plan] | None = None,
    theme: str = "textual-dark",
    after: Callable[[], None] | None = None,
) -> Path:
    """Save one screen. With a ``planner`` the app runs for real (``dry_run`` off) into a venv in
    a temporary folder, shown as ``SNAP_VENV``."""
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        venv = Path(tmp) / ".venv"

        def runner(plan: Plan) -> Runner:
            return Runner(plan, log_path=state / "install.log", preflight=False, grace=0.3)

        app = WizardApp(
            machine_source(machine),
            Choices(venv=str(venv) if planner else SNAP_VENV),
            dry_run=planner is None,
            planner=planner,
            runner_factory=runner,
            save_dir=tmp,
            state_dir=state,
            show_timings=False,
            path_aliases={str(state): "~/.local/state/torch-wizard", str(venv): SNAP_VENV},
            theme=theme,
        )
        async with app.run_test(size=size) as pilot:
            await drive(pilot)
            for box in app.screen.query(Input):
                box.cursor_blink = False
            await pilot.pause(0.2)
            path = Path(app.save_screenshot(f"{name}.svg", str(out)))
            if after is not None:
                after()
    print(f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return path


async def main(out: Path, size: tuple[int, int]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cpu, nvidia = "cpu-server", "rtx4090-driver550"
    await shoot(
        out,
        "1-machine-nvidia",
        nvidia,
        lambda p: wait_for(p, lambda: getattr(p.app.screen, "machine", None) is not None),
        size,
    )
    await shoot(
        out,
        "1-machine-cpu",
        cpu,
        lambda p: wait_for(p, lambda: getattr(p.app.screen, "machine", None) is not None),
        size,
    )
    await shoot(
        out,
        "1-machine-container",
        "container-no-devnodes",
        lambda p: wait_for(p, lambda: getattr(p.app.screen, "machine", None) is not None),
        size,
    )
    await shoot(out, "2-choices-nvidia", nvidia, past_machine, size)
    await shoot(out, "2-choices-gtx1080", "gtx1080-driver580", past_machine, size)
    await shoot(out, "2-choices-cpu-light", cpu, past_machine, size, theme="textual-light")
    await shoot(out, "2-choices-jetson", "jetson-orin-jp62", past_machine, size)
    await shoot(out, "2-choices-advanced-nvidia", nvidia, to_advanced, size)
    await shoot(out, "2-blocker-pi-32bit", "raspberry-pi4-32bit", to_blocker, size)
    await shoot(out, "2b-source-nvidia", nvidia, to_source, size)
    await shoot(out, "3-preview-nvidia", nvidia, to_preview, size)
    await shoot(out, "3-preview-cpu", cpu, to_preview, size)
    await shoot(out, "3-preview-help-cpu", cpu, to_help, size)

    with tempfile.TemporaryDirectory() as tmp:
        release = Path(tmp) / "release"

        async def mid_run(pilot: Pilot[Any]) -> None:
            await to_preview(pilot)
            await pilot.press("r")
            await on_screen(pilot, RunScreen)
            bar = pilot.app.screen.query_one(ProgressBar)
            await wait_for(pilot, lambda: bar.progress == 96000000)

        def let_go() -> None:
            release.write_text("go")

        waiting = rehearsal_planner("wait", release)
        await shoot(out, "4-run-cpu", cpu, mid_run, size, planner=waiting, after=let_go)

    await shoot(out, "5-done-ok-cpu", cpu, to_done, size, planner=rehearsal_planner("ok"))
    await shoot(out, "5-done-ok-nvidia", nvidia, to_done, size, planner=rehearsal_planner("ok"))
    await shoot(out, "5-done-failed-cpu", cpu, to_done, size, planner=rehearsal_planner("fail"))


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--size", type=parse_size, default=(100, 30), help="WIDTHxHEIGHT")
    args = parser.parse_args()
    asyncio.run(main(args.out, args.size))
