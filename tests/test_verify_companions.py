"""Every package of the plan is verified (torchvision runs a real ``nms``, torchaudio's version
is checked, every pin is compared), and the verify step and ``doctor`` run isolated: a torch in
the caller's cwd or on PYTHONPATH cannot stand in for the installed one.

The fast tests run the real script with a real venv's interpreter over stand-in packages
(``tests/support/companions.py``); the slow one installs the real CPU torch with PyPI's CUDA
torchvision 0.28.0 from a local index and sees the real ``nms`` failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.support import companions
from tests.support.companions import NMS_MISSING, fake_venv, impostors, site_packages
from tests.support.runplan import machine
from torch_wizard.plan.model import Plan, Resolved
from torch_wizard.plan.wheel import verify_step
from torch_wizard.run.events import Finished
from torch_wizard.run.runner import Runner
from torch_wizard.run.verify import (
    PackageCheck,
    VerifyReport,
    diagnose,
    parse_report,
    verify_argv,
)

PINS = {"torch": "2.13.0", "torchvision": "0.28.0"}
AGAIN = (
    "from the plan's index (.../whl/cpu) with the plan's exact command "
    "('torch-wizard install' again, or the plan's install-torch line)."
)
# The line a broken torchvision gets: PyPI's CUDA 13.0 torchvision 0.28.0 beside torch 2.13.0+cpu
# (the slow test below sees exactly this from the real wheels). Its version meets the pin, so the
# plan's command alone would keep it: the fix forces the reinstall.
BROKEN_VISION = (
    "torchvision 0.28.0+cu130 does not work with torch 2.13.0+cpu (RuntimeError: operator "
    "torchvision::nms does not exist): a build that does not match this torch (a +cu130 build "
    "beside a +cpu torch), often from another index; reinstall it from the plan's index "
    "(.../whl/cpu) with the plan's install-torch command plus --reinstall-package torchvision "
    "(uv) or --force-reinstall (pip), since the installed build already meets the pin."
)
CPU_ROOT = FIXTURES / "machines" / "cpu-server"


def verify(
    python: Path, packages: dict[str, str] | None = PINS, **kw: object
) -> tuple[int, VerifyReport]:
    r = subprocess.run(
        verify_argv(str(python), "cpu", packages, **kw),  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = parse_report(r.stdout)
    assert report is not None, r.stdout + r.stderr
    return r.returncode, report


def check(report: VerifyReport, name: str) -> PackageCheck:
    [found] = [c for c in report.checks if c.name == name]
    return found


# ---------------------------------------------------------------------------------------------
# The script's package checks, on stand-in packages


def test_a_matching_torchvision_passes_its_nms(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "v", torchvision="ok", torchvision_version="0.28.0+cpu")
    code, report = verify(py)
    assert code == 0 and report.ok, report
    assert [c.name for c in report.checks] == ["torch", "torchvision"]
    vision = check(report, "torchvision")
    assert vision.ok and vision.test == "nms" and vision.error == ""
    # the public version is compared: 0.28.0+cpu meets the pin 0.28.0
    assert vision.version == "0.28.0+cpu" and vision.pin == "0.28.0" and vision.version_ok
    assert vision.build == "cpu"
    assert check(report, "torch").ok and report.torch == "2.13.0+cpu"
    assert diagnose(report, "cpu", "2.13.0") == []


def test_a_torchvision_that_does_not_match_torch_fails_with_one_line(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "v", torchvision="broken", torchvision_own="0.28.0+cu130")
    code, report = verify(py)
    assert code == 1 and not report.ok
    # torch itself is fine: the failure is torchvision's alone
    assert report.error == "" and report.matmul_ok and report.device == "cpu"
    vision = check(report, "torchvision")
    assert not vision.ok and vision.version_ok
    assert vision.error == f"RuntimeError: {NMS_MISSING}"
    assert vision.build == "cu130"  # from its own version.py, as PyPI's wheel has it
    problems = diagnose(report, "cpu", "2.13.0")
    assert problems[0] == BROKEN_VISION
    assert "\n" not in problems[0]


def test_an_nms_that_raises_after_a_clean_import(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "v", torchvision="nms-raises", torchvision_version="0.28.0+cpu")
    code, report = verify(py)
    assert code == 1
    assert check(report, "torchvision").error == f"RuntimeError: {NMS_MISSING}"
    first = diagnose(report, "cpu", "2.13.0")[0]
    assert first.startswith("torchvision 0.28.0+cpu does not work with torch 2.13.0+cpu")
    assert "+cu130" not in first  # the builds agree here, so none is blamed


def test_a_missing_and_a_mispinned_torchvision(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "absent")
    code, report = verify(py)
    assert code == 1 and check(report, "torchvision").error == "not installed"
    assert diagnose(report, "cpu", "2.13.0")[0] == (
        "torchvision 0.28.0 is not installed although the plan includes it: the install did not "
        "finish or something removed it; install it " + AGAIN
    )
    py = fake_venv(tmp_path / "old", torchvision="ok", torchvision_version="0.27.0+cpu")
    code, report = verify(py)
    vision = check(report, "torchvision")
    assert code == 1 and not vision.version_ok and vision.error == ""
    assert diagnose(report, "cpu", "2.13.0")[0] == (
        "torchvision 0.27.0+cpu is installed but the plan pinned 0.28.0: another requirement or "
        "a cached wheel won; reinstall it " + AGAIN
    )


def test_torchaudio_version_is_checked_where_it_imports(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "v")
    companions.add_torchaudio(site_packages(tmp_path / "v"), "2.11.0+cpu", own_version="2.10.0")
    code, report = verify(py, {"torch": "2.13.0", "torchaudio": "2.11.0"})
    audio = check(report, "torchaudio")
    assert code == 1 and audio.test == "import" and audio.version_ok
    assert audio.error == "torchaudio.__version__ is 2.10.0, the plan pinned 2.11.0"
    assert diagnose(report, "cpu")[0].startswith("torchaudio 2.11.0+cpu does not work with torch")
    companions.add_torchaudio(site_packages(tmp_path / "v"), "2.11.0+cpu")  # now it agrees
    code, report = verify(py, {"torch": "2.13.0", "torchaudio": "2.11.0"})
    assert code == 0 and check(report, "torchaudio").ok


def test_a_wrong_torch_version_fails_too(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "v", torch="2.12.0+cpu")
    code, report = verify(py, {"torch": "2.13.0"})
    assert code == 1 and not check(report, "torch").version_ok
    assert (
        "torch 2.12.0+cpu is installed but the plan asked for 2.13.0"
        in (diagnose(report, "cpu", "2.13.0")[0])
    )
    # unpinned (a source build's 2.13.0a0+git... version): names only, no version judged
    code, report = verify(py, {"torch": "2.13.0"}, pinned=False)
    assert code == 0 and check(report, "torch").pin == ""


def test_without_packages_it_checks_what_is_installed(tmp_path: Path) -> None:
    py = fake_venv(tmp_path / "v", torchvision="broken", torchvision_own="0.28.0+cu130")
    code, report = verify(py, None)
    assert code == 1
    assert [(c.name, c.pin) for c in report.checks] == [("torch", ""), ("torchvision", "")]
    assert "torchvision 0.28.0+cu130 does not work" in diagnose(report, "cpu")[0]


def test_torch_problems_come_before_companion_ones() -> None:
    broken = PackageCheck(name="torchvision", pin="0.28.0", version="0.28.0", error="boom")
    report = VerifyReport(
        ok=False, torch="2.13.0+cpu", device="cpu", matmul_ok=True, checks=(broken,)
    )
    wrong_index, vision = diagnose(report, "cu130", "2.13.0")
    assert "CPU-only torch" in wrong_index and vision.startswith("torchvision 0.28.0 does not")
    failed = replace(report, error="import torch failed: ImportError: x")
    assert len(diagnose(failed, "cpu")) == 1  # torch does not import: nothing else is judged


# ---------------------------------------------------------------------------------------------
# The plan's verify step: its argv and cwd


def test_verify_argv_is_isolated_and_carries_the_pins() -> None:
    argv = verify_argv("/v/bin/python", "cpu", PINS)
    assert argv[:3] == ["/v/bin/python", "-I", "-c"]
    assert argv[4:] == ["cpu", "torch==2.13.0", "torchvision==0.28.0"]
    assert verify_argv("p", "cpu", PINS, pinned=False)[4:] == ["cpu", "torch", "torchvision"]
    assert verify_argv("p", "cpu", {"torch": ""})[4:] == ["cpu", "torch"]  # nightly: no pin


def resolved(venv: Path, build: str = "wheel", **packages: str) -> Resolved:
    return Resolved(
        channel="stable",
        backend="cpu",
        torch="2.13.0",
        packages=packages or dict(PINS),
        build=build,  # type: ignore[arg-type]
        installer="uv",
        venv=str(venv),
        index_url="",
    )


def test_verify_step_runs_in_the_venv_with_the_plans_packages(tmp_path: Path) -> None:
    step = verify_step(machine(), resolved(tmp_path / "v"))
    assert step.id == "verify" and step.cwd == str(tmp_path / "v")
    assert step.argv[0] == str(tmp_path / "v" / "bin" / "python") and step.argv[1] == "-I"
    assert step.argv[4:] == ("cpu", "torch==2.13.0", "torchvision==0.28.0")
    source = verify_step(machine(), resolved(tmp_path / "v", build="source", torch="2.13.0"))
    assert source.argv[4:] == ("cpu", "torch")


# ---------------------------------------------------------------------------------------------
# Isolation, through the real runner and the real doctor


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The caller's cwd holds a torch.py and a torch/ package; PYTHONPATH names a third torch.
    Yields that environment; the test process runs in that cwd."""
    cwd, path = impostors(tmp_path / "hostile")
    monkeypatch.chdir(cwd)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    yield {**env, "PYTHONPATH": str(path)}


