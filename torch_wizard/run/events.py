"""What the runner reports while it runs a plan. Consumers: the console printer and the Run screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from torch_wizard.plan.model import Step
from torch_wizard.run.verify import VerifyReport

Outcome = Literal["ok", "failed", "cancelled"]
# What became of the target venv: "created" (this run made it and kept it), "removed" (this run made
# it, failed before torch was installed, and deleted it again), "existing" (it was there before and
# was never deleted), "absent" (never created), "partial" (made by this run; removal failed).
VenvState = Literal["created", "removed", "existing", "absent", "partial", ""]


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
    venv_state: VenvState = ""
    venv_note: str = ""  # one sentence: what became of the venv
    verify: VerifyReport | None = None  # the verification report, when the verify step ran
    problems: tuple[str, ...] = ()  # preflight problems or verification diagnoses
    duration: float = 0.0  # seconds, the whole run


@dataclass(frozen=True)
class Notice:
    """Something the runner itself says (a timeout, a cancel in progress, leftover processes)."""

    index: int  # the step it concerns, -1 for the run as a whole
    text: str


Event = StepStarted | Output | Progress | StepFinished | Finished | Notice
