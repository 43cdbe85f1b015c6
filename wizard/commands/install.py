"""``torch-wizard install``: plan (or load a saved plan) and run it, streaming its output.

Without ``--yes`` the plan is printed and nothing runs: on a terminal the user is asked, elsewhere
the command exits 2 asking for ``--yes``. Exit codes: 0 when the install verified, 1 when a step
failed, 2 for bad input or a pre-flight problem (nothing was run), 130 when cancelled (Ctrl+C).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TextIO

from wizard.errors import UsageError
from wizard.plan.model import Plan, Step
from wizard.run.events import Event, Finished, Notice, Output, Progress, StepFinished, StepStarted

PROG = "torch-wizard"


def load_plan(path: str) -> Plan:
    """A plan saved by ``plan --format json``; UsageError (exit 2) naming the fix otherwise."""
    from wizard.serial import SchemaError, from_json

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"--plan {path}: no such file; save one with 'torch-wizard plan --format json > FILE'"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(
            f"--plan {path} cannot be read ({err}): give a readable JSON plan file"
        ) from None
    except ValueError as err:
        raise UsageError(
            f"--plan {path} is not JSON ({err}): save it with 'torch-wizard plan --format json'"
        ) from None
    try:
        plan = from_json(Plan, data)
    except SchemaError as err:
        raise UsageError(
            f"--plan {path} is not a torch-wizard plan ({err}): save it with 'torch-wizard plan --format json'"
        ) from None
    if not plan.steps or any(not s.argv for s in plan.steps):
        raise UsageError(
            f"--plan {path} has a step without a command: save it again with 'torch-wizard plan --format json'"
        )
    return plan


def short_command(step: Step) -> str:
    """The step's command line, with an inline multi-line script shown as <script>."""
    argv = list(step.argv)
    if "-c" in argv:
        i = argv.index("-c") + 1
        if i < len(argv) and "\n" in argv[i]:
            argv[i] = "<verification script>" if step.id == "verify" else "<script>"
            return " ".join(shlex.quote(a) if not a.startswith("<") else a for a in argv)
    from wizard.plan.render import command_line

    return command_line(step)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


class ConsolePrinter:
    """Prints events for a person: a header per step, the output, sparse progress, the outcome."""

    def __init__(self, plan: Plan, out: TextIO, err: TextIO) -> None:
        self.plan = plan
        self.out = out
        self.err = err
        self._shown: dict[tuple[int, str], int] = {}

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, StepStarted):
            n = len(self.plan.steps)
            self.out.write(
                f"\n==> [{ev.index + 1}/{n}] {ev.step.title}\n$ {short_command(ev.step)}\n"
            )
        elif isinstance(ev, Output):
            self.out.write("".join(f"    {line}\n" for line in ev.lines))
        elif isinstance(ev, Progress):
            self._progress(ev)
        elif isinstance(ev, StepFinished):
            self.out.write(f"<== exit {ev.returncode} after {ev.duration:.1f} s\n")
        elif isinstance(ev, Notice):
            self.out.write(f"--- {ev.text}\n")
        elif isinstance(ev, Finished):
            self._finished(ev)
        self.out.flush()

    def _progress(self, ev: Progress) -> None:
        if not ev.total:
            return
        # At most every 25 %: a log-friendly trace (the UI draws a real bar).
        quarter = min(4, ev.done * 4 // ev.total)
        key = (ev.index, ev.label)
        if self._shown.get(key, -1) >= quarter:
            return
        self._shown[key] = quarter
        self.out.write(
            f"    ... {ev.label}: {_size(ev.done)} of {_size(ev.total)} ({quarter * 25} %)\n"
        )

    def _finished(self, ev: Finished) -> None:
        if ev.outcome == "ok":
            self.out.write(f"\nDone: {ev.message}.\n")
            if ev.venv_note:
                self.out.write(f"{ev.venv_note}\n")
        else:
            for p in ev.problems[1:]:
                self.err.write(f"{PROG}: also: {p}\n")
            self.err.write(f"{PROG}: {ev.message}\n")
            if ev.venv_note:
                self.err.write(f"{PROG}: {ev.venv_note}\n")
        if ev.log_path:
            self.out.write(f"Log: {ev.log_path}\n")
        if ev.receipt_path:
            self.out.write(f"Receipt: {ev.receipt_path}\n")


def exit_code(fin: Finished) -> int:
    if fin.outcome == "ok":
        return 0
    if fin.outcome == "cancelled":
        return 130
    return 2 if fin.failed_step == "preflight" else 1


def _confirm(plan: Plan, text: str) -> bool:
    sys.stdout.write(text)
    if not sys.stdin.isatty():
        raise UsageError(
            "nothing was run: add --yes to run this plan (no prompt without a terminal)"
        )
    sys.stdout.write(f"\nRun these {len(plan.steps)} steps? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def make_plan_from_args(args: argparse.Namespace) -> Plan:
    plan_file = getattr(args, "plan_file", None)
    if plan_file:
        return load_plan(plan_file)
    from wizard.commands.common import target_and_choices
    from wizard.plan import make_plan

    machine, choices = target_and_choices(args)
    return make_plan(machine, choices)


def run(args: argparse.Namespace) -> int:
    plan = make_plan_from_args(args)
    if plan.choice.build == "source" and not any(s.id != "create-venv" for s in plan.steps):
        raise UsageError("this plan has nothing to run (configure-only): drop --configure-only")
    if not getattr(args, "yes", False):
        from wizard.plan.render import render_text

        if not _confirm(plan, render_text(plan)):
            sys.stderr.write(f"{PROG}: nothing was run\n")
            return 2
    from wizard.run.runner import Runner, run_sync

    runner = Runner(plan, log_path=getattr(args, "log", None) or None)
    fin = run_sync(plan, ConsolePrinter(plan, sys.stdout, sys.stderr), runner=runner)
    return exit_code(fin)
