"""A plan makes its venv from the real interpreter, never from torch-wizard's own venv.

Under pipx, `uv tool` or uvx torch-wizard runs inside a private venv that those tools delete on
uninstall or cache cleanup; a venv made from that interpreter would break with it. These tests run
the real CLI from a real pipx-style venv (``tool_venv``), delete that venv, and run the plan's
create-venv step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, run_cli
from torch_wizard.machine import apply_overrides, detect
from torch_wizard.machine.model import PythonInfo
from torch_wizard.machine.python_env import base_interpreter
from torch_wizard.plan.wheel import base_python

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout and scripts")

SITE = Path(sysconfig.get_paths()["purelib"])  # where this test run's dependencies live
UV_BIN = Path(sys.executable).parent / "uv"  # uv is a dev dependency: beside the interpreter


def _is_uv(name: str) -> bool:
    return name == "uv" or name.startswith("uv-")


def tool_venv(where: Path, *, uv_beside: bool = False, uv_package: bool = False) -> Path:
    """A venv that runs torch-wizard the way pipx or `uv tool` sets it up; returns its python.

    Made with ``python -m venv``; the repo and its dependencies are importable through a ``.pth``
    file pointing at ``where-deps``, a folder of links to this test run's site-packages without uv.
    ``uv_beside`` puts a uv binary in the venv's ``bin`` (pipx inject / ``uv tool --with uv``);
    ``uv_package`` makes the ``uv`` package importable with its binary in ``where-deps/bin``
    (the ``pip install --target`` layout, found only by ``uv.find_uv_bin()``).
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120
    )
    py = where / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    deps = where.parent / f"{where.name}-deps"
    deps.mkdir()
    for entry in SITE.iterdir():
        if entry.suffix == ".pth" or entry.name == "__pycache__":
            continue
        if _is_uv(entry.name) and not uv_package:
            continue
        (deps / entry.name).symlink_to(entry)
    if uv_package:
        (deps / "bin").mkdir()
        (deps / "bin" / "uv").symlink_to(UV_BIN)
    if uv_beside:
        (where / "bin" / "uv").symlink_to(UV_BIN)
    Path(purelib, "torch_wizard_dev.pth").write_text(f"{REPO}\n{deps}\n")
    return py


