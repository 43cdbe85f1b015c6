"""Plans: recommendation (with reasons) and the planners that turn choices into exact steps.

API contract:
- ``make_plan(machine, choices, catalog=None) -> Plan``: raises ``UsageError`` with one sentence
  naming the problem and the fix for an impossible combination.
- ``explore(machine, choices, catalog=None) -> Options``: everything a UI needs to offer choices:
  the options per field with availability, the recommendation and why, what was adjusted.
- ``torch_wizard.plan.render``: ``render(plan, fmt)`` for text/sh/ps1/json and ``command_line(step)``.

Modules by job: ``validate`` (input checks), ``fit`` (which releases and backends fit),
``resolve`` with ``resolve_gpu`` and ``resolve_install`` (the decisions and their reasons),
``options`` (the UI's option lists), ``wheel`` and ``source`` (plan building), ``describe``,
``estimate``, ``notes``, ``advice`` and ``drivers`` (words, sizes and driver advice).
"""

from __future__ import annotations

from torch_wizard.plan.model import (
    DEFAULT_INDEX_BASE,
    DEFAULT_PACKAGES,
    Choices,
    Estimate,
    Plan,
    Resolved,
    SourceOptions,
    Step,
)
from torch_wizard.plan.options import Option, Options, explore
from torch_wizard.plan.wheel import make_plan

__all__ = [
    "DEFAULT_INDEX_BASE",
    "DEFAULT_PACKAGES",
    "Choices",
    "Estimate",
    "Option",
    "Options",
    "Plan",
    "Resolved",
    "SourceOptions",
    "Step",
    "explore",
    "make_plan",
]
