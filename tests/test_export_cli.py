"""``torch-wizard export requirements|pyproject`` through the real command line: what the files
say for fixture machines and override targets, the markers per OS, and bad input (one line,
exit 2, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from tests.conftest import FIXTURES, REPO, run_cli

MACHINES = FIXTURES / "machines"


def wizard(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd or REPO)


def profile(tmp_path: Path, name: str, root: str, *overrides: str) -> str:
    """A profile saved by the real ``detect --json`` from a fixture root (plus overrides)."""
    r = wizard("detect", "--json", "--root", str(MACHINES / root), *overrides)
    assert r.returncode == 0, r.stderr
    path = tmp_path / f"{name}.json"
    path.write_text(r.stdout)
    return str(path)


@pytest.fixture
def trio(tmp_path: Path) -> list[str]:
    """A Linux box with an RTX 4090 (driver 550), an M2 MacBook and a Windows laptop."""
    return [
        profile(tmp_path, "lab-4090", "rtx4090-driver550"),
        profile(tmp_path, "mac", "macbook-m2"),
        profile(tmp_path, "laptop", "cpu-server", "--os", "windows", "--arch", "x86_64"),
    ]


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


# --------------------------------------------------------------------------------------------------
# requirements


def test_requirements_has_the_plans_index_and_pins() -> None:
    args = ["--root", str(MACHINES / "cpu-server"), "--torch", "2.13.0", "--installer", "pip"]
    r = wizard("export", "requirements", *args)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stdout.splitlines() if x and not x.startswith("#")]
    plan = json.loads(wizard("plan", *args, "--format", "json").stdout)
    step = next(s for s in plan["steps"] if s["id"] == "install-torch")
    specs = [a for a in step["argv"] if "==" in a]
    assert lines == [f"--index-url {plan['choice']['index_url']}", *specs]
    assert not any("--extra-index-url" in x for x in lines)


def test_requirements_for_a_mac_has_no_index_line() -> None:
    r = wizard("export", "requirements", "--os", "macos", "--arch", "arm64", "--packages", "torch")
    assert r.returncode == 0, r.stderr
    body = [x for x in r.stdout.splitlines() if x and not x.startswith("#")]
    assert body == [next(x for x in body if x.startswith("torch=="))]


def test_requirements_nightly_says_pre() -> None:
    r = wizard(
        "export", "requirements", "--channel", "nightly", "--backend", "cpu", "--os", "linux"
    )
    assert r.returncode == 0, r.stderr
    body = [x for x in r.stdout.splitlines() if x and not x.startswith("#")]
    assert "--pre" in body
    assert body[0].startswith("--index-url ") and body[0].endswith("/nightly/cpu")
    assert "torch" in body  # unpinned, like the plan


def test_requirements_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    r = wizard("export", "requirements", "--root", str(MACHINES / "cpu-server"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "--index-url https://download.pytorch.org/whl/cpu" in out.read_text().splitlines()


def test_requirements_refuses_several_machines(trio: list[str]) -> None:
    r = wizard("export", "requirements", "--profile", trio[0], "--profile", trio[1])
    assert "one machine" in one_error_line(r)


# --------------------------------------------------------------------------------------------------
# pyproject fragments


def fragment(*args: str) -> dict[str, Any]:
    r = wizard("export", "pyproject", *args)
    assert r.returncode == 0, r.stderr
    return tomlkit.parse(r.stdout).unwrap()


def sources_by_marker(data: dict[str, Any], package: str) -> dict[str, str]:
    uv = data["tool"]["uv"]
    return {e["marker"]: e["index"] for e in uv["sources"][package]}


def test_trio_fragment_markers_and_indexes(trio: list[str]) -> None:
    args = [a for p in trio for a in ("--profile", p)]
    r = wizard("export", "pyproject", *args)
    assert r.returncode == 0, r.stderr
    data = tomlkit.parse(r.stdout).unwrap()
    indexes = data["tool"]["uv"]["index"]
    assert indexes == [
        {
            "name": "pytorch-cu126",
            "url": "https://download.pytorch.org/whl/cu126",
            "explicit": True,
        },
        {"name": "pytorch-cpu", "url": "https://download.pytorch.org/whl/cpu", "explicit": True},
    ]
    for package in ("torch", "torchvision"):
        assert sources_by_marker(data, package) == {
            "sys_platform == 'linux' and platform_machine == 'x86_64'": "pytorch-cu126",
            "sys_platform == 'win32' and platform_machine == 'AMD64'": "pytorch-cpu",
        }
    # the Mac takes PyPI, its official route: no entry, and the comments say why
    assert "macos-arm64 (mac.json): PyPI is the official route" in r.stdout
    assert '#   "torch==' in r.stdout


@pytest.mark.parametrize(
    ("os_name", "arch", "marker"),
    [
        ("linux", "aarch64", "sys_platform == 'linux' and platform_machine == 'aarch64'"),
        ("windows", "arm64", "sys_platform == 'win32' and platform_machine == 'ARM64'"),
        ("windows", "x86_64", "sys_platform == 'win32' and platform_machine == 'AMD64'"),
        ("linux", "x86_64", "sys_platform == 'linux' and platform_machine == 'x86_64'"),
    ],
)
def test_markers_are_what_each_os_reports(os_name: str, arch: str, marker: str) -> None:
    data = fragment("--os", os_name, "--arch", arch, "--backend", "cpu", "--packages", "torch")
    assert sources_by_marker(data, "torch") == {marker: "pytorch-cpu"}


def test_the_markers_match_the_interpreter_here() -> None:
    """The marker the fragment writes for this host is true in this very interpreter."""
    import platform

    from packaging.markers import Marker

    if (sys.platform, platform.machine()) not in {("linux", "x86_64"), ("linux", "aarch64")}:
        pytest.skip("checked on Linux hosts")
    arch = platform.machine()
    data = fragment("--os", "linux", "--arch", arch, "--backend", "cpu", "--packages", "torch")
    (marker,) = sources_by_marker(data, "torch")
    assert Marker(marker).evaluate()


def test_different_versions_get_marked_dependency_lines(tmp_path: Path) -> None:
    """An Intel Mac's newest torch is older than the rest: dependency lines carry markers."""
    linux = profile(tmp_path, "linux", "cpu-server")
    intel_mac = profile(tmp_path, "imac", "macbook-m2", "--arch", "x86_64")
    r = wizard("export", "pyproject", "--profile", linux, "--profile", intel_mac)
    assert r.returncode == 0, r.stderr
    deps = [x.strip()[1:-2] for x in r.stdout.splitlines() if x.startswith('#   "torch==')]
    assert len(deps) == 2
    assert any(d.endswith("sys_platform == 'linux' and platform_machine == 'x86_64'") for d in deps)
    assert any(
        d.endswith("sys_platform == 'darwin' and platform_machine == 'x86_64'") for d in deps
    )