def test_the_hazard_is_real(tmp_path: Path, hostile: dict[str, str]) -> None:
    # Without -I and with the caller's cwd, the venv's python imports an impostor.
    py = fake_venv(tmp_path / "v")
    plain = subprocess.run(
        [str(py), "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        env=hostile,
        check=True,
    )
    assert plain.stdout.strip().startswith("6.6.6+")
    no_path = {k: v for k, v in hostile.items() if k != "PYTHONPATH"}
    plain = subprocess.run(
        [str(py), "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        env=no_path,
        check=True,
    )
    assert plain.stdout.strip() == "6.6.6+cwd.package"


def test_the_script_alone_ignores_impostors(tmp_path: Path, hostile: dict[str, str]) -> None:
    # -I on its own: run in the hostile cwd with PYTHONPATH set (no runner, no cwd of the step).
    py = fake_venv(tmp_path / "v")
    r = subprocess.run(
        verify_argv(str(py), "cpu", {"torch": "2.13.0"}),
        capture_output=True,
        text=True,
        env=hostile,
        timeout=120,
        check=False,
    )
    report = parse_report(r.stdout)
    assert r.returncode == 0 and report is not None, r.stdout + r.stderr
    assert report.torch == "2.13.0+cpu" and check(report, "torch").version == "2.13.0+cpu"


def plan_for(venv: Path, *, install: bool = False, **packages: str) -> Plan:
    """A plan of the real verify step (and, with ``install``, a stand-in install-torch step
    that changes nothing, so the receipt has a command for doctor to quote)."""
    from torch_wizard.plan.model import Estimate, Step

    res = resolved(venv, **packages)
    steps = (verify_step(machine(), res),)
    if install:
        steps = (Step("install-torch", "Install", (sys.executable, "-c", "pass")), *steps)
    return Plan(machine(), res, steps, estimate=Estimate())


async def run_plan(plan: Plan, state: Path, env: dict[str, str]) -> Finished:
    runner = Runner(plan, state_dir=state, preflight=False, env=env)
    async for ev in runner.events():
        if isinstance(ev, Finished):
            return ev
    raise AssertionError("no Finished event")


async def test_runner_verify_step_ignores_impostors(
    tmp_path: Path, hostile: dict[str, str]
) -> None:
    venv = tmp_path / "v"
    fake_venv(venv, torchvision="ok", torchvision_version="0.28.0+cpu")
    fin = await run_plan(plan_for(venv), tmp_path / "state", hostile)
    assert fin.outcome == "ok", (fin.message, fin.tail)
    assert fin.verify is not None and fin.verify.torch == "2.13.0+cpu"
    assert fin.verify.executable == str(venv / "bin" / "python")
    assert fin.message.startswith("torch 2.13.0+cpu works on cpu")


async def test_runner_fails_the_verify_step_on_a_broken_torchvision(
    tmp_path: Path, hostile: dict[str, str]
) -> None:
    venv = tmp_path / "v"
    fake_venv(venv, torchvision="broken", torchvision_own="0.28.0+cu130")
    fin = await run_plan(plan_for(venv), tmp_path / "state", hostile)
    assert fin.outcome == "failed" and fin.failed_step == "verify" and fin.returncode == 1
    assert fin.message == f"verification failed: {BROKEN_VISION}"
    assert fin.verify is not None and fin.verify.torch == "2.13.0+cpu"


def doctor(venv: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "torch_wizard",
            "doctor",
            "--venv",
            str(venv),
            "--root",
            str(CPU_ROOT),
            *list(extra),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_doctor_ignores_impostors_and_names_a_broken_torchvision(
    tmp_path: Path, hostile: dict[str, str]
) -> None:
    good = tmp_path / "good"
    fake_venv(good, torchvision="ok", torchvision_version="0.28.0+cpu")
    d = doctor(good, hostile, "--json")
    assert d.returncode == 0, d.stdout + d.stderr
    data = json.loads(d.stdout)
    assert data["torch"] == "2.13.0+cpu" and data["problems"] == []
    assert [c["name"] for c in data["verify"]["checks"]] == ["torch", "torchvision"]
    bad = tmp_path / "bad"
    fake_venv(bad, torchvision="broken", torchvision_own="0.28.0+cu130")
    d = doctor(bad, hostile)
    assert d.returncode == 1, d.stdout + d.stderr
    assert "torch:   2.13.0+cpu (cpu)" in d.stdout
    # no receipt: the installed torchvision is checked unpinned, with the same sentence
    assert f"PROBLEM: {BROKEN_VISION}" in d.stdout.splitlines()


async def test_doctor_checks_the_receipts_pins(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    fake_venv(venv, torchvision="ok", torchvision_version="0.28.0+cpu")
    fin = await run_plan(plan_for(venv), tmp_path / "state", dict(os.environ))
    assert fin.outcome == "ok" and fin.receipt_path
    companions.add_torchvision(site_packages(venv), "ok", "0.27.0+cpu")  # changed since
    for old in site_packages(venv).glob("torchvision-0.28.0*.dist-info"):
        shutil.rmtree(old)
    d = doctor(venv, dict(os.environ))
    assert d.returncode == 1, d.stdout + d.stderr
    assert "PROBLEM: torchvision 0.27.0+cpu is installed but the plan pinned 0.28.0" in d.stdout


async def test_doctor_fix_forces_the_reinstall_of_a_broken_torchvision(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    fake_venv(venv, torchvision="broken", torchvision_own="0.28.0+cu130")
    plan = plan_for(venv, install=True)
    fin = await run_plan(plan, tmp_path / "state", dict(os.environ))
    assert fin.outcome == "failed" and fin.receipt_path
    d = doctor(venv, dict(os.environ))
    assert d.returncode == 1, d.stdout + d.stderr
    assert f"PROBLEM: {BROKEN_VISION}" in d.stdout.splitlines()
    # the receipt's own install command (same pins, same index), forced for torchvision only
    install = " ".join(plan.step("install-torch").argv)
    assert f"fix:     {install} --reinstall-package torchvision" in d.stdout.splitlines()
    assert "verification failed: torchvision" in d.stdout and ").." not in d.stdout


# ---------------------------------------------------------------------------------------------
# The real thing: torch 2.13.0+cpu with PyPI's (CUDA) torchvision 0.28.0 from one local index


@pytest.fixture(scope="module")
def vision_index() -> Iterator[str]:
    from tests.support.httpserver import serve_directory
    from tests.support.torchindex import supported_here

    if supported_here():
        pytest.skip(supported_here())
    root = companions.build_vision_index()
    if root is None:
        pytest.skip(f"local torchvision index unavailable: {companions.last_error}")
    with serve_directory(root) as url:
        yield f"{url}/whl"


@pytest.mark.slow
def test_real_install_with_a_mismatched_torchvision_fails_verification(
    tmp_path: Path, vision_index: str
) -> None:
    from tests.support.torchindex import clean_pip_env

    repo = Path(__file__).resolve().parent.parent
    venv = tmp_path / "venv"
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["PATH"] = f"{repo / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch_wizard",
            "install",
            "--index-base",
            vision_index,
            "--backend",
            "cpu",
            "--torch",
            "2.13.0",
            "--packages",
            "torch,torchvision",
            "--installer",
            "uv",
            "--venv",
            str(venv),
            "--yes",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=repo,
        check=False,
    )
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr
    assert f"torch-wizard: verification failed: {BROKEN_VISION}" in r.stderr.splitlines()
    receipt = json.loads((venv / "torch-wizard-receipt.json").read_text())
    vision = next(c for c in receipt["verify"]["checks"] if c["name"] == "torchvision")
    assert vision["error"] == f"RuntimeError: {NMS_MISSING}" and vision["build"] == "cu130"
    assert receipt["verify"]["matmul_ok"]  # torch itself works
    # doctor, from a hostile cwd and PYTHONPATH, sees the installed torch and the same failure
    cwd, path = impostors(tmp_path / "hostile")
    hostile = {**env, "PYTHONPATH": str(path)}
    d = subprocess.run(
        [sys.executable, "-m", "torch_wizard", "doctor", "--venv", str(venv), "--json"],
        capture_output=True,
        text=True,
        env=hostile,
        timeout=300,
        cwd=cwd,
        check=False,
    )
    assert d.returncode == 1, d.stdout + d.stderr
    report = json.loads(d.stdout)
    assert report["torch"] == "2.13.0+cpu"
    assert BROKEN_VISION in report["problems"]
    assert f"--index-url {vision_index}/cpu" in report["fix"]
    assert report["fix"].endswith("--reinstall-package torchvision")
