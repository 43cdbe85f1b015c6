"""uv is found where it is: on PATH, beside torch-wizard's interpreter, or as the uv package's binary.

Each case runs the real CLI from a real venv laid out as pipx or `uv tool` would (see
``tests.test_base_interpreter.tool_venv``), with a PATH that holds only what the test puts there.
A fixture root (``--root DIR``) finds tools only in ``DIR/bin``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.test_base_interpreter import UV_BIN, clean_env, plan_json, step_argv, tool_venv
from torch_wizard.machine import detect
from torch_wizard.plan.wheel import uv_executable

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout and scripts")

FIX = "install uv (pip install uv) or use --installer pip"


def uv_steps(plan: dict[str, object]) -> tuple[str, str]:
    return step_argv(plan, "create-venv")[0], step_argv(plan, "install-torch")[0]


def detect_json(py: Path, tmp_path: Path, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run(
        [str(py), "-m", "torch_wizard", "detect", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def uv_tool(profile: dict[str, object]) -> dict[str, str]:
    tools = profile["tools"]
    assert isinstance(tools, list)
    (uv,) = [t for t in tools if t["name"] == "uv"]
    return dict(uv)


def test_uv_chosen_but_nowhere_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool")
    env = clean_env(tmp_path)
    target = tmp_path / "torch-env"
    args = ["install", "--installer", "uv", "--backend", "cpu", "--venv", str(target), "--yes"]
    proc = subprocess.run(
        [str(py), "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("torch-wizard: the plan installs with uv, but no uv was found here")
    assert first.endswith(f"{FIX}; nothing was run and nothing was written")  # one line
    assert "Traceback" not in proc.stderr
    assert not target.exists()
    assert not (tmp_path / "state").exists()  # not even a log
    # `plan` still shows the commands, with a bare `uv`: what another machine would run.
    assert uv_steps(plan_json(py, tmp_path, "--installer", "uv", env=env)) == ("uv", "uv")


def test_uv_beside_the_interpreter_is_named_by_its_path(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool", uv_beside=True)
    env = clean_env(tmp_path)
    beside = str(tmp_path / "tool" / "bin" / "uv")
    plan = plan_json(py, tmp_path, "--installer", "uv", "--venv", str(tmp_path / "t"), env=env)
    assert uv_steps(plan) == (beside, beside)
    uv = uv_tool(detect_json(py, tmp_path, env))
    assert uv["path"] == beside and uv["version"]  # it really ran: uv X.Y.Z


def test_uv_package_binary_is_found_by_find_uv_bin(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool", uv_package=True)
    env = clean_env(tmp_path)
    binary = str(tmp_path / "tool-deps" / "bin" / "uv")
    plan = plan_json(py, tmp_path, "--installer", "uv", "--venv", str(tmp_path / "t"), env=env)
    assert uv_steps(plan) == (binary, binary)


def test_uv_on_path_comes_first(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool", uv_beside=True, uv_package=True)
    path_dir = tmp_path / "user-bin"
    path_dir.mkdir()
    (path_dir / "uv").write_bytes(UV_BIN.read_bytes())  # a uv of the user's own, not a link
    (path_dir / "uv").chmod(0o755)
    env = clean_env(tmp_path, path=str(path_dir))
    plan = plan_json(py, tmp_path, "--installer", "uv", "--venv", str(tmp_path / "t"), env=env)
    assert uv_steps(plan) == (str(path_dir / "uv"),) * 2


def _old_uv(folder: Path, version: str = "0.1.44") -> Path:
    folder.mkdir(exist_ok=True)
    uv = folder / "uv"
    uv.write_text(f"#!/bin/sh\necho 'uv {version} (2f1e2a9 2024-05-17)'\n")
    uv.chmod(0o755)
    return uv


def test_an_old_uv_on_path_gives_way_to_the_tools_own(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool", uv_beside=True)
    old = _old_uv(tmp_path / "user-bin")
    env = clean_env(tmp_path, path=str(old.parent))
    beside = str(tmp_path / "tool" / "bin" / "uv")
    profile = detect_json(py, tmp_path, env)
    assert uv_tool(profile)["path"] == beside
    notes = profile["notes"]
    assert isinstance(notes, list)
    assert any(f"passed over {old} (uv 0.1.44, older than 0.5)" in n for n in notes), notes


def test_only_an_old_uv_is_reported_with_the_fix(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool")
    old = _old_uv(tmp_path / "user-bin", "0.4.30")
    profile = detect_json(py, tmp_path, clean_env(tmp_path, path=str(old.parent)))
    assert uv_tool(profile) == {"name": "uv", "path": str(old), "version": "0.4.30"}
    notes = profile["notes"]
    assert isinstance(notes, list)
    assert any("older than 0.5" in n and "pip install -U uv" in n for n in notes), notes


def test_a_fixture_root_finds_uv_only_in_its_bin() -> None:
    # This test run's interpreter has uv beside it; a fixture machine must not borrow it.
    assert UV_BIN.exists()
    m = detect(root=FIXTURES / "machines" / "cpu-server", timeout=2.0)
    assert not m.tool("uv").found
    assert uv_executable(m) == "uv"


def test_a_broken_uv_on_path_gives_way_too(tmp_path: Path) -> None:
    py = tool_venv(tmp_path / "tool", uv_beside=True)
    broken = tmp_path / "user-bin" / "uv"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n")
    broken.chmod(0o755)
    profile = detect_json(py, tmp_path, clean_env(tmp_path, path=str(broken.parent)))
    assert uv_tool(profile)["path"] == str(tmp_path / "tool" / "bin" / "uv")
    notes = profile["notes"]
    assert isinstance(notes, list)
    assert any(f"passed over {broken} (does not run)" in n for n in notes), notes
