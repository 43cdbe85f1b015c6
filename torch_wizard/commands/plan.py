"""``torch-wizard plan``: print the exact plan for this (or another) machine."""

from __future__ import annotations

import argparse
import sys

from torch_wizard.commands.common import target_and_choices
from torch_wizard.plan import make_plan
from torch_wizard.plan.render import render


def run(args: argparse.Namespace) -> int:
    machine, choices = target_and_choices(args)
    plan = make_plan(machine, choices)
    sys.stdout.write(render(plan, getattr(args, "format", "text") or "text"))
    from torch_wizard.catalog.core import age_note

    note = age_note()
    if note and getattr(args, "verbosity", 0) >= 0:
        print(f"torch-wizard: note: {note}", file=sys.stderr)
    return 0
