"""``torch-wizard install`` as a real process: saved plans, --yes, exit codes, Ctrl+C, a 404 index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.conftest import run_cli
from tests.support.httpserver import serve_directory
from tests.support.runplan import PY, STUBBORN_TREE, make_plan, processes_with_marker, py_step
from tests.support.torchindex import clean_pip_env
from wizard.plan.model import Plan, Step
from wizard.serial import to_json


def save(plan: Plan, path: Path) -> Path:
    path.write_text(json.dumps(to_json(plan)))
    return path


def venv(tmp_path: Path) -> Path:
    """An existing (stand-in) venv: these plans have no create-venv step."""
    v = tmp_path / "v"
    v.mkdir(exist_ok=True)
    (v / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return v


def env_for(tmp_path: Path) -> dict[str, str]:
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env


def test_malformed_and_missing_plan_files_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path, words in ((bad, "is not JSON"), (tmp_path / "none.json", "no such file")):
        r = run_cli("install", "--plan", str(path), "--yes", env=env_for(tmp_path))
        assert r.returncode == 2 and words in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"steps": []}))
    r = run_cli("install", "--plan", str(wrong), "--yes", env=env_for(tmp_path))
    assert r.returncode == 2 and "not a torch-wizard plan" in r.stderr and "target" in r.stderr


def test_without_yes_prints_the_plan_and_runs_nothing(tmp_path: Path) -> None:
    flag = tmp_path / "ran"
    plan = make_plan(venv(tmp_path), py_step("touch", f"open({str(flag)!r}, 'w').close()"))
    r = run_cli("install", "--plan", str(save(plan, tmp_path / "p.json")), env=env_for(tmp_path))
    assert r.returncode == 2 and "add --yes" in r.stderr
    assert "Commands:" in r.stdout and "touch" in r.stdout
    assert not flag.exists()


def test_runs_a_saved_plan_and_streams_output(tmp_path: Path) -> None:
    plan = make_plan(venv(tmp_path), py_step("hello", "print('hello from the step')"))
    r = run_cli(
        "install", "--plan", str(save(plan, tmp_path / "p.json")), "--yes", env=env_for(tmp_path)
    )
    assert r.returncode == 0, r.stderr
    assert "==> [1/1] Run hello" in r.stdout and "    hello from the step" in r.stdout
    logs = list((tmp_path / "state" / "torch-wizard" / "logs").glob("*.log"))
    assert len(logs) == 1 and f"Log: {logs[0]}" in r.stdout


def test_failing_plan_exits_1_with_one_message(tmp_path: Path) -> None:
    plan = make_plan(
        venv(tmp_path), py_step("install-torch", "import sys; print('ERROR: nope'); sys.exit(5)")
    )
    r = run_cli(
        "install", "--plan", str(save(plan, tmp_path / "p.json")), "--yes", env=env_for(tmp_path)
    )
    assert r.returncode == 1
    assert (
        "step 'install-torch' (Run install-torch) failed with exit code 5: ERROR: nope" in r.stderr
    )
    assert "Traceback" not in r.stderr


def test_preflight_problem_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    plan = make_plan(f, py_step("create-venv", "print('ran')"))
    r = run_cli(
        "install", "--plan", str(save(plan, tmp_path / "p.json")), "--yes", env=env_for(tmp_path)
    )
    assert r.returncode == 2 and "is a file" in r.stderr and "ran" not in r.stdout


def test_ctrl_c_cancels_cleanly_with_exit_130(tmp_path: Path) -> None:
    marker = f"cli-{uuid.uuid4().hex}"
    plan = make_plan(venv(tmp_path), Step("tree", "Tree", (PY, "-c", STUBBORN_TREE, marker)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wizard",
            "install",
            "--plan",
            str(save(plan, tmp_path / "p.json")),
            "--yes",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(tmp_path),
    )
    deadline = time.monotonic() + 20
    while len(processes_with_marker(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with_marker(marker)) == 2
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Cancelled during step 'tree'" in err
    assert processes_with_marker(marker) == []


def test_missing_index_is_named_in_the_message(tmp_path: Path) -> None:
    (tmp_path / "root" / "whl").mkdir(parents=True)
    with serve_directory(tmp_path / "root") as url:
        index = f"{url}/whl/cu999"
        step = Step(
            "install-torch",
            "Install torch",
            (
                PY,
                "-m",
                "pip",
                "install",
                "torch==2.13.0",
                "--index-url",
                index,
                "--target",
                str(tmp_path / "t"),
                "--no-cache-dir",
            ),
            progress="pip",
        )
        plan = make_plan(venv(tmp_path), step)
        r = run_cli(
            "install",
            "--plan",
            str(save(plan, tmp_path / "p.json")),
            "--yes",
            env=env_for(tmp_path),
            timeout=120,
        )
    assert r.returncode == 1
    assert f"the index {index}/torch/ answered HTTP 404" in r.stderr
    assert os.path.isdir(tmp_path / "state")
