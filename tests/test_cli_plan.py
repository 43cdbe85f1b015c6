"""The real ``torch-wizard plan`` command: fixture machines in, exact plans out; bad input out with 2."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

MACHINES = FIXTURES / "machines"


def plan_json(*args: str, cwd: Path | None = None) -> dict:  # type: ignore[type-arg]
    proc = run_cli("plan", "--format", "json", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def install_argv(plan: dict) -> list[str]:  # type: ignore[type-arg]
    return next(s["argv"] for s in plan["steps"] if s["id"] == "install-torch")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("root", "backend_prefix"),
    [
        ("cpu-server", "cpu"),
        ("rtx4090-driver550", "cu12"),
        ("gtx1080-driver580", "cu126"),
        ("rtx5090-driver570", "cu12"),
        ("h100x8", "cu"),
        ("amd-gfx1100-rocm6.4", "rocm"),
        ("intel-arc", "xpu"),
        ("raspberry-pi5", "cpu"),
        ("old-xeon-no-avx2", "cpu"),
        ("container-no-devnodes", "cpu"),
        ("jetson-orin-jp62", "jetson"),
    ],
)
def test_plan_for_fixture_machines(root: str, backend_prefix: str, tmp_path: Path) -> None:
    plan = plan_json("--root", str(MACHINES / root), "--venv", str(tmp_path / "env"))
    choice = plan["choice"]
    assert choice["backend"].startswith(backend_prefix), plan["reasons"]
    argv = install_argv(plan)
    assert "--extra-index-url" not in argv
    assert argv[argv.index("--index-url") + 1] == choice["index_url"]
    assert plan["reasons"], "every plan says why"
    assert plan["target"]["source"].startswith("root:")


def test_gtx1080_reason_names_the_compute_capability(tmp_path: Path) -> None:
    plan = plan_json("--root", str(MACHINES / "gtx1080-driver580"), "--venv", str(tmp_path / "e"))
    assert any("6.1" in r and "cu126" in r for r in plan["reasons"])


def test_no_avx2_and_container_warnings(tmp_path: Path) -> None:
    plan = plan_json("--root", str(MACHINES / "old-xeon-no-avx2"), "--venv", str(tmp_path / "e"))
    assert any("AVX2" in w for w in plan["warnings"])
    plan = plan_json(
        "--root", str(MACHINES / "container-no-devnodes"), "--venv", str(tmp_path / "e")
    )
    assert any("/dev/nvidia" in w for w in plan["warnings"])


def test_overrides_plan_for_another_machine(tmp_path: Path) -> None:
    plan = plan_json(
        "--root",
        str(MACHINES / "cpu-server"),
        "--nvidia-driver",
        "580.82.07",
        "--compute-capability",
        "6.1",
        "--venv",
        str(tmp_path / "e"),
    )
    assert plan["choice"]["backend"] == "cu126"


def test_profile_round_trip_plans_identically(tmp_path: Path) -> None:
    root = str(MACHINES / "rtx4090-driver550")
    detected = run_cli("detect", "--json", "--root", root)
    assert detected.returncode == 0, detected.stderr
    profile = tmp_path / "profile.json"
    profile.write_text(detected.stdout)
    a = plan_json("--root", root, "--venv", "/srv/env")
    b = plan_json("--profile", str(profile), "--venv", "/srv/env")
    assert a["steps"] == b["steps"]
    assert a["choice"] == b["choice"]


def test_options_before_the_subcommand_are_kept(tmp_path: Path) -> None:
    proc = run_cli(
        "--root", str(MACHINES / "cpu-server"), "plan", "--format", "json", "--venv", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["target"]["source"].startswith("root:")


def test_text_and_sh_formats(tmp_path: Path) -> None:
    root = str(MACHINES / "cpu-server")
    text = run_cli("plan", "--root", root, "--venv", str(tmp_path / "e"))
    assert text.returncode == 0, text.stderr
    assert "Why:" in text.stdout and "--index-url" in text.stdout
    sh = run_cli("plan", "--format", "sh", "--root", root, "--venv", str(tmp_path / "e"))
    assert sh.stdout.startswith("#!/bin/sh")
    plan = plan_json("--root", root, "--venv", str(tmp_path / "e"))
    # each step is one comment line and its command (the verify script's newlines are quoted);
    # an optional step records its failure, a step with a fallback is an if/else of both
    blocks = sh.stdout.split("\n\n")[1:]
    commands = [b.split("\n", 1)[1] for b in blocks if b.startswith("# ")]
    assert len(commands) == len(plan["steps"])
    for command, step in zip(commands, plan["steps"], strict=True):
        tokens = shlex.split(command)
        env = [f"{k}={v}" for k, v in step["env"].items()]
        if step["fallback"]:
            assert tokens[:6] == ["if", "[", "$tw_optional_failed", "=", "0", "];"]
            primary = tokens[7 : tokens.index("else")]
            assert primary == [*env, *step["argv"]]
            assert tokens[tokens.index("else") + 1 : -1] == [*env, *step["fallback"]]
        elif step["optional"]:
            assert tokens == [*env, *step["argv"], "||", "tw_optional_failed=1"]
        elif step["cwd"]:
            assert command.startswith(f"(cd {shlex.quote(step['cwd'])} && ")
        else:
            assert tokens == [*env, *step["argv"]]


def _bad_inputs(tmp_path: Path) -> list[tuple[list[str], str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    full = tmp_path / "full"
    full.mkdir()
    (full / "data.txt").write_text("x")
    bad_profile = tmp_path / "bad.json"
    bad_profile.write_text("{not json")
    wrong_shape = tmp_path / "shape.json"
    wrong_shape.write_text(json.dumps({"os": 3}))
    cpu = ["--root", str(MACHINES / "cpu-server")]
    return [
        ([*cpu, "--torch", "1.0.0"], "unknown torch version"),
        ([*cpu, "--backend", "cu101"], "it offers:"),
        ([*cpu, "--os", "macos", "--arch", "arm64", "--backend", "cu126"], "macOS"),
        ([*cpu, "--os", "windows", "--backend", "rocm6.4"], "only for Linux"),
        ([*cpu, "--python", "3.6"], "Python 3.6"),
        ([*cpu, "--arch", "armv7l"], "32-bit"),
        ([*cpu, "--channel", "beta"], "unknown channel"),
        ([*cpu, "--packages", "torch,torchtext"], "unknown package"),
        ([*cpu, "--venv", str(a_file)], "is a file"),
        ([*cpu, "--venv", str(full)], "not a virtual environment"),
        (["--profile", str(bad_profile)], "profile"),
        (["--profile", str(wrong_shape)], "profile"),
        (["--profile", str(tmp_path / "missing.json")], "profile"),
        ([*cpu, "--index-base", "http://mirror.example.org/whl"], "https"),
        (["--root", str(tmp_path / "no-such-root")], "root"),
    ]


def test_bad_input_one_line_exit_2_nothing_written(tmp_path: Path) -> None:
    cases = _bad_inputs(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for args, needle in cases:
        proc = (
            run_cli("plan", *args, "--venv", str(tmp_path / "env"), cwd=tmp_path)
            if ("--venv" not in args)
            else run_cli("plan", *args, cwd=tmp_path)
        )
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, (args, proc.stderr)
        assert needle.lower() in lines[0].lower(), (args, lines[0])
        assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_usage_errors_from_argparse_are_one_line() -> None:
    proc = run_cli("plan", "--format", "yaml")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_windows_venv_paths_follow_windows_rules(tmp_path: Path) -> None:
    """A Windows target planned here: C:\\torch stays C:\\torch (not joined to this cwd), and a
    file of that odd name in this POSIX cwd is not judged by POSIX rules."""
    (tmp_path / "C:\\torch").write_text("x")  # a POSIX file name; it must not matter
    plan = plan_json("--os", "windows", "--venv", "C:\\torch", cwd=tmp_path)
    assert plan["choice"]["venv"] == "C:\\torch"
    for step in plan["steps"][1:]:
        assert step["argv"][0] == "C:\\torch\\Scripts\\python.exe", step
    assert plan["steps"][0]["argv"][-1] == "C:\\torch"
    assert next(s for s in plan["steps"] if s["id"] == "verify")["cwd"] == "C:\\torch"
    relative = plan_json("--os", "windows", "--venv", "envs\\torch", cwd=tmp_path)
    assert relative["choice"]["venv"] == "envs\\torch"
    assert install_argv(relative)[0] == "envs\\torch\\Scripts\\python.exe"
    assert any("relative" in r for r in relative["reasons"])
