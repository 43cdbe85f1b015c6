"""``install -q`` / ``-v``: what the console printer shows of a real plan's run events. Quiet
keeps each step's header and the outcome and leaves out its output and progress (the log keeps
them); verbose shows each step's whole command line, the verification script included."""

from __future__ import annotations

import io
from pathlib import Path

from torch_wizard.commands.install import ConsolePrinter
from torch_wizard.machine import apply_overrides, detect
from torch_wizard.plan import Choices, make_plan
from torch_wizard.plan.render import command_line
from torch_wizard.run.events import Finished, Output, Progress, StepFinished, StepStarted

CPU = Path(__file__).resolve().parent / "fixtures" / "machines" / "cpu-server"


def _printed(verbosity: int) -> tuple[str, str]:
    machine = apply_overrides(detect(root=str(CPU)))
    plan = make_plan(machine, Choices(backend="cpu", venv="/tmp/tw-v", installer="pip"))
    verify = next(i for i, s in enumerate(plan.steps) if s.id == "verify")
    out, err = io.StringIO(), io.StringIO()
    printer = ConsolePrinter(plan, out, err, verbosity)
    for ev in (
        StepStarted(verify, plan.steps[verify]),
        Output(verify, ("torch 2.15.0+cpu imported",)),
        Progress(verify, 10_000_000, 10_000_000, "torch.whl"),
        StepFinished(verify, 0, 1.5),
        Finished("ok", "torch 2.15.0 works on the CPU"),
    ):
        printer(ev)
    return out.getvalue(), command_line(plan.steps[verify])


def test_default_shows_output_and_a_short_command() -> None:
    text, full = _printed(0)
    assert "<verification script>" in text and full not in text
    assert "    torch 2.15.0+cpu imported\n" in text and "(100 %)" in text
    assert "Done: torch 2.15.0 works on the CPU." in text


def test_quiet_leaves_out_output_and_progress() -> None:
    text, _ = _printed(-1)
    assert "==> [" in text and "Verify" in text and "<== exit 0" in text
    assert "imported" not in text and "%)" not in text
    assert "Done: torch 2.15.0 works on the CPU." in text


def test_verbose_shows_the_whole_command_line() -> None:
    text, full = _printed(1)
    assert f"$ {full}\n" in text and "<verification script>" not in text
    assert "import json" in text  # the script itself
