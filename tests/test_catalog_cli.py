"""``torch-wizard catalog check`` (the installed form of scripts/check_catalog.py, same output) and
the note when the bundled catalog is older than 120 days, in ``plan`` and on the Machine screen.

The age is tested for real: a copy of the package whose releases.json says it was updated long
ago (or today) runs as a child process; nothing is patched."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.httpserver import serve_directory
from torch_wizard import catalog
from torch_wizard.catalog.core import AGE_CHECK_ENV, STALE_DAYS, staleness
from torch_wizard.commands.catalog import PLATFORM_KEYS

REPO = Path(__file__).resolve().parent.parent
CPU = str(REPO / "tests" / "fixtures" / "machines" / "cpu-server")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (AGE_CHECK_ENV, "VIRTUAL_ENV")}
    env.update(extra)
    return env


def _run(argv: list[str], cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False, env=_env(**env)
    )


# ---------------------------------------------------------------------------------------------
# catalog check


def _index(root: Path) -> None:
    """A mirror with only the newest release's CPU build (PEP 503 pages)."""
    newest = catalog.load().releases()[0].version
    d = root / "whl" / "cpu" / "torch"
    d.mkdir(parents=True)
    wheel = f"torch-{newest}+cpu-cp312-cp312-manylinux_2_28_x86_64.whl"
    (d / "index.html").write_text(f'<a href="../../../files/{wheel}">{wheel}</a>\n')
    (root / "whl" / "torch").mkdir(parents=True)
    (root / "whl" / "torch" / "index.html").write_text(
        f'<a href="../../files/{wheel.replace("+", "%2B")}">{wheel}</a>\n'
    )


@pytest.mark.parametrize("extra", [[], ["--missing-builds"]])
def test_catalog_check_prints_what_the_script_prints(tmp_path: Path, extra: list[str]) -> None:
    _index(tmp_path)
    with serve_directory(tmp_path) as url:
        args = ["--index-base", f"{url}/whl", *extra]
        script = _run([sys.executable, "scripts/check_catalog.py", *args])
        command = _run([sys.executable, "-m", "torch_wizard", "catalog", "check", *args])
        before = _run(
            [sys.executable, "-m", "torch_wizard", *args[:2], "catalog", "check", *args[2:]]
        )
    assert before.stdout == command.stdout  # --index-base given before the command counts too
    assert script.stdout and command.stdout == script.stdout
    assert command.stderr == script.stderr == ""
    if extra:  # the one build on the index is one the catalog knows
        assert command.returncode == script.returncode == 0
        assert command.stdout.endswith(": 0 missing from or differing with the catalog\n")
    else:  # the mirror lacks the newest release's other backends
        assert command.returncode == script.returncode == 1
        assert "MISSING" in command.stdout and "ok" in command.stdout


def test_catalog_check_with_an_unreachable_index_is_one_line_exit_1(tmp_path: Path) -> None:
    with serve_directory(tmp_path) as url:  # serves nothing
        r = _run(
            [sys.executable, "-m", "torch_wizard", "catalog", "check", "--index-base", url, "-q"]
        )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--missing-builds"], "--missing-builds needs --index-base URL"),
        (["--platform", "linux-riscv64"], "invalid choice: 'linux-riscv64'"),
        (["--index-base", " "], "--index-base is empty"),
    ],
)
def test_catalog_check_bad_input_is_one_line_exit_2(argv: list[str], words: str) -> None:
    r = _run([sys.executable, "-m", "torch_wizard", "catalog", "check", *argv])
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and words in r.stderr, r.stderr


def test_catalog_without_check_names_it() -> None:
    r = _run([sys.executable, "-m", "torch_wizard", "catalog"])
    assert r.returncode == 2 and "check" in r.stderr and len(r.stderr.splitlines()) == 1


def test_the_parser_platform_keys_are_the_catalogs() -> None:
    assert PLATFORM_KEYS == catalog.PLATFORM_KEYS


# ---------------------------------------------------------------------------------------------
# the age note


def test_staleness_starts_after_120_days() -> None:
    assert STALE_DAYS == 120
    assert staleness("2026-01-01", "2026-05-01") == ""  # 120 days
    note = staleness("2026-01-01", "2026-05-02")
    assert note.startswith("the bundled PyTorch catalog was last updated 2026-01-01, 121 days ago")
    assert "torch-wizard catalog check" in note and "--missing-builds" in note
    assert staleness("", "2026-05-02") == staleness("2026-01-01", "soon") == ""


def test_the_bundled_catalog_records_when_it_was_updated() -> None:
    data = json.loads((REPO / "torch_wizard" / "catalog" / "data" / "releases.json").read_text())
    assert datetime.date.fromisoformat(data["updated"]) == datetime.date.fromisoformat(
        catalog.load().updated
    )
    newest = max(r.date for r in catalog.load().releases())
    assert data["updated"] >= newest  # updated after the newest release it knows


def _copy_with_updated(root: Path, updated: str) -> Path:
    shutil.copytree(
        REPO / "torch_wizard", root / "torch_wizard", ignore=shutil.ignore_patterns("__pycache__")
    )
    path = root / "torch_wizard" / "catalog" / "data" / "releases.json"
    data = json.loads(path.read_text("utf-8"))
    data["updated"] = updated
    path.write_text(json.dumps(data), "utf-8")
    return root


@pytest.fixture(scope="module")
def old_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_with_updated(tmp_path_factory.mktemp("old"), "2026-01-01")


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    today = datetime.date.today().isoformat()
    return _copy_with_updated(tmp_path_factory.mktemp("fresh"), today)


def _plan(copy: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "torch_wizard", "plan", "--root", CPU, "--venv", "/tmp/v", *extra]
    return _run(argv, cwd=copy, PYTHONPATH=str(copy), **env)


def test_plan_notes_an_old_catalog_on_stderr_with_how_to_check(
    old_copy: Path, fresh_copy: Path
) -> None:
    old = _plan(old_copy, "--format", "json")
    fresh = _plan(fresh_copy, "--format", "json")
    assert old.returncode == fresh.returncode == 0, old.stderr + fresh.stderr
    assert old.stdout == fresh.stdout  # the plan itself does not depend on the date
    assert fresh.stderr == ""
    (line,) = old.stderr.splitlines()
    assert line.startswith("torch-wizard: note: the bundled PyTorch catalog was last updated ")
    assert "2026-01-01" in line and "run 'torch-wizard catalog check'" in line


def test_the_note_is_off_with_quiet_or_the_variable(old_copy: Path) -> None:
    assert _plan(old_copy, "-q").stderr == ""
    assert _plan(old_copy, **{AGE_CHECK_ENV: "1"}).stderr == ""
    assert "catalog check" in _plan(old_copy, **{AGE_CHECK_ENV: "0"}).stderr


SCREEN = """
from torch_wizard.machine import detect
from torch_wizard.ui.screens.machine import notes_content
print(notes_content(detect(root={root!r})).plain)
"""


def test_the_machine_screen_notes_an_old_catalog(old_copy: Path, fresh_copy: Path) -> None:
    code = SCREEN.format(root=CPU)
    old = _run([sys.executable, "-c", code], cwd=old_copy, PYTHONPATH=str(old_copy))
    fresh = _run([sys.executable, "-c", code], cwd=fresh_copy, PYTHONPATH=str(fresh_copy))
    assert old.returncode == fresh.returncode == 0, old.stderr + fresh.stderr
    assert "catalog check" not in fresh.stdout
    assert "Worth knowing:" in old.stdout
    assert "! The bundled PyTorch catalog was last updated 2026-01-01" in old.stdout
