"""``torch-wizard report DIR``: the table over fetched lab reports. The files are written by
torch-wizard's own code (``write_receipt`` with real plans for fixture machines, ``to_json`` of
doctor reports), laid out as the playbook fetches them; the real CLI reads them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from torch_wizard.commands.doctor import DoctorReport
from torch_wizard.machine import detect
from torch_wizard.plan import make_plan
from torch_wizard.plan.model import Choices
from torch_wizard.run.receipt import Receipt, write_receipt
from torch_wizard.run.verify import VerifyReport
from torch_wizard.serial import to_json

MACHINES = FIXTURES / "machines"


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", "report", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def host(
    reports: Path,
    name: str,
    machine: str,
    *,
    outcome: str = "ok",
    problems: tuple[str, ...] = (),
    gflops: float = 0.0,
    device: str = "",
    doctor: bool = True,
) -> None:
    folder = reports / name
    folder.mkdir(parents=True)
    plan = make_plan(
        detect(root=MACHINES / machine), Choices(torch="2.9.1", venv=str(folder / "v"))
    )
    c = plan.choice
    torch = f"{c.torch}+{c.backend}" if outcome == "ok" else ""
    verify = VerifyReport(ok=outcome == "ok", torch=torch, device=device, gflops=gflops)
    message = "torch 2.9.1 works" if outcome == "ok" else "Step 'install-torch' failed (exit 1)"
    (folder / "v").mkdir()
    receipt = Receipt(outcome=outcome, message=message, plan=plan, torch=torch, verify=verify,
                      created="2026-12-03T18:00:00+0000")  # fmt: skip
    written = write_receipt(folder / "v", receipt)
    written.rename(folder / "receipt.json")
    if doctor:
        d = DoctorReport(venv=c.venv, torch=torch, variant=c.backend, device=device,
                         gflops=gflops, problems=problems, verify=verify)  # fmt: skip
        (folder / "doctor.json").write_text(json.dumps(to_json(d), indent=2))


def test_one_row_per_host_with_its_verdict(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    host(reports, "gpu-01", "gtx1080-driver580", gflops=4321.5, device="cuda:0")
    host(reports, "gpu-02", "rtx4090-driver550", gflops=65000.0, device="cuda:0",
         problems=("torch 2.9.1+cu129 is built with CUDA 12.9, which needs a newer driver",))  # fmt: skip
    host(reports, "amd-01", "amd-gfx1100-rocm6.4", outcome="failed")
    host(reports, "node-01", "cpu-server", gflops=57.5, device="cpu")
    host(reports, "node-02", "cpu-server", doctor=False)
    (reports / "node-03").mkdir()
    (reports / "node-03" / "failure.txt").write_text(
        "torch-wizard: the venv path /srv/x is a file, not a folder: choose another --venv\n"
    )
    r = report(str(reports))
    assert r.returncode == 1, r.stderr  # not every host is ok
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["host", "torch", "backend", "device", "GFLOP/s", "doctor"]
    rows = {line.split()[0]: line for line in lines[2:-1]}
    assert list(rows) == ["amd-01", "gpu-01", "gpu-02", "node-01", "node-02", "node-03"]
    assert rows["gpu-01"].split()[1:6] == ["2.9.1+cu126", "cu126", "cuda:0", "4,321.5", "ok"]
    assert "1 problem: torch 2.9.1+cu129 is built with CUDA 12.9" in rows["gpu-02"]
    assert "install failed: Step 'install-torch' failed" in rows["amd-01"]
    assert rows["amd-01"].split()[2] == "rocm6.4"
    assert rows["node-01"].split()[1:6] == ["2.9.1+cpu", "cpu", "cpu", "57.5", "ok"]
    assert "no doctor.json" in rows["node-02"]
    assert "failed: the venv path /srv/x is a file" in rows["node-03"]
    assert lines[-1] == "2 of 6 hosts ok"
    table = json.loads(report(str(reports), "--json").stdout)
    assert table["schema_version"] == 1
    as_json = table["hosts"]
    assert [h["host"] for h in as_json if h["ok"]] == ["gpu-01", "node-01"]
    assert as_json[1]["gflops"] == 4321.5 and as_json[1]["backend"] == "cu126"


def test_all_healthy_exits_0(tmp_path: Path) -> None:
    host(tmp_path / "r", "node-01", "cpu-server", gflops=50.0, device="cpu")
    r = report(str(tmp_path / "r"))
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "1 of 1 host ok", r.stdout


def test_unreadable_files_are_rows_not_crashes(tmp_path: Path) -> None:
    reports = tmp_path / "r"
    host(reports, "ok-host", "cpu-server", gflops=50.0, device="cpu")
    bad = reports / "bad-host"
    bad.mkdir()
    (bad / "doctor.json").write_text('{"torch": ')
    (bad / "receipt.json").write_bytes(b"\xff\xfe")
    (reports / "weird").mkdir()
    (reports / "weird" / "doctor.json").write_text("[1, 2]")
    r = report(str(reports))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[2:-1]}
    assert "doctor.json is unreadable" in rows["bad-host"]
    assert "doctor.json is not a torch-wizard report" in rows["weird"]


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_bad_report_dir_exit_2(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "reports"
    if kind == "empty":
        target.mkdir()
    elif kind == "file":
        target.write_text("x")
    r = report(str(target))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert str(target) in r.stderr and r.stdout == ""
