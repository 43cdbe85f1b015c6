"""The command line follows pip's and uv's conventions: every subcommand has a description and
examples, every option has help, choices are shown, -q/-v work everywhere, and shell completion
(bash, zsh, fish) is generated from the parser and works in the real shells."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from torch_wizard.cli import build_parser
from torch_wizard.cli_help import walk

REPO = Path(__file__).resolve().parent.parent
CPU = str(REPO / "tests" / "fixtures" / "machines" / "cpu-server")


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


PARSERS = list(walk(build_parser()))


def _name(path: tuple[str, ...]) -> str:
    return " ".join(path) or "(top)"


@pytest.mark.parametrize("path", [p for p, _ in PARSERS], ids=_name)
def test_every_command_has_a_description_examples_and_help_for_each_option(
    path: tuple[str, ...],
) -> None:
    parser = dict(PARSERS)[path]
    assert parser.description and len(parser.description) > 40, _name(path)
    assert parser.epilog and parser.epilog.startswith("examples:\n"), _name(path)
    examples = [ln.strip() for ln in parser.epilog.splitlines()[1:] if ln.strip()]
    assert any(ln.startswith(f"torch-wizard {' '.join(path)}".strip()) for ln in examples)
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert isinstance(action.help, str) and action.help.strip(), (_name(path), action.dest)
        if action.option_strings and action.nargs != 0 and not action.choices:
            assert action.metavar, (_name(path), action.option_strings)  # never a bare DEST


def test_choices_are_shown_in_the_help() -> None:
    text = cli("plan", "--help").stdout
    for shown in (
        "--channel {stable,test,nightly}",
        "--build {wheel,source}",
        "--installer {auto,pip,uv}",
        "--format {text,sh,ps1,json}",
        "--os {linux,windows,macos}",
        "--source-profile {release,lean,debug,relwithdebinfo}",
    ):
        assert shown in text, shown
    assert "examples:\n  torch-wizard plan\n" in text
    # The description is wrapped to the width, the examples keep their lines.
    assert max(len(line) for line in text.splitlines() if not line.startswith("  torch")) <= 100


def test_a_choice_given_wrong_is_one_line_exit_2() -> None:
    r = cli("plan", "--root", CPU, "--installer", "conda")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "conda" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["-q", "detect", "--root", CPU, "--json"],
        ["detect", "-q", "--root", CPU, "--json"],
        ["-v", "detect", "--root", CPU, "--json"],
        ["detect", "--root", CPU, "--json", "-vv"],
        ["--quiet", "config", "path"],
        ["catalog", "check", "--missing-builds", "--verbose"],
    ],
)
def test_quiet_and_verbose_are_accepted_before_and_after_the_command(argv: list[str]) -> None:
    r = cli(*argv)
    assert "unrecognized arguments" not in r.stderr and "unknown option" not in r.stderr
    assert r.returncode in (0, 2) if argv[0] == "catalog" else r.returncode == 0, r.stderr


def test_free_threaded_python_is_planned_where_the_catalog_has_wheels() -> None:
    r = cli("plan", "--root", CPU, "--python", "3.14t", "--venv", "/tmp/v", "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["target"]["python"]["free_threaded"] is True
    assert plan["target"]["python"]["version"] == "3.14"
    none = cli("plan", "--root", CPU, "--python", "3.12t", "--venv", "/tmp/v")
    assert none.returncode == 2 and "free-threaded" in none.stderr
    assert len(none.stderr.splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# completion


def _script(shell: str, tmp_path: Path) -> Path:
    r = cli("completion", shell)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    path = tmp_path / f"torch-wizard.{shell}"
    path.write_text(r.stdout)
    return path


BASH_CASES = {
    "torch-wizard pl": "plan",
    "torch-wizard plan --for": "--format",
    "torch-wizard plan --format ": "text sh ps1 json",
    "torch-wizard -q plan --installer ": "auto pip uv",
    "torch-wizard --channel ": "stable test nightly",
    "torch-wizard export ": "requirements pyproject ansible",
    "torch-wizard export requirements --out": "--output",
    "torch-wizard catalog ": "check",
    "torch-wizard catalog check --plat": "--platform",
    "torch-wizard completion ": "bash zsh fish",
    "torch-wizard plan --format json --torch ": "",  # a version: nothing to offer
    "torch-wizard plan --venv sub": "subdir",  # a PATH: files and folders
    "torch-wizard wheelhouse sub": "subdir",  # OUTDIR: folders
}


def test_bash_completion_in_a_real_bash(tmp_path: Path) -> None:
    script = _script("bash", tmp_path)
    (tmp_path / "subdir").mkdir()
    lines = [f"source {script}", "complete -p torch-wizard"]
    for typed in BASH_CASES:
        words = typed.split(" ")
        quoted = " ".join(f"'{w}'" for w in words)
        lines.append(
            f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _torch_wizard; "
            'echo "${COMPREPLY[*]}"'
        )
    r = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", "\n".join(lines)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "complete -o filenames -F _torch_wizard torch-wizard"
    assert dict(zip(BASH_CASES, out[1:], strict=True)) == BASH_CASES


def test_bash_completion_offers_every_subcommand(tmp_path: Path) -> None:
    script = _script("bash", tmp_path)
    r = subprocess.run(
        ["bash", "--norc", "-c", f"source {script}; compgen -W \"$(_torch_wizard_subs '')\""],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    top = build_parser()
    (subs,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    assert r.stdout.split() == list(subs.choices)
    assert {"detect", "plan", "install", "doctor", "catalog", "completion"} <= set(subs.choices)


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_is_valid_and_completes(tmp_path: Path) -> None:
    script = _script("zsh", tmp_path)
    assert subprocess.run(["zsh", "-n", str(script)], timeout=60, check=False).returncode == 0
    code = (
        f"source {script}; print -r -- $_comps[torch-wizard]; "
        'emulate sh -c \'COMP_WORDS=(torch-wizard plan --format ""); COMP_CWORD=3; '
        '_torch_wizard; echo "${COMPREPLY[*]}"\''
    )
    r = subprocess.run(
        ["zsh", "-f", "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "_bash_complete -o filenames -F _torch_wizard",
        "text sh ps1 json",
    ]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion_is_valid_and_completes(tmp_path: Path) -> None:
    script = _script("fish", tmp_path)
    assert subprocess.run(["fish", "--no-execute", str(script)], timeout=60).returncode == 0

    def complete(typed: str) -> list[str]:
        r = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C {typed!r}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        return sorted(line.split("\t")[0] for line in r.stdout.splitlines())

    assert complete("torch-wizard pl") == ["plan"]
    assert complete("torch-wizard plan --format ") == ["json", "ps1", "sh", "text"]
    assert complete("torch-wizard export ") == ["ansible", "pyproject", "requirements"]
    assert complete("torch-wizard --venv /tmp plan --installer ") == ["auto", "pip", "uv"]
    assert "--missing-builds" in complete("torch-wizard catalog check --")


def _example_commands() -> list[str]:
    out = []
    for _, parser in PARSERS:
        for line in (parser.epilog or "").splitlines()[1:]:
            line = line.strip().split("#", 1)[0].split(">", 1)[0].strip()
            if line.startswith("torch-wizard") and "--help" not in line:
                out.append(line)
    return sorted(set(out))


@pytest.mark.parametrize("line", _example_commands())
def test_every_example_parses(line: str) -> None:
    """The examples are real command lines: each one parses (nothing is run)."""
    import shlex

    argv = shlex.split(line)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{line!r} does not parse (exit {exc.code})")
