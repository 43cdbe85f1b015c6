"""``install --plan FILE`` runs a saved plan only as torch-wizard made it, and only on this machine.

The plan is made again from its recorded target and choices and compared step by step; any edit
(a command, an env, a step added or removed, a flag) is refused with exit 2 naming the first
differing step, before anything is written. The one difference a plan may show is the create-venv
step of a plan saved before its venv existed. The programs a plan's target names (the interpreter
that creates the venv, uv) must be this machine's Python of the recorded version or uv.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_cli
from tests.support.torchindex import clean_pip_env
from torch_wizard.commands.install import checked_plan, load_plan
from torch_wizard.errors import UsageError

NOWHERE = "http://127.0.0.1:9/whl"  # nothing listens: a run that got past the checks fails fast
MINOR = f"{sys.version_info[0]}.{sys.version_info[1]}"
Edit = Callable[[dict[str, Any], Path], None]


def env_for(tmp_path: Path) -> dict[str, str]:
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["PIP_RETRIES"] = "0"
    return env


def make_plan_json(tmp_path: Path, venv: Path, *args: str) -> dict[str, Any]:
    """A plan for this machine; pip's unless ``args`` name the installer (the edits below are of
    pip's steps: upgrade-pip, its fallback, its progress)."""
    if "--installer" not in args:
        args = ("--installer", "pip", *args)
    r = run_cli(
        "plan",
        "--format",
        "json",
        "--backend",
        "cpu",
        "--venv",
        str(venv),
        "--index-base",
        NOWHERE,
        *args,
        env=env_for(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A pip plan for this machine into a venv that does not exist (and never will)."""
    tmp = tmp_path_factory.mktemp("saved")
    plan = make_plan_json(tmp, tmp / "never-created")
    assert [s["id"] for s in plan["steps"]] == [
        "create-venv",
        "upgrade-pip",
        "install-torch",
        "verify",
    ]
    return plan


def install(plan: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return run_cli("install", "--plan", str(path), "--yes", env=env_for(tmp_path))


def assert_refused(r: subprocess.CompletedProcess[str], tmp_path: Path, *needles: str) -> str:
    assert r.returncode == 2, r.stdout[-1000:] + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert r.stdout == ""
    assert not (tmp_path / "state").exists(), "a log was written"
    return lines[0]


# --------------------------------------------------------------------------------------------------
# The unmodified plan gets past the checks


def test_unmodified_plan_gets_past_the_checks(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    plan = make_plan_json(tmp_path, venv)
    r = install(plan, tmp_path)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr  # the index cannot be reached
    assert f"{NOWHERE}/cpu/torch/ cannot be reached" in r.stderr
    assert "==> [4/4] Verify" not in r.stdout and "==> [3/4] Install torch" in r.stdout
    assert list((tmp_path / "state" / "torch-wizard" / "logs").glob("*.log"))
    assert not venv.exists()  # made by the plan, removed after the failure


def test_plan_saved_before_the_venv_existed_runs_after_it_does(tmp_path: Path) -> None:
    """A fresh plan leaves create-venv out once <venv>/pyvenv.cfg exists; the saved one is not
    refused for it, and the venv is reused rather than made again."""
    venv = tmp_path / "v"
    plan = make_plan_json(tmp_path, venv)
    assert plan["steps"][0]["id"] == "create-venv"
    # A venv with pip (uv's --seed is fast): pre-flight refuses a pip plan into one without it.
    from uv import find_uv_bin

    subprocess.run(
        [find_uv_bin(), "venv", "-q", "--seed", "-p", sys.executable, str(venv)], check=True
    )
    r = install(plan, tmp_path)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    assert "==> [1/3] Upgrade pip" in r.stdout and "Create the virtual environment" not in r.stdout
    assert f"{NOWHERE}/cpu/torch/ cannot be reached" in r.stderr  # the venv's pip really ran
    assert "existing venv" in r.stderr and venv.is_dir()


def test_an_edited_create_venv_is_refused_even_when_the_venv_exists(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    plan = make_plan_json(tmp_path, venv)
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    plan["steps"][0]["argv"].insert(1, "-S")
    assert_refused(install(plan, tmp_path), tmp_path, "step 1 (create-venv)", "adds -S")


# --------------------------------------------------------------------------------------------------
# Edited plans


def _argv(i: int, f: Callable[[list[str]], None]) -> Edit:
    return lambda plan, tmp: f(plan["steps"][i]["argv"])


def _set(i: int, key: str, value: object) -> Edit:
    return lambda plan, tmp: plan["steps"][i].__setitem__(key, value)


def _pin(argv: list[str]) -> None:
    argv[argv.index(next(a for a in argv if a.startswith("torch==")))] = "torch==1.0.0"


def _add_step(plan: dict[str, Any], tmp: Path) -> None:
    plan["steps"].insert(2, {"id": "fetch-extras", "title": "x", "argv": ["sh", "-c", "id"]})


def _index(plan: dict[str, Any], tmp: Path) -> None:
    plan["choice"]["index_url"] = "https://mirror.example.org/whl/cpu"


def _network(plan: dict[str, Any], tmp: Path) -> None:
    """A consistent edit: the recorded network settings and every pip argv that repeats them."""
    extra = ["--extra-index-url", "https://pypi.example.org/simple"]
    plan["choice"]["network"]["pip_args"] += extra
    for step in plan["steps"]:
        for key in ("argv", "fallback"):
            if "pip" in step[key]:
                step[key] += extra


EDITS: dict[str, tuple[Edit, tuple[str, ...]]] = {
    "extra-index-url": (
        _argv(2, lambda a: a.extend(["--extra-index-url", "https://pypi.example.org/simple"])),
        ("step 3 (install-torch)", "adds --extra-index-url https://pypi.example.org/simple"),
    ),
    "edited-pin": (_argv(2, _pin), ("step 3 (install-torch)", "torch==1.0.0")),
    "ld-preload": (
        lambda plan, tmp: plan["steps"][3]["env"].update({"LD_PRELOAD": "/tmp/x.so"}),
        ("step 4 (verify)", "adds LD_PRELOAD=/tmp/x.so"),
    ),
    "removed-step": (lambda plan, tmp: plan["steps"].pop(1), ("step 2 (upgrade-pip) is missing",)),
    "removed-last-step": (lambda plan, tmp: plan["steps"].pop(), ("step 4 (verify) is missing",)),
    "added-step": (_add_step, ("step 3 (fetch-extras) was added",)),
    "interpreter": (_argv(0, lambda a: a.__setitem__(0, "/bin/sh")), ("step 1 (create-venv)",)),
    "cwd": (_set(3, "cwd", "/tmp"), ("step 4 (verify) runs in /tmp",)),
    "optional": (_set(2, "optional", True), ("step 3 (install-torch) is marked optional",)),
    "fallback": (
        _set(2, "fallback", ["sh", "-c", "id"]),
        ("step 3 (install-torch) has a different fallback",),
    ),
    "progress": (_set(2, "progress", "uv"), ("step 3 (install-torch) reads progress",)),
    "timeout": (_set(2, "timeout", 5), ("step 3 (install-torch) has a timeout of 5 s",)),
    "choice-index": (_index, ("step 2 (upgrade-pip)", "https://mirror.example.org/whl/cpu")),
    "network-extra-index": (_network, ("network settings", "--extra-index-url")),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_edited_plans_are_refused(name: str, saved: dict[str, Any], tmp_path: Path) -> None:
    edit, needles = EDITS[name]
    plan = copy.deepcopy(saved)
    edit(plan, tmp_path)
    assert plan != saved
    line = assert_refused(install(plan, tmp_path), tmp_path, *needles)
    assert "torch-wizard plan --format sh" in line  # how to run an edited plan on purpose
    assert not Path(saved["choice"]["venv"]).exists()


@pytest.mark.parametrize(("version", "shown"), [(None, "no schema_version"), (2, "version 2")])
def test_other_schema_versions_are_refused(
    version: int | None, shown: str, saved: dict[str, Any], tmp_path: Path
) -> None:
    plan = copy.deepcopy(saved)
    if version is None:
        del plan["schema_version"]
    else:
        plan["schema_version"] = version
    assert_refused(
        install(plan, tmp_path), tmp_path, shown, "schema version 1", "plan --format json"
    )


# --------------------------------------------------------------------------------------------------
# The programs a plan's target names


def _program(tmp: Path, name: str, content: bytes | None = None, copy_of: str = "") -> str:
    path = tmp / "bin" / name
    path.parent.mkdir(exist_ok=True)
    if copy_of:
        shutil.copyfile(copy_of, path)
    else:
        path.write_bytes(content or b"")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _interpreter(program: Callable[[Path], str]) -> Edit:
    """The target's base interpreter and the create-venv step that runs it, edited together."""

    def edit(plan: dict[str, Any], tmp: Path) -> None:
        exe = program(tmp)
        plan["target"]["python"]["base_executable"] = exe
        plan["steps"][0]["argv"][0] = exe

    return edit


PROGRAMS: dict[str, tuple[Edit, tuple[str, ...]]] = {
    "script-named-python": (
        _interpreter(lambda t: _program(t, f"python{MINOR}", b"#!/bin/sh\necho hi\n")),
        ("is a script",),
    ),
    "not-python": (
        _interpreter(lambda t: _program(t, "ls", copy_of=shutil.which("ls") or "/bin/ls")),
        ("is not a Python interpreter or uv",),
    ),
    "other-version": (
        _interpreter(lambda t: _program(t, "python2.7", copy_of=shutil.which("ls") or "/bin/ls")),
        ("is Python 2.7", f"made for Python {MINOR}"),
    ),
    "missing": (
        _interpreter(lambda t: str(t / "nowhere" / f"python{MINOR}")),
        ("does not exist here",),
    ),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_target_programs_must_be_this_machines_python(
    name: str, saved: dict[str, Any], tmp_path: Path
) -> None:
    edit, needles = PROGRAMS[name]
    plan = copy.deepcopy(saved)
    edit(plan, tmp_path)
    line = assert_refused(install(plan, tmp_path), tmp_path, "step 1 (create-venv)", *needles)
    assert "make the plan on this machine" in line


def test_a_uv_that_is_a_script_is_refused(tmp_path: Path) -> None:
    plan = make_plan_json(tmp_path, tmp_path / "v", "--installer", "uv")
    fake = _program(tmp_path, "uv", b"#!/bin/sh\necho hi\n")
    for tool in plan["target"]["tools"]:
        if tool["name"] == "uv":
            old, tool["path"] = tool["path"], fake
    for step in plan["steps"]:
        if step["argv"][0] == old:
            step["argv"][0] = fake
    assert_refused(install(plan, tmp_path), tmp_path, "step 1 (create-venv)", fake, "is a script")
    assert not (tmp_path / "v").exists()


def test_the_real_interpreter_passes(saved: dict[str, Any]) -> None:
    """The check above is not a blanket refusal: the detected base interpreter is accepted."""
    from torch_wizard.commands.install import program_problem
    from torch_wizard.plan.model import Plan
    from torch_wizard.serial import from_json

    plan = from_json(Plan, saved)
    assert os.path.isabs(plan.steps[0].argv[0])
    assert program_problem(plan.steps[0].argv[0], plan.target) == ""


# --------------------------------------------------------------------------------------------------
# install plans for this machine only; a saved plan is not changed by options


def test_install_for_another_machine_is_refused(tmp_path: Path) -> None:
    root = str(FIXTURES / "machines" / "cpu-server")
    profile = tmp_path / "profile.json"
    detected = run_cli("detect", "--json", "--root", root)
    assert detected.returncode == 0, detected.stderr
    profile.write_text(detected.stdout)
    venv = tmp_path / "v"
    for flag, value in (("--profile", str(profile)), ("--root", root)):
        r = run_cli("install", flag, value, "--venv", str(venv), "--yes", env=env_for(tmp_path))
        assert_refused(r, tmp_path, flag, f"torch-wizard plan {flag}", "install --plan")
    assert not venv.exists()


def test_options_do_not_change_a_saved_plan(saved: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(saved))
    r = run_cli(
        "install", "--plan", str(path), "--backend", "cu126", "--yes", env=env_for(tmp_path)
    )
    assert_refused(r, tmp_path, "drop --backend")


# --------------------------------------------------------------------------------------------------
# Source-build plans: their options are read back from the steps


SOURCE_VARIANTS = {
    "default": (),
    "lean-develop-jobs": ("--source-profile", "lean", "--develop", "--max-jobs", "3"),
    "debug-at-a-commit": ("--source-profile", "debug", "--source-ref", "0123456789abcdef"),
    "nightly": ("--channel", "nightly"),
}


def _source_plan(tmp_path: Path, *args: str) -> Path:
    r = run_cli(
        "plan",
        "--format",
        "json",
        "--build",
        "source",
        "--venv",
        str(tmp_path / "v"),
        "--source-url",
        "https://git.example.org/pytorch",
        *args,
    )
    assert r.returncode == 0, r.stderr
    path = tmp_path / "source.json"
    path.write_text(r.stdout)
    return path


@pytest.mark.parametrize("name", list(SOURCE_VARIANTS))
def test_unmodified_source_plans_pass(name: str, tmp_path: Path) -> None:
    path = _source_plan(tmp_path, *SOURCE_VARIANTS[name])
    plan = load_plan(str(path))
    assert plan.choice.build == "source"
    assert checked_plan(plan, str(path)).steps == plan.steps


def test_source_plan_saved_before_the_venv_existed(tmp_path: Path) -> None:
    path = _source_plan(tmp_path)
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    plan = load_plan(str(path))
    fresh = checked_plan(plan, str(path))
    assert plan.steps[0].id == "create-venv" and fresh.steps == plan.steps[1:]


def test_edited_source_build_env_is_refused(tmp_path: Path) -> None:
    path = _source_plan(tmp_path)
    data = json.loads(path.read_text())
    build = next(i for i, s in enumerate(data["steps"]) if s["id"] == "build")
    data["steps"][build]["env"]["LD_PRELOAD"] = "/tmp/x.so"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=rf"step {build + 1} \(build\) .*adds LD_PRELOAD"):
        checked_plan(load_plan(str(path)), str(path))
