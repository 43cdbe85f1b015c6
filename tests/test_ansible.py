"""``torch-wizard export ansible``: the playbook's shape (only ansible.builtin modules, the answers
carried as TOML that reads back), ansible-core's own syntax check, and bad input refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib

REPO = Path(__file__).resolve().parent.parent
ANSIBLE_PLAYBOOK = shutil.which(
    "ansible-playbook", path=str(REPO / ".venv" / "bin")
) or shutil.which("ansible-playbook")


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "TORCH_WIZARD_CONFIG")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
    )  # fmt: skip


def yaml_load(text: str) -> Any:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with ansible-core (a dev dependency)

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    return yaml.load(text, Loader=Loader)


LAB = 'torch = "2.13.0"\nbackend = "auto"\npackages = ["torch"]\nvenv = "/opt/torch"\n'


def test_playbook_uses_only_builtin_modules_and_carries_the_answers(tmp_path: Path) -> None:
    lab = tmp_path / "lab.toml"
    lab.write_text(LAB)
    r = cli(tmp_path, "export", "ansible", "--config", str(lab), "--installer", "uv")
    assert r.returncode == 0, r.stderr
    plays = yaml_load(r.stdout)
    assert isinstance(plays, list) and len(plays) == 1
    play = plays[0]
    keywords = {"name", "when", "register", "changed_when", "failed_when", "delegate_to", "vars"}
    modules = {k for task in play["tasks"] for k in task if k not in keywords}
    assert modules and all(m.startswith("ansible.builtin.") for m in modules), modules
    assert {"ansible.builtin.command", "ansible.builtin.fetch", "ansible.builtin.copy"} <= modules
    answers = tomllib.loads(play["vars"]["tw_default_answers"])
    # the flag over the file; the venv goes to torch_wizard_venv, not into the answers
    assert answers == {
        "torch": "2.13.0",
        "backend": "auto",
        "packages": ["torch"],
        "installer": "uv",
    }
    assert "'/opt/torch'" in play["vars"]["tw_venv"]
    argv = next(t for t in play["tasks"] if "install --config" in t["name"])[
        "ansible.builtin.command"
    ]
    assert (
        argv["argv"][1:4] == ["install", "--config", "{{ tw_config }}"] and "--yes" in argv["argv"]
    )


def test_ansible_core_accepts_the_playbook(tmp_path: Path) -> None:
    if ANSIBLE_PLAYBOOK is None:
        pytest.skip("ansible-core is not installed (pip install -e '.[dev]')")
    site = tmp_path / "site.yml"
    r = cli(tmp_path, "export", "ansible", "--torch", "2.13.0", "-o", str(site))
    assert r.returncode == 0 and site.is_file(), r.stderr
    inv = tmp_path / "inventory"
    inv.write_text("localhost ansible_connection=local\n")
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ah"), "ANSIBLE_NOCOLOR": "1",
           "LC_ALL": "C.UTF-8"}  # fmt: skip
    check = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(inv), str(site), "--syntax-check"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--root", "x"], "--root has no say"),
        (["--nvidia-driver", "550.54.14"], "--nvidia-driver has no say"),
        (["--channel", "beta"], "unknown channel"),
        (["--index-base", "http://mirror.lab.example/whl"], "--allow-insecure-index"),
        (["--venv", "relative/venv"], "absolute POSIX path"),
        (["--config", "missing.toml"], "no such file"),
    ],
)
def test_bad_input_exit_2_and_no_playbook(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "site.yml"
    r = cli(tmp_path, "export", "ansible", *args, "-o", str(out))
    assert r.returncode == 2, r.stdout + r.stderr
    assert len(r.stderr.splitlines()) == 1 and words in r.stderr, r.stderr
    assert not out.exists() and r.stdout == ""


def test_bad_answers_file_named_with_its_key(tmp_path: Path) -> None:
    lab = tmp_path / "lab.toml"
    lab.write_text('torch = "2.13.0"\ninstaller = "conda"\n')
    r = cli(tmp_path, "export", "ansible", "--config", str(lab))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"torch-wizard: {lab} line 2: 'installer'"), r.stderr
