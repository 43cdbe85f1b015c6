"""The receipt a run leaves in the venv (``torch-wizard-receipt.json``): the plan it ran, the
outcome, per-step timings, the versions it found and the verification report. ``doctor`` reads it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from torch_wizard.errors import UsageError
from torch_wizard.plan.model import Plan
from torch_wizard.run.paths import receipt_path
from torch_wizard.run.verify import VerifyReport

RECEIPT_SCHEMA = 1


@dataclass(frozen=True)
class StepRecord:
    id: str
    returncode: int
    duration: float  # seconds
    started: str  # ISO 8601, local time with offset


@dataclass(frozen=True)
class Receipt:
    outcome: str  # "ok", "failed", "cancelled"
    message: str
    plan: Plan
    steps: tuple[StepRecord, ...] = ()
    created: str = ""
    wizard_version: str = ""
    log_path: str = ""
    failed_step: str = ""
    duration: float = 0.0
    torch: str = ""  # the torch version verification found
    packages: dict[str, str] | None = None  # name -> version found in the venv
    verify: VerifyReport | None = None
    schema_version: int = RECEIPT_SCHEMA


def now_iso(t: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def write_receipt(venv: str | os.PathLike[str], receipt: Receipt) -> Path:
    """Write atomically (temp file + rename) into the venv; return the path."""
    from torch_wizard.serial import to_json

    path = receipt_path(venv)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_json(receipt), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_receipt(venv: str | os.PathLike[str]) -> Receipt | None:
    """The venv's receipt, None when there is none; UsageError when it is unreadable."""
    from torch_wizard.serial import SchemaError, from_json

    path = receipt_path(venv)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return from_json(Receipt, data)
    except (OSError, ValueError, SchemaError) as err:
        raise UsageError(
            f"the receipt {path} is unreadable ({err}): delete it or reinstall with "
            "'torch-wizard install'"
        ) from None
