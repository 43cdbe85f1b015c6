"""``torch-wizard`` (no subcommand) and ``torch-wizard --dry-run``: the Textual wizard.

Bad input is reported before the UI starts (one line on stderr, exit 2). Detection of this machine
(or of ``--root DIR``) runs inside the app, in a thread worker after the first paint, so the first
screen appears at once; Textual is imported only here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wizard.errors import UsageError


def run(args: argparse.Namespace) -> int:
    from wizard.commands.common import choices_from_args, target_from_args
    from wizard.machine.model import Machine
    from wizard.plan.recommend import check_index_base

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

    from wizard.ui.app import WizardApp

    app = WizardApp(detect, choices, machine=machine, dry_run=bool(getattr(args, "dry_run", False)))
    app.run()
    if app.error_message:
        print(f"torch-wizard: {app.error_message}", file=sys.stderr)
        return 2
    return int(app.return_code or 0)
