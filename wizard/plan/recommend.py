"""Recommendation: fill in choices from the machine and the catalog, with a reason for each."""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.catalog import Catalog
from wizard.machine.model import Machine
from wizard.plan.model import Choices, Plan, Resolved


@dataclass(frozen=True)
class Option:
    value: str  # "cu126", "2.9.1", "stable", "uv"
    label: str  # "CUDA 12.6", "2.9.1"
    available: bool = True  # False: shown but cannot be chosen (``why`` says why not)
    recommended: bool = False
    why: str = ""  # why it is recommended, or why it is not available


@dataclass(frozen=True)
class Options:
    choices: Choices  # the choices after adjustment (what a UI should now show as selected)
    resolved: Resolved | None  # None when no plan can be made (see ``error``)
    error: str = ""
    channels: tuple[Option, ...] = ()
    versions: tuple[Option, ...] = ()  # newest first
    backends: tuple[Option, ...] = ()
    packages: tuple[Option, ...] = ()
    installers: tuple[Option, ...] = ()
    builds: tuple[Option, ...] = ()
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    adjusted: tuple[str, ...] = field(default_factory=tuple)  # "torch 2.15.0 has no cu126 build, so cu128"


def explore(machine: Machine, choices: Choices, catalog: Catalog | None = None) -> Options:
    raise NotImplementedError  # the lead is writing this


def make_plan(machine: Machine, choices: Choices, catalog: Catalog | None = None) -> Plan:
    raise NotImplementedError  # the lead is writing this
