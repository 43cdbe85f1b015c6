"""Bad input, round two: each case a real CLI run that must give one line on stderr naming the
problem, exit 2, no traceback, and leave the disk as it was (no venv, no log, no state)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CPU = ["--root", str(REPO / "tests" / "fixtures" / "machines" / "cpu-server")]

# (id, setup(tmp) -> argv, what stderr must say)
Case = tuple[str, Callable[[Path], list[str]], str]


def _fifo(tmp: Path) -> str:
    path = tmp / "profile.fifo"
    os.mkfifo(path)
    return str(path)


CASES: list[Case] = [
    # index bases: loopback decided from the parsed address, no query or fragment
    (
        "index-127-name",
        lambda t: ["plan", *CPU, "--index-base", "http://127.attacker.example/whl"],
        "plain http on another machine",
    ),
    (
        "index-nip-io",
        lambda t: ["plan", *CPU, "--index-base", "http://127.0.0.1.nip.io/whl"],
        "plain http on another machine",
    ),
    (
        "index-query",
        lambda t: ["plan", *CPU, "--index-base", "https://m.example/whl?x=1"],
        "query or fragment",
    ),
    (
        "index-fragment",
        lambda t: ["plan", *CPU, "--index-base", "https://m.example/whl#frag"],
        "query or fragment",
    ),
    (
        "index-query-install",
        lambda t: [
            "install",
            "--index-base",
            "https://m.example/whl?x=1#f",
            "--venv",
            str(t / "v"),
            "--yes",
        ],
        "query or fragment",
    ),
    # profiles that are not small regular files never hang or flood memory
    ("profile-fifo", lambda t: ["plan", "--profile", _fifo(t)], "not a regular file"),
    ("profile-dev-zero", lambda t: ["plan", "--profile", "/dev/zero"], "not a regular file"),
    ("profile-directory", lambda t: ["plan", "--profile", str(t)], "is a directory"),
    ("detect-profile-fifo", lambda t: ["detect", "--profile", _fifo(t)], "not a regular file"),
    # argparse abbreviations are off: --config is not --configure-only
    # (--config is an option now, the answers file; --configure is still no --configure-only)
    ("abbrev-configure", lambda t: ["plan", *CPU, "--configure", "x"], "unrecognized arguments"),
    ("abbrev-installer", lambda t: ["plan", *CPU, "--inst", "uv"], "unrecognized arguments"),
    # torch-wizard's own environment is never installed into (an activated tool venv, or .venv
    # of the README's first command): PyTorch would be mixed into the tool's packages
    (
        "own-venv-install",
        lambda t: ["install", "--venv", sys.prefix, "--yes"],
        "torch-wizard itself runs in",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, case: Case) -> None:
    _, setup, expected = case
    work = tmp_path / "work"
    work.mkdir()
    argv = setup(work)
    before = sorted(p.name for p in work.iterdir())
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.run(
        [sys.executable, "-m", "torch_wizard", *argv],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert expected in lines[0]
    assert sorted(p.name for p in work.iterdir()) == before
    assert not (tmp_path / "state").exists()
