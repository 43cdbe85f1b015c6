"""Answers files (``--config FILE``) and the user config: the real CLI over fixture machines and
overrides, the precedence of flag > answers file > user config > VIRTUAL_ENV > default, and every
bad file refused with one line naming the file and the key, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO
from torch_wizard import catalog
from torch_wizard.answers import (
    answers_of_choices,
    dump_answers,
    keys,
    parse_answers,
)
from torch_wizard.cli import build_parser
from torch_wizard.commands.common import build_choices, choices_from_args
from torch_wizard.plan.model import Choices, SourceOptions

MACHINES = FIXTURES / "machines"
LAB = """\
# the lab's answers: one file for every machine
torch = "2.9.1"
backend = "auto"
packages = ["torch", "torchvision"]
installer = "pip"
venv = "/opt/torch"
"""


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The host's environment with no user config of the developer's, no VIRTUAL_ENV."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "TORCH_WIZARD_CONFIG")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env.update(extra)
    return env


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env_for(tmp_path, **env),
        timeout=60,
        check=False,
    )


def plan_of(tmp_path: Path, *args: str, **env: str) -> dict:  # type: ignore[type-arg]
    r = cli(tmp_path, "plan", "--format", "json", *args, **env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    path = tmp_path / "lab.toml"
    path.write_text(LAB)
    return path


def newest_cuda12(torch: str) -> str:
    variants = catalog.load().release(torch, "stable").variants("linux-x86_64")  # type: ignore[union-attr]
    return max((v for v in variants if v.startswith("cu12")), key=lambda v: int(v[2:]))


@pytest.mark.parametrize(
    ("target", "backend"),
    [
        (["--root", str(MACHINES / "gtx1080-driver580")], "cu126"),
        (["--os", "linux", "--nvidia-driver", "580.82.07", "--compute-capability", "6.1"], "cu126"),
        (["--root", str(MACHINES / "rtx4090-driver550")], newest_cuda12("2.9.1")),
        (
            ["--os", "linux", "--nvidia-driver", "550.54.14", "--compute-capability", "8.9"],
            newest_cuda12("2.9.1"),
        ),
        (["--root", str(MACHINES / "amd-gfx1100-rocm6.4")], "rocm6.4"),
        (["--root", str(MACHINES / "cpu-server")], "cpu"),
    ],
)
def test_one_answers_file_resolves_per_machine(
    tmp_path: Path, lab: Path, target: list[str], backend: str
) -> None:
    plan = plan_of(tmp_path, "--config", str(lab), *target)
    choice = plan["choice"]
    assert choice["backend"] == backend, plan["reasons"]
    assert choice["torch"] == "2.9.1"
    assert list(choice["packages"]) == ["torch", "torchvision"]
    assert choice["installer"] == "pip"
    assert choice["venv"] == "/opt/torch"
    assert choice["index_url"] == f"https://download.pytorch.org/whl/{backend}"


def test_rtx4090_on_driver_550_gets_no_cuda13_build(tmp_path: Path, lab: Path) -> None:
    """The newest CUDA 12 build is not the newest build: cu130 needs driver 580."""
    assert "cu130" in catalog.load().release("2.9.1", "stable").variants("linux-x86_64")  # type: ignore[union-attr]
    plan = plan_of(tmp_path, "--config", str(lab), "--root", str(MACHINES / "rtx4090-driver550"))
    assert plan["choice"]["backend"] != "cu130"


def test_precedence_flag_answers_user_config_default(tmp_path: Path, lab: Path) -> None:
    user = tmp_path / "xdg-config" / "torch-wizard" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('installer = "uv"\nchannel = "stable"\nvenv = "/srv/user-venv"\n'
                    'index-base = "https://mirror.lab.example/whl"\n')  # fmt: skip
    root = ["--root", str(MACHINES / "cpu-server")]
    # the user config alone: its installer, venv and mirror
    alone = plan_of(tmp_path, *root)["choice"]
    assert (alone["installer"], alone["venv"]) == ("uv", "/srv/user-venv")
    assert alone["index_url"] == "https://mirror.lab.example/whl/cpu"
    # the answers file over the user config (installer, venv), the user config where it is silent
    both = plan_of(tmp_path, "--config", str(lab), *root)["choice"]
    assert (both["installer"], both["venv"], both["torch"]) == ("pip", "/opt/torch", "2.9.1")
    assert both["index_url"] == "https://mirror.lab.example/whl/cpu"
    # a flag over both
    flag = plan_of(tmp_path, "--config", str(lab), "--installer", "uv", "--torch", "2.13.0", *root)
    assert (flag["choice"]["installer"], flag["choice"]["torch"]) == ("uv", "2.13.0")
    assert flag["choice"]["venv"] == "/opt/torch"
    # an option given before the subcommand is a flag too
    r = cli(tmp_path, "--venv", str(tmp_path / "v"), "plan", "--format", "json", "--config",
            str(lab), *root)  # fmt: skip
    assert json.loads(r.stdout)["choice"]["venv"] == str(tmp_path / "v"), r.stderr


def test_virtual_env_is_the_default_venv_below_the_files(tmp_path: Path, lab: Path) -> None:
    root = ["--root", str(MACHINES / "cpu-server")]
    active = str(tmp_path / "active-venv")
    assert plan_of(tmp_path, *root, VIRTUAL_ENV=active)["choice"]["venv"] == active
    assert plan_of(tmp_path, *root)["choice"]["venv"] == str(tmp_path / ".venv")
    with_file = plan_of(tmp_path, "--config", str(lab), *root, VIRTUAL_ENV=active)
    assert with_file["choice"]["venv"] == "/opt/torch"
    # torch-wizard's own venv, activated, is never the default target
    own = plan_of(tmp_path, *root, VIRTUAL_ENV=sys.prefix)["choice"]["venv"]
    assert own == str(tmp_path / ".venv") and sys.prefix != sys.base_prefix


def test_a_flag_decides_the_cache_over_a_file(tmp_path: Path) -> None:
    """--cache-dir on the command line is not contradicted by no-cache = true in the file."""
    f = tmp_path / "a.toml"
    f.write_text("no-cache = true\n")
    root = ["--root", str(MACHINES / "cpu-server"), "--venv", str(tmp_path / "v")]
    off = plan_of(tmp_path, "--config", str(f), *root)["choice"]
    assert off["cache"] == "off"
    cache = tmp_path / "cache"
    flag = plan_of(tmp_path, "--config", str(f), "--cache-dir", str(cache), *root)["choice"]
    assert flag["cache_dir"] == str(cache) and flag["cache"] == "keep"


def test_the_wizard_is_prefilled_from_the_answers(tmp_path: Path, lab: Path) -> None:
    """``torch-wizard --config lab.toml`` builds its initial choices with this very function."""
    args = build_parser().parse_args(["--config", str(lab), "--root", str(MACHINES / "cpu-server")])
    old = os.environ.pop("VIRTUAL_ENV", None)
    try:
        choices = choices_from_args(args)
    finally:
        if old is not None:
            os.environ["VIRTUAL_ENV"] = old
    assert (choices.torch, choices.backend, choices.installer) == ("2.9.1", "auto", "pip")
    assert choices.packages == ("torch", "torchvision") and choices.venv == "/opt/torch"


BAD = [
    ("unknown key", 'backend = "auto"\nchanel = "stable"\n', "line 2: unknown key 'chanel'", "channel"),
    ("packages not an array", 'packages = "torch"\n', "line 1: 'packages' is a string", "array"),
    ("int for a bool", "develop = 1\n", "line 1: 'develop' is an integer", "true or false"),
    ("string for an int", 'max-jobs = "4"\n', "line 1: 'max-jobs' is a string", "integer"),
    ("number for a string", "torch = 2.9\n", "line 1: 'torch' is a number", "string"),
    ("a table", '[source]\nurl = "x"\n', "unknown key 'source'", "source-url"),
    ("unparsable", 'backend = "auto"\ntorch = "2.9.1\n', "not valid TOML", "line 2"),
    ("unparsable key", "backend auto\n", "not valid TOML", "line 1"),
    ("channel refused", 'channel = "beta"\n', "line 1: 'channel': unknown channel 'beta'", "stable, test or nightly"),
    ("backend refused", 'backend = "cu999x"\n', "'backend': unknown backend 'cu999x'", "cuXYZ"),
    ("torch refused", 'torch = "9.9.9"\n', "'torch': unknown torch version '9.9.9'", "2.15.0"),
    ("package refused", 'packages = ["torch", "tensorflow"]\n', "'packages': unknown package", "torchvision"),
    ("installer refused", 'installer = "conda"\n', "'installer': unknown installer", "pip or uv"),
    ("http mirror refused", 'index-base = "http://mirror.lab.example/whl"\n', "'index-base'", "--allow-insecure-index"),
    ("negative jobs", "max-jobs = -3\n", "'max-jobs': --max-jobs -3 is negative", "positive"),
    ("bad profile", 'source-profile = "fast"\n', "'source-profile'", "release, lean"),
    ("cache contradiction", 'cache-dir = "/tmp/c"\nno-cache = true\n', "contradict", "cache"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "named", "fix"), BAD, ids=[b[0] for b in BAD])
def test_bad_answers_file_is_one_line_exit_2_nothing_written(
    tmp_path: Path, case: str, text: str, named: str, fix: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bad = work / "bad.toml"
    bad.write_text(text)
    before = sorted(p.name for p in work.iterdir())
    venv = work / "venv"
    r = subprocess.run(
        [sys.executable, "-m", "torch_wizard", "install", "--config", str(bad), "--venv", str(venv),
         "--yes"],
        capture_output=True, text=True, cwd=work, env=env_for(tmp_path), timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"torch-wizard: {bad}"), lines[0]
    assert named in lines[0] and fix in lines[0], lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert sorted(p.name for p in work.iterdir()) == before  # nothing written


def test_a_value_the_cli_refuses_is_refused_in_the_file_with_the_same_words(tmp_path: Path) -> None:
    flag = cli(tmp_path, "plan", "--channel", "beta", "--root", str(MACHINES / "cpu-server"))
    f = tmp_path / "a.toml"
    f.write_text('channel = "beta"\n')
    answers = cli(tmp_path, "plan", "--config", str(f), "--root", str(MACHINES / "cpu-server"))
    assert flag.returncode == answers.returncode == 2
    assert flag.stderr.removeprefix("torch-wizard: ").strip() in answers.stderr


@pytest.mark.parametrize("kind", ["missing", "directory", "empty name"])
def test_missing_answers_file(tmp_path: Path, kind: str) -> None:
    name = {"missing": str(tmp_path / "nope.toml"), "directory": str(tmp_path), "empty name": ""}[
        kind
    ]
    r = cli(tmp_path, "plan", "--config", name, "--root", str(MACHINES / "cpu-server"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "--config" in r.stderr and (name in r.stderr)
    assert "Traceback" not in r.stderr


def test_bad_user_config_names_its_file_and_key(tmp_path: Path) -> None:
    user = tmp_path / "xdg-config" / "torch-wizard" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('installer = "pip"\nmirror = "x"\n')
    r = cli(tmp_path, "plan", "--root", str(MACHINES / "cpu-server"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (
        f"torch-wizard: {user} line 2: unknown key 'mirror': the keys are " + ", ".join(keys())
    )
    gone = cli(tmp_path, "plan", TORCH_WIZARD_CONFIG=str(tmp_path / "none.toml"))
    assert gone.returncode == 2 and "TORCH_WIZARD_CONFIG" in gone.stderr
    assert str(tmp_path / "none.toml") in gone.stderr and len(gone.stderr.splitlines()) == 1


def test_config_path(tmp_path: Path) -> None:
    r = cli(tmp_path, "config", "path")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{tmp_path / 'xdg-config' / 'torch-wizard' / 'config.toml'}\n"
    mine = tmp_path / "mine.toml"
    r = cli(tmp_path, "config", "path", TORCH_WIZARD_CONFIG=str(mine))
    assert r.stdout == f"{mine}\n"
    # The folder comes from platformdirs and the process environment: an unset (empty) or
    # relative XDG_CONFIG_HOME means ~/.config, as the XDG Base Directory Specification says.
    home = tmp_path / "home"
    for xdg in ("", "relative"):
        r = cli(tmp_path, "config", "path", HOME=str(home), XDG_CONFIG_HOME=xdg)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"{home / '.config' / 'torch-wizard' / 'config.toml'}\n"


def test_every_choice_option_is_a_key_and_no_other() -> None:
    """The keys come from the parser: each CHOICES flag is one, --config is not."""
    names = set(keys())
    assert {"channel", "backend", "torch", "packages", "build", "installer", "venv", "index-base",
            "allow-insecure-index", "cache-dir", "no-cache", "source-url", "source-ref",
            "source-dir", "source-profile", "develop", "max-jobs", "cuda-arch-list",
            "configure-only"} <= names  # fmt: skip
    assert "config" not in names
    help_text = build_parser().format_help()
    assert all(f"--{name}" in help_text for name in names)


@pytest.mark.parametrize(
    "choices",
    [
        Choices(backend="cu126", torch="2.9.1", packages=("torch",), installer="uv", venv="/opt/t"),
        Choices(cache_dir="/srv/cache", index_base="file:///srv/whl", venv='we"ird\\path'),
        Choices(cache="off", allow_insecure_index=True, index_base="http://mirror.lab/whl"),
        Choices(
            build="source",
            source=SourceOptions(
                profile="lean", max_jobs=4, develop=True, ref="v2.9.1", cuda_arch_list="8.6"
            ),
        ),
    ],
)
def test_saved_answers_read_back_as_the_same_choices(tmp_path: Path, choices: Choices) -> None:
    text = dump_answers(answers_of_choices(choices), header="saved by a test")
    assert text.startswith("# saved by a test\n")
    values = parse_answers(text, "saved.toml")
    import argparse

    again = build_choices(argparse.Namespace(**values))
    assert again == choices


def test_repo_user_config_is_not_read_by_these_tests() -> None:
    """A guard for the tests above: they run with their own XDG_CONFIG_HOME."""
    r = cli(REPO, "config", "path")
    assert r.returncode == 0 and r.stdout.startswith(str(REPO)), r.stdout + r.stderr
