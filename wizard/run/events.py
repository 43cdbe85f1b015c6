"""What the runner reports while it runs a plan. Consumers: the console printer and the Run screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wizard.plan.model import Step

Outcome = Literal["ok", "failed", "cancelled"]


@dataclass(frozen=True)
class StepStarted:
    index: int  # position in plan.steps
    step: Step


@dataclass(frozen=True)
class Output:
    index: int
    lines: tuple[str, ...]  # display lines: ANSI stripped, carriage-return progress collapsed


@dataclass(frozen=True)
class Progress:
    index: int
    done: int  # bytes (pip/uv downloads) or build actions (ninja [N/M])
    total: int  # 0 when unknown
    label: str = ""  # the file being downloaded, or "build"


@dataclass(frozen=True)
class StepFinished:
    index: int
    returncode: int  # negative: killed by that signal
    duration: float  # seconds


@dataclass(frozen=True)
class Finished:
    outcome: Outcome
    message: str  # one sentence for the user
    log_path: str = ""
    receipt_path: str = ""
    failed_step: str = ""  # the id of the step that failed
    returncode: int = 0
    tail: tuple[str, ...] = field(default_factory=tuple)  # last lines of the failing step


Event = StepStarted | Output | Progress | StepFinished | Finished
