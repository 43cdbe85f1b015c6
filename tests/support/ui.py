"""Helpers for the Textual wizard's tests: fixture machines, fast real plans, app builders."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from wizard.machine import detect
from wizard.machine.model import Machine
from wizard.plan.model import Choices, Plan, Step
from wizard.run.runner import Runner

REPO = Path(__file__).resolve().parents[2]
MACHINES = REPO / "tests" / "fixtures" / "machines"
PY = sys.executable
# A stable venv path for screens that show it: nothing is written there in dry-run flows.
SNAP_VENV = "/tmp/torch-wizard-ui-snapshot/.venv"


def fixture_machine(name: str) -> Machine:
    """Detect a fixture machine root, with the host-dependent Python facts pinned, so what the
    screens show does not depend on where the repository is checked out or which 3.11.x runs."""
    m = detect(root=MACHINES / name, target_path=SNAP_VENV)
    python = replace(m.python, version="3.11.9", executable="/usr/bin/python3.11")
    return replace(m, python=python)


def machine_source(name: str) -> Callable[[], Machine]:
    return lambda: fixture_machine(name)


def py_step(step_id: str, title: str, code: str, **kw: Any) -> Step:
    return Step(step_id, title, (PY, "-c", code), **kw)


def fast_plan(base: Plan, *steps: Step) -> Plan:
    """``base`` (a real plan, for its target and choices) with the steps replaced by quick ones."""
    return replace(base, steps=steps)


def planner_with(*steps: Step) -> Callable[[Machine, Choices], Plan]:
    """A planner that makes the real plan, then swaps its steps for ``steps`` (fast, no network)."""
    from wizard.plan import make_plan

    def plan(machine: Machine, choices: Choices) -> Plan:
        return fast_plan(make_plan(machine, choices), *steps)

    return plan


def runner_in(state_dir: Path, **kw: Any) -> Callable[[Plan], Runner]:
    def make(plan: Plan) -> Runner:
        return Runner(plan, state_dir=state_dir, preflight=False, **kw)

    return make


OK_STEPS = (
    py_step("create-venv", "Create the virtual environment", "print('created')"),
    py_step(
        "install-torch",
        "Install torch (fixture)",
        "import sys\nfor i in range(40): print(f'line {i}')\nprint('Progress 50 of 100')\n"
        "print('Progress 100 of 100')",
        progress="pip",
    ),
    py_step("check", "Check", "print('all good')"),
)

FAIL_STEPS = (
    py_step("create-venv", "Create the virtual environment", "print('created')"),
    py_step(
        "install-torch",
        "Install torch (fixture)",
        "import sys\nprint('Looking in indexes: http://127.0.0.1:9/whl/cpu')\n"
        "print('ERROR: Could not find a version that satisfies the requirement torch==9.9.9')\n"
        "sys.exit(1)",
    ),
    py_step("check", "Check", "print('never runs')"),
)


def blocking_steps(marker_file: Path) -> tuple[Step, ...]:
    """A plan whose second step writes its pid, prints a line and then waits (for cancel tests)."""
    code = (
        "import os, sys, time\n"
        f"open({str(marker_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('waiting for cancel', flush=True)\n"
        "time.sleep(120)"
    )
    return (
        py_step("create-venv", "Create the virtual environment", "print('created')"),
        py_step("install-torch", "Install torch (fixture, waits)", code),
    )


# --------------------------------------------------------------------------------------------------
# Driving the app


async def wait_for(pilot: Pilot[Any], check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; screen is {pilot.app.screen!r}")
        await pilot.pause(0.05)


async def on_screen(pilot: Pilot[Any], kind: type, timeout: float = 15.0) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), timeout)
    await pilot.pause()


async def past_machine(pilot: Pilot[Any]) -> None:
    """Wait for detection on the Machine screen, then accept it with Enter."""
    from wizard.ui.screens.choices import ChoicesScreen
    from wizard.ui.screens.machine import MachineScreen

    await on_screen(pilot, MachineScreen)
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "machine", None) is not None)
    await pilot.press("enter")
    await on_screen(pilot, ChoicesScreen)
