"""``torch-wizard install`` as a real process: saved plans made by ``plan --format json``, --yes,
exit codes, streamed output and logs, Ctrl+C, a 404 index, a venv path that turned into a file.

``install --plan`` runs only plans torch-wizard makes itself (tests/test_saved_plan.py), so every
plan here is a real one, pointed at an index on 127.0.0.1 that fails fast or never answers."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.httpserver import serve_directory
from tests.support.runplan import processes_with_marker
from tests.support.torchindex import clean_pip_env

NOWHERE = "http://127.0.0.1:9/whl"  # the discard port: nothing listens, pip fails at once


def env_for(tmp_path: Path) -> dict[str, str]:
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["PIP_RETRIES"] = "0"  # recorded in the plan as --retries 0: a refused connection fails now
    return env


def saved_plan(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    r = run_cli("plan", "--format", "json", "--backend", "cpu", *args, env=env or env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    path = tmp_path / "plan.json"
    path.write_text(r.stdout)
    return path


def test_malformed_and_missing_plan_files_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path, words in ((bad, "is not JSON"), (tmp_path / "none.json", "no such file")):
        r = run_cli("install", "--plan", str(path), "--yes", env=env_for(tmp_path))
        assert r.returncode == 2 and words in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema_version": 1, "steps": []}))
    r = run_cli("install", "--plan", str(wrong), "--yes", env=env_for(tmp_path))
    assert r.returncode == 2 and "not a torch-wizard plan" in r.stderr and "target" in r.stderr
    assert not (tmp_path / "state").exists()


def test_without_yes_prints_the_plan_and_runs_nothing(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    plan = saved_plan(tmp_path, "--venv", str(venv), "--index-base", NOWHERE)
    r = run_cli("install", "--plan", str(plan), env=env_for(tmp_path))
    assert r.returncode == 2 and "add --yes" in r.stderr
    assert "Commands:" in r.stdout and f"{NOWHERE}/cpu" in r.stdout
    assert not venv.exists() and not (tmp_path / "state").exists()


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_saved_plan_runs_streams_logs_and_names_the_missing_index(
    tmp_path: Path, installer: str
) -> None:
    """The unmodified plan passes the check and really runs: the venv is created, the installer
    asks the (empty) index, the install fails with exit 1 naming the index, the new venv is
    removed. uv's route has no pip-upgrade step."""
    (tmp_path / "root" / "whl").mkdir(parents=True)
    venv = tmp_path / "v"
    with serve_directory(tmp_path / "root") as url:
        plan = saved_plan(
            tmp_path, "--venv", str(venv), "--index-base", f"{url}/whl", "--installer", installer
        )
        r = run_cli("install", "--plan", str(plan), "--yes", env=env_for(tmp_path), timeout=180)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    n, install = (4, 3) if installer == "pip" else (3, 2)
    assert f"==> [1/{n}] Create the virtual environment" in r.stdout
    assert f"==> [{install}/{n}] Install torch" in r.stdout and "\n    " in r.stdout  # streamed
    assert f"the index {url}/whl/cpu/torch/ answered HTTP 404" in r.stderr
    assert "Traceback" not in r.stderr
    assert not venv.exists() and "was removed" in r.stderr
    logs = list((tmp_path / "state" / "torch-wizard" / "logs").glob("*.log"))
    assert len(logs) == 1 and f"Log: {logs[0]}" in r.stdout


def test_venv_path_that_became_a_file_exits_2_and_runs_nothing(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    plan = saved_plan(tmp_path, "--venv", str(venv), "--index-base", NOWHERE)
    venv.write_text("x")
    r = run_cli("install", "--plan", str(plan), "--yes", env=env_for(tmp_path))
    assert r.returncode == 2 and "is a file" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""
    assert not (tmp_path / "state").exists()


def test_ctrl_c_cancels_cleanly_with_exit_130(tmp_path: Path) -> None:
    """uv waits on an index that accepts connections and never answers; Ctrl+C ends the run."""
    venv = tmp_path / "v"
    env = env_for(tmp_path)
    env["UV_HTTP_TIMEOUT"] = "300"  # recorded in the plan: uv waits rather than gives up
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        index = f"http://127.0.0.1:{silent.getsockname()[1]}/whl"
        args = ("--venv", str(venv), "--index-base", index, "--installer", "uv")
        plan = saved_plan(tmp_path, *args, env=env)
        proc = subprocess.Popen(
            [sys.executable, "-m", "torch_wizard", "install", "--plan", str(plan), "--yes"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("==> [2/3] Install torch"):
                break
        deadline = time.monotonic() + 20
        while not processes_with_marker(str(venv)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_with_marker(str(venv)), "".join(seen)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, "".join(seen) + err
    assert "Cancelled during step 'install-torch'" in err
    assert processes_with_marker(str(venv)) == []
    assert not venv.exists()
