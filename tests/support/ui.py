"""Helpers for the Textual wizard's tests: fixture machines, fast real plans, app builders."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.pilot import Pilot

from torch_wizard.machine import detect
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import Choices, Plan, Step
from torch_wizard.run.runner import Runner

if TYPE_CHECKING:
    from torch_wizard.ui.app import WizardApp

REPO = Path(__file__).resolve().parents[2]
MACHINES = REPO / "tests" / "fixtures" / "machines"
PY = sys.executable
# A stable venv path for screens that show it: nothing is written there in dry-run flows.
SNAP_VENV = "/tmp/torch-wizard-ui-snapshot/.venv"


def fixture_machine(name: str) -> Machine:
    """Detect a fixture machine root, with the host-dependent Python facts pinned, so what the
    screens show does not depend on where the repository is checked out or which 3.11.x runs."""
    m = detect(root=MACHINES / name, target_path=SNAP_VENV)
    python = replace(
        m.python,
        version="3.11.9",
        executable="/usr/bin/python3.11",
        base_executable="/usr/bin/python3.11",
        in_venv=False,
    )
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
    from torch_wizard.plan import make_plan

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


# --------------------------------------------------------------------------------------------------
# Rehearsals: the real plan's steps (ids, titles, venv) with quick stand-ins for what they run. The
# venv is really created (``python -m venv --without-pip``, a few hundredths of a second) and the
# verify step prints a canned report in the exact format ``torch_wizard.run.verify`` parses, so the Run
# and Done screens show what a real run shows, without a download.

GFLOPS = {"cpu": 612.4, "cuda": 21437.9}  # a 64-core EPYC, an RTX 4090: fixed, for snapshots


def canned_report(plan: Plan, machine: Machine) -> dict[str, object]:
    """The verification report a real run of ``plan`` on ``machine`` would print (fields of
    ``torch_wizard.run.verify.VerifyReport``)."""
    from torch_wizard.catalog.core import cuda_version, rocm_version

    c = plan.choice
    gpu = c.backend.startswith(("cu", "rocm"))
    device = "cuda" if gpu else "cpu"
    flags = machine.cpu.flags
    local = f"+{c.backend}" if c.backend not in ("pypi", "mps") else ""
    return {
        "ok": True,
        "error": "",
        "backend": c.backend,
        "expected_device": device,
        "device": device,
        "python": machine.python.version,
        "executable": f"{c.venv}/bin/python",
        "torch": f"{c.torch}{local}",
        "cuda_build": cuda_version(c.backend) if c.backend.startswith("cu") else "",
        "hip_build": rocm_version(c.backend) if c.backend.startswith("rocm") else "",
        "xpu_build": False,
        "cuda_available": gpu,
        "xpu_available": False,
        "mps_available": False,
        "devices": [
            {"kind": "cuda", "name": g.name, "capability": g.compute_capability}
            for g in (machine.nvidia.gpus if gpu else ())
        ],
        "cpu_capability": "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "",
        "matmul_ok": True,
        "matmul_mismatches": 0,
        "gflops": GFLOPS[device],
        "import_seconds": 0.912,
        "packages": {name: f"{version}{local}" for name, version in c.packages.items()},
    }


def _pip_lines(plan: Plan) -> list[str]:
    """What pip prints before the torch download (the wheel's size here is illustrative)."""
    c = plan.choice
    index = c.index_url or "https://pypi.org/simple"
    lines = [f"Looking in indexes: {index}"]
    for name, version in c.packages.items():
        lines.append(f"Collecting {name}=={version}")
        if name == "torch":
            local = f"%2B{c.backend}" if c.index_url else ""
            lines.append(
                f"  Downloading {index}/torch-{version}{local}-cp311-cp311-"
                "manylinux_2_28_x86_64.whl (192.0 MB)"
            )
    lines.append(f"Collecting filelock (from torch=={c.torch})")
    lines.append(f"Collecting sympy>=1.13.3 (from torch=={c.torch})")
    return lines


def rehearsal(
    plan: Plan, machine: Machine, outcome: str = "ok", release: Path | None = None
) -> Plan:
    """``plan`` with each step's command swapped for a quick stand-in.

    ``outcome``: "ok" (every step passes, the verify step prints ``canned_report``), "fail" (the
    torch install fails as on an index without the wheel), "wait" (the torch install stops half
    way until ``release`` exists).
    """
    from torch_wizard.run.verify import MARKER

    venv = plan.choice.venv
    vpy = f"{venv}/bin/python"
    steps: list[Step] = []
    for step in plan.steps:
        if step.id == "create-venv":
            argv: tuple[str, ...] = (PY, "-m", "venv", "--without-pip", venv)
        elif step.id == "upgrade-pip":
            argv = (PY, "-c", "print('Requirement already satisfied: pip in ./.venv (25.1.1)')")
        elif step.id == "install-torch":
            out = _pip_lines(plan)
            code = f"for line in {out!r}: print(line)\nprint('Progress 96000000 of 192000000')\n"
            if outcome == "fail":
                code = (
                    f"print({out[0]!r})\nprint('ERROR: Could not find a version that satisfies "
                    f"the requirement torch=={plan.choice.torch} (from versions: none)')\n"
                    "raise SystemExit(1)\n"
                )
            elif outcome == "wait":
                if release is None:
                    raise ValueError("a waiting rehearsal needs a release file")
                code += (
                    "import os, sys, time\nsys.stdout.flush()\n"
                    f"while not os.path.exists({str(release)!r}): time.sleep(0.05)\n"
                )
            else:
                code += "print('Progress 192000000 of 192000000')\n"
                code += f"print('Successfully installed torch-{plan.choice.torch}')\n"
            argv = (vpy, "-c", code)
        elif step.id == "verify":
            line = f"{MARKER} {json.dumps(canned_report(plan, machine), sort_keys=True)}"
            argv = (vpy, "-c", f"print({line!r})")
        else:
            argv = (PY, "-c", f"print({step.id!r})")
        steps.append(replace(step, argv=argv))
    return replace(plan, steps=tuple(steps))


def rehearsal_planner(
    outcome: str = "ok", release: Path | None = None
) -> Callable[[Machine, Choices], Plan]:
    """The real planner, its plan turned into a ``rehearsal``."""
    from torch_wizard.plan import make_plan

    def plan(machine: Machine, choices: Choices) -> Plan:
        return rehearsal(make_plan(machine, choices), machine, outcome, release)

    return plan


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


def sleeping_steps(venv: Path, marker: str) -> tuple[Step, ...]:
    """A real venv, then a step that sleeps for ten minutes with ``marker`` in its argv (so a
    test can look for it in the process table): for leaving the app mid-run."""
    return (
        Step(
            "create-venv",
            "Create the virtual environment",
            (PY, "-m", "venv", "--without-pip", str(venv)),
        ),
        Step(
            "install-torch",
            "Install torch (fixture, sleeps)",
            (PY, "-c", "import time; time.sleep(600)", marker),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    """The ``torch-wizard`` command's own path (``torch_wizard.commands.ui.run_app``: signals, the report
    on stderr, the exit status) around an app on the cpu-server fixture whose plan is
    ``sleeping_steps``. Writes its pid before the app starts and its exit status after::

        python -m tests.support.ui --venv V --state DIR --marker-file F --pid-file F --status-file F

    The marker is read from a file so that only the sleeping step has it in its argv (not this
    process, its shell, or the tmux server that keeps the command line it was started with).
    """
    from torch_wizard.commands.ui import run_app
    from torch_wizard.ui.app import WizardApp

    p = argparse.ArgumentParser()
    for name in ("--venv", "--state", "--marker-file", "--pid-file", "--status-file"):
        p.add_argument(name, required=True)
    args = p.parse_args(argv)
    marker = Path(args.marker_file).read_text().strip()
    app = WizardApp(
        machine_source("cpu-server"),
        Choices(venv=args.venv),
        planner=planner_with(*sleeping_steps(Path(args.venv), marker)),
        runner_factory=runner_in(Path(args.state)),
        save_dir=args.state,
        state_dir=args.state,
    )
    Path(args.pid_file).write_text(str(os.getpid()))
    code = run_app(app)
    Path(args.status_file).write_text(str(code))
    return code


# --------------------------------------------------------------------------------------------------
# Building the app


def app_for(name: str, tmp_path: Path, **kw: Any) -> WizardApp:
    """The wizard on fixture machine ``name``, a dry run unless ``dry_run=False``, with its venv,
    saved files and state under ``tmp_path``; ``kw`` goes to ``WizardApp``."""
    from torch_wizard.ui.app import WizardApp

    kw.setdefault("dry_run", True)
    return WizardApp(
        machine_source(name),
        kw.pop("choices", Choices(venv=str(tmp_path / "venv"))),
        save_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        **kw,
    )


def running_app(name: str, tmp_path: Path, *steps: Step, **kw: Any) -> WizardApp:
    """``app_for`` a real run whose plan is ``steps``, its runner's state in ``tmp_path/state``."""
    return app_for(
        name,
        tmp_path,
        dry_run=False,
        planner=planner_with(*steps),
        runner_factory=runner_in(tmp_path / "state"),
        **kw,
    )


def text_of(widget: Any) -> str:
    """What a Static or a Label shows, as plain text."""
    return str(widget.render())


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
    from torch_wizard.ui.screens.choices import ChoicesScreen
    from torch_wizard.ui.screens.machine import MachineScreen

    await on_screen(pilot, MachineScreen)
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "machine", None) is not None)
    await pilot.press("enter")
    await on_screen(pilot, ChoicesScreen)


if __name__ == "__main__":
    sys.exit(main())
