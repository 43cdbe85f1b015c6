"""Answers that reach the run, not only the plan: ``step-timeout`` in an answers file stops a real
``torch-wizard install`` whose download stalls (a local index that accepts and never answers)."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.httpserver import serve
from tests.support.torchindex import clean_pip_env

REPO = Path(__file__).resolve().parent.parent


class _Stall(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        time.sleep(30)  # accept, never answer


def test_step_timeout_from_the_answers_file_ends_a_stalled_install(tmp_path: Path) -> None:
    env = clean_pip_env(cache=tmp_path / "cache")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PATH"] = f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    with serve(_Stall) as url:
        answers = tmp_path / "run.toml"
        answers.write_text(
            f'step-timeout = 2\nindex-base = "{url}/whl"\nbackend = "cpu"\ntorch = "2.13.0"\n'
            f'packages = ["torch"]\ninstaller = "uv"\nvenv = "{tmp_path / "venv"}"\n'
        )
        r = subprocess.run(
            [sys.executable, "-m", "torch_wizard", "install", "--config", str(answers), "--yes"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
        )  # fmt: skip
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    assert "timed out after 2 s" in r.stderr + r.stdout, r.stdout[-2000:] + r.stderr


def test_a_step_timeout_the_cli_would_refuse_is_refused_in_the_file(tmp_path: Path) -> None:
    answers = tmp_path / "run.toml"
    for bad, words in (("0", "0.0 is not a number of seconds"), ('"soon"', "a string")):
        answers.write_text(f'backend = "cpu"\nstep-timeout = {bad}\n')
        r = subprocess.run(
            [sys.executable, "-m", "torch_wizard", "install", "--config", str(answers), "--yes",
             "--venv", str(tmp_path / "venv")],
            capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")},
        )  # fmt: skip
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
        assert r.stderr.startswith(f"torch-wizard: {answers} line 2: 'step-timeout'"), r.stderr
        assert words in r.stderr and not (tmp_path / "venv").exists()