def clean_env(tmp_path: Path, path: str | None = None) -> dict[str, str]:
    """No uv on PATH (an empty folder unless ``path``), a fresh HOME and state directory."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": path or str(empty),
        "HOME": str(home),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "LC_ALL": "C.UTF-8",
    }


def plan_json(py: Path, tmp_path: Path, *args: str, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run(
        [str(py), "-m", "torch_wizard", "plan", "--format", "json", "--backend", "cpu", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def step_argv(plan: dict[str, object], step_id: str) -> list[str]:
    steps = plan["steps"]
    assert isinstance(steps, list)
    (argv,) = [s["argv"] for s in steps if s["id"] == step_id]
    return list(argv)


def _inside(path: str, folder: Path) -> bool:
    real = os.path.realpath(folder)
    return os.path.commonpath([os.path.realpath(path), real]) == real


def _prefix_of(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


# ------------------------------------------------------------------- a real pipx-style venv


def test_plan_from_a_tool_venv_outlives_that_venv(tmp_path: Path) -> None:
    tool = tmp_path / "pipx-venvs" / "torch-wizard"
    tool.parent.mkdir()
    py = tool_venv(tool)
    base_prefix = subprocess.run(
        [str(py), "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    target = tmp_path / "torch-env"
    plan = plan_json(py, tmp_path, "--venv", str(target), env=clean_env(tmp_path))
    argv = step_argv(plan, "create-venv")
    assert argv[1:] == ["-I", "-m", "venv", str(target)]
    base = argv[0]
    assert os.path.isabs(base) and not _inside(base, tool), base
    # The venv's python is a link to the interpreter it is based on; the plan names that one.
    assert base == os.path.realpath(py)
    # The profile says both: who ran the wizard, and what venvs are made from.
    target_python = plan["target"]["python"]  # type: ignore[index]
    assert target_python["executable"] == str(py) and target_python["in_venv"] is True
    assert target_python["base_executable"] == base

    shutil.rmtree(tool)  # pipx uninstall
    assert not py.exists()
    assert _prefix_of(base) == base_prefix
    # The plan's own step still works: it creates a venv whose home is outside the removed one.
    subprocess.run(argv, check=True, timeout=300, env=clean_env(tmp_path))
    cfg = (target / "pyvenv.cfg").read_text()
    assert str(tool) not in cfg
    assert _prefix_of(str(target / "bin" / "python")) == str(target)


def test_uv_plan_from_a_tool_venv_asks_uv_for_the_base_interpreter(tmp_path: Path) -> None:
    tool = tmp_path / "uv-tools" / "torch-wizard"
    tool.parent.mkdir()
    py = tool_venv(tool, uv_beside=True)
    plan = plan_json(
        py, tmp_path, "--installer", "uv", "--venv", str(tmp_path / "t"), env=clean_env(tmp_path)
    )
    argv = step_argv(plan, "create-venv")
    wanted = argv[argv.index("--python") + 1]
    assert wanted == os.path.realpath(py) and not _inside(wanted, tool)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_this_repos_own_venv_names_its_base_interpreter(tmp_path: Path, installer: str) -> None:
    proc = run_cli(
        *("plan", "--format", "json", "--backend", "cpu", "--installer", installer),
        *("--venv", str(tmp_path / "v")),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    argv = step_argv(json.loads(proc.stdout), "create-venv")
    base = argv[argv.index("--python") + 1] if installer == "uv" else argv[0]
    if sys.prefix != sys.base_prefix:  # the usual case: tests run from .venv
        assert not _inside(base, Path(sys.prefix)), base
        assert _prefix_of(base) == sys.base_prefix
    else:
        assert base == sys.executable


# ------------------------------------------------------------------- the lookup, on real files


def _exe(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_base_executable_is_resolved_and_must_be_outside_the_venv(tmp_path: Path) -> None:
    real = _exe(tmp_path / "opt" / "python3.11" / "bin" / "python3.11")
    link = tmp_path / "usr" / "bin" / "python3"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    venv = tmp_path / "venv"
    inner = _exe(venv / "bin" / "python3.11")
    # Outside the venv: taken, resolved through the link.
    assert base_interpreter(str(venv), str(link), ["python3.11"], "") == str(real)
    # Inside it (a copied interpreter), missing, or not given: nothing without a PATH hit.
    assert base_interpreter(str(venv), str(inner), ["python3.11"], "") == ""
    assert base_interpreter(str(venv), str(tmp_path / "gone"), ["python3.11"], "") == ""
    assert base_interpreter(str(venv), "", ["python3.11"], "") == ""
    # A link inside the venv to an outside interpreter resolves outside: fine.
    (venv / "bin" / "python").symlink_to(real)
    assert base_interpreter(str(venv), str(venv / "bin" / "python"), ["python3.11"], "") == str(
        real
    )


def test_path_fallback_skips_the_venv_itself_and_other_venvs(tmp_path: Path) -> None:
    venv = tmp_path / "tool"
    own = _exe(venv / "bin" / "python3.11")
    other = tmp_path / "project" / ".venv"
    _exe(other / "bin" / "python3.11")  # a copied interpreter of another venv
    (other / "pyvenv.cfg").write_text("home = /usr/bin\n")
    wrong_version = _exe(tmp_path / "usr" / "local" / "bin" / "python3.12")
    system = _exe(tmp_path / "usr" / "bin" / "python3.11")
    path = os.pathsep.join(
        [str(own.parent), str(other / "bin"), str(wrong_version.parent), "", str(system.parent)]
    )
    assert base_interpreter(str(venv), str(own), ["python3.11"], path) == str(system)
    # Nothing suitable on PATH: "" (the plan then names python3.11 and a note says why).
    assert base_interpreter(str(venv), str(own), ["python3.11"], str(own.parent)) == ""
    not_executable = tmp_path / "noexec" / "python3.11"
    not_executable.parent.mkdir()
    not_executable.write_text("")
    assert base_interpreter(str(venv), "", ["python3.11"], str(not_executable.parent)) == ""


# ------------------------------------------------------------------- profiles and other targets


def test_another_platform_has_no_base_interpreter() -> None:
    m = detect(root=FIXTURES / "machines" / "rtx4090-driver550")
    assert m.python.base_executable  # same OS and arch as this host: the host's interpreter
    mac = apply_overrides(m, os="macos")
    assert mac.python.executable == "" and mac.python.base_executable == ""
    assert base_python(mac) == [f"python{mac.python.minor}"]
    win = apply_overrides(m, os="windows")
    assert base_python(win) == ["py", f"-{win.python.minor}"]


def test_a_profile_without_base_executable_never_names_a_venv_interpreter() -> None:
    # Profiles saved before base_executable existed: executable is used only outside a venv.
    m = detect(root=FIXTURES / "machines" / "cpu-server")
    system = replace(m, python=PythonInfo("3.11.7", executable="/usr/bin/python3.11"))
    assert base_python(system) == ["/usr/bin/python3.11"]
    pipx = "/home/u/.local/share/pipx/venvs/torch-wizard/bin/python"
    in_venv = replace(m, python=PythonInfo("3.11.7", executable=pipx, in_venv=True))
    assert base_python(in_venv) == ["python3.11"]
    based = replace(in_venv, python=replace(in_venv.python, base_executable="/usr/bin/python3.11"))
    assert base_python(based) == ["/usr/bin/python3.11"]
