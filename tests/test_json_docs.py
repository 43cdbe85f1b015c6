"""docs/json.md describes every key of the JSON torch-wizard writes: the profile and the plan as
the real commands print them, the receipt, the doctor report and the lab report from the
dataclasses they are written from. A key added without a word in the document fails here."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from torch_wizard.commands.doctor import DOCTOR_SCHEMA, DoctorReport
from torch_wizard.commands.report import REPORT_SCHEMA, HostRow
from torch_wizard.run.receipt import RECEIPT_SCHEMA, Receipt, StepRecord
from torch_wizard.run.verify import Device, PackageCheck, VerifyReport

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "json.md").read_text("utf-8")
ROOT = str(REPO / "tests" / "fixtures" / "machines" / "rtx4090-driver550")


def section(title: str) -> str:
    """The text of the ``## title`` section."""
    m = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert m, title
    return m.group(1)


def named(text: str) -> set[str]:
    return set(re.findall(r"`([a-z0-9_]+)`", text))


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    r = subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert isinstance(data, dict)
    return data


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_profile_keys_are_documented() -> None:
    profile = _json("detect", "--json", "--root", ROOT)
    assert profile["schema_version"] == 1
    words = named(section("Profile"))
    missing = {k for k in profile if k not in words}
    for part, value in profile.items():
        if isinstance(value, dict):
            missing |= {f"{part}.{k}" for k in value if k not in words}
    missing |= {f"nvidia.gpus.{k}" for k in profile["nvidia"]["gpus"][0] if k not in words}
    assert not missing, missing


def test_plan_keys_are_documented() -> None:
    plan = _json("plan", "--root", ROOT, "--format", "json", "--venv", "/opt/torch")
    words = named(section("Plan"))
    missing = {k for k in plan if k not in words}
    missing |= {f"choice.{k}" for k in plan["choice"] if k not in words}
    missing |= {f"choice.network.{k}" for k in plan["choice"]["network"] if k not in words}
    missing |= {f"steps.{k}" for k in plan["steps"][0] if k not in words}
    missing |= {f"estimate.{k}" for k in plan["estimate"] if k not in words}
    assert not missing, missing
    assert plan["steps"][2]["id"] == "install-torch" and "`install-torch`" in section("Plan")


@pytest.mark.parametrize(
    ("title", "classes", "version"),
    [
        ("Receipt", (Receipt, StepRecord, VerifyReport, Device, PackageCheck), RECEIPT_SCHEMA),
        ("Doctor report", (DoctorReport,), DOCTOR_SCHEMA),
        ("Lab report", (HostRow,), REPORT_SCHEMA),
    ],
)
def test_written_keys_are_documented(title: str, classes: tuple[type, ...], version: int) -> None:
    words = named(section(title))
    assert "schema_version" in words and version == 1
    missing = {f"{c.__name__}.{k}" for c in classes for k in _fields(c) if k not in words}
    assert not missing, missing
