"""``torch-wizard`` (no subcommand) and ``torch-wizard --dry-run``: the Textual wizard.

Bad input is reported before the UI starts (one line on stderr, exit 2), and then a missing
terminal: the wizard reads keys from stdin and draws on the terminal (stderr on POSIX, stdout on
Windows), so without a TTY on stdin, stdout and stderr it exits 2 pointing at ``plan`` and
``install --yes`` instead of writing escape codes into a pipe and waiting for keys that never come.

Detection of this machine (or of ``--root DIR``) runs inside the app, in a thread worker after the
first paint, so the first screen appears at once; Textual is imported only here.

Leaving mid-run (Ctrl+Q, or SIGHUP when the terminal closes, SIGTERM, SIGINT) cancels the run and
waits until the runner has stopped its children; once the terminal is back, stderr gets what
happened, what became of the venv and where the log is, and the exit status is 130, as
``torch-wizard install`` returns for a cancel.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from torch_wizard.errors import UsageError

if TYPE_CHECKING:
    from torch_wizard.plan.model import Plan
    from torch_wizard.run.runner import Runner
    from torch_wizard.ui.app import WizardApp

PROG = "torch-wizard"
NO_TERMINAL = (
    "the wizard needs a terminal (stdin, stdout and stderr are not all one): "
    "use 'torch-wizard plan' to see the commands, 'torch-wizard install --yes' to run them"
)


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):  # closed or detached
        return False


def check_terminal() -> None:
    """Raise the no-terminal UsageError unless stdin, stdout and stderr are all terminals.

    Textual's web driver (``textual serve``, which sets TEXTUAL_DRIVER) talks over pipes, so it is
    let through."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    if not all(_is_tty(s) for s in (sys.stdin, sys.stdout, sys.stderr)):
        raise UsageError(NO_TERMINAL)


def run(args: argparse.Namespace) -> int:
    from torch_wizard.commands.common import choices_from_args, target_from_args
    from torch_wizard.machine.model import Machine
    from torch_wizard.plan.validate import check_index_base

    choices = choices_from_args(args)
    check_index_base(choices.index_base, choices.allow_insecure_index)
    root, profile = getattr(args, "root", None), getattr(args, "profile", None)
    if root and profile:
        raise UsageError("--root and --profile both name the target machine: give only one")
    if root and not Path(root).is_dir():
        raise UsageError(
            f"--root {root}: no such directory; give a fixture machine root (a directory)"
        )
    machine: Machine | None = None
    if profile:
        machine = target_from_args(args)  # a file read: cheap, and its errors come first

    def detect() -> Machine:
        return target_from_args(args)

    check_terminal()  # after the input checks: a wrong option is the more useful thing to hear
    from torch_wizard.answers import layered
    from torch_wizard.ui.app import WizardApp

    # the flag, else the answers file or the user config (step-timeout)
    step_timeout = float(getattr(layered(args), "step_timeout", None) or 0.0)

    def runner(plan: Plan) -> Runner:
        from torch_wizard.run.runner import Runner

        return Runner(plan, step_timeout=step_timeout)

    venv_note = ""
    if getattr(args, "venv", None) is None and choices.venv == ".venv":
        # The default venv is never the environment the wizard itself runs in.
        from dataclasses import replace

        from torch_wizard.ui.state import own_venv_default

        venv, venv_note = own_venv_default(
            choices.venv, os.getcwd(), sys.prefix, sys.base_prefix, os.path.expanduser("~")
        )
        choices = replace(choices, venv=venv)
    app = WizardApp(
        detect,
        choices,
        machine=machine,
        dry_run=bool(getattr(args, "dry_run", False)),
        runner_factory=runner if step_timeout else None,
        venv_note=venv_note,
    )
    return run_app(app)


def run_app(app: WizardApp, err: TextIO | None = None) -> int:
    """Run ``app`` in this terminal with the exit signals handled; afterwards report on ``err``
    (default stderr) what the user could not see on a screen, and return the exit status."""
    err = err or sys.stderr
    app.attach_terminal()
    app.run()
    lines = [app.error_message] if app.error_message else app.exit_lines()
    try:
        for line in lines:
            err.write(f"{PROG}: {line}\n")
        err.flush()
    except OSError:
        # The terminal is gone (SIGHUP): nobody can read it, and a failed flush at exit would turn
        # the exit status into 120. Drop what is buffered for the closed terminal.
        _discard_terminal_output()
    if app.error_message:
        return 2
    return int(app.return_code or 0)


def _discard_terminal_output() -> None:
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives until exit
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
        setattr(sys, name, devnull)