def test_same_platform_different_builds_is_refused(trio: list[str], tmp_path: Path) -> None:
    cpu_linux = profile(tmp_path, "node", "cpu-server")
    r = wizard("export", "pyproject", "--profile", trio[0], "--profile", cpu_linux)
    line = one_error_line(r)
    assert "marker cannot tell" in line and "--backend" in line


def test_same_platform_same_build_is_one_entry(tmp_path: Path) -> None:
    a = profile(tmp_path, "a", "cpu-server")
    b = profile(tmp_path, "b", "old-xeon-no-avx2")
    data = fragment("--profile", a, "--profile", b, "--packages", "torch")
    assert len(data["tool"]["uv"]["sources"]["torch"]) == 1


def test_family_packages_in_a_fragment() -> None:
    data = fragment("--os", "linux", "--backend", "cpu", "--packages", "torch,torchao,torchcodec")
    assert set(data["tool"]["uv"]["sources"]) == {"torch", "torchao", "torchcodec"}


# --------------------------------------------------------------------------------------------------
# bad input


def test_unknown_package_lists_the_known_ones() -> None:
    line = one_error_line(wizard("export", "pyproject", "--packages", "torch,torchfoo"))
    for name in ("torchvision", "torchaudio", "torchao", "torchcodec"):
        assert name in line


def test_export_without_a_kind() -> None:
    r = wizard("export")
    assert r.returncode == 2
    assert "requirements" in r.stderr and "pyproject" in r.stderr


def test_write_to_missing_file(tmp_path: Path) -> None:
    line = one_error_line(wizard("export", "pyproject", "--write", str(tmp_path / "nope.toml")))
    assert "no such file" in line
    assert not (tmp_path / "nope.toml").exists()


def test_write_bad_toml_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[project\nname = 'x'\n")
    line = one_error_line(
        wizard("export", "pyproject", "--os", "linux", "--backend", "cpu", "--write", str(path))
    )
    assert "not valid TOML (line 1" in line
    assert path.read_bytes() == b"[project\nname = 'x'\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


def test_impossible_choice_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "req.txt"
    r = wizard(
        "export", "requirements", "--os", "windows", "--packages", "torch,torchao", "-o", str(out)
    )
    assert "torchao has no build for windows-x86_64" in one_error_line(r)
    assert not out.exists()


def test_write_and_output_together(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n")
    line = one_error_line(
        wizard("export", "pyproject", "--write", str(path), "-o", str(tmp_path / "f.toml"))
    )
    assert "only one" in line


def test_output_to_a_folder(tmp_path: Path) -> None:
    line = one_error_line(wizard("export", "requirements", "--os", "linux", "-o", str(tmp_path)))
    assert "is a folder" in line


def test_readme_fragment_is_what_export_prints(tmp_path: Path) -> None:
    """The README's Linux CUDA + Mac + Windows example is the real output, byte for byte."""
    readme = (REPO / "README.md").read_text()
    start = readme.index("$ torch-wizard export pyproject --profile lab-4090.json")
    block = readme[start : readme.index("```", start)]
    command, _, shown = block.partition("\n")
    profile(tmp_path, "lab-4090", "rtx4090-driver550", "--python", "3.11")
    profile(tmp_path, "macbook", "macbook-m2")
    profile(
        tmp_path, "laptop", "cpu-server", "--os", "windows", "--arch", "x86_64", "--python", "3.11"
    )
    r = wizard(*command.split()[2:], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == shown
