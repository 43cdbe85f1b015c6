"""``torch-wizard wheelhouse``: what each target's plan needs (fixture machines, no network), and
bad input refused before anything is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from torch_wizard.commands.wheelhouse import fetch_of, platform_tags, specs_of
from torch_wizard.machine import apply_overrides, detect
from torch_wizard.plan import make_plan
from torch_wizard.plan.model import DEFAULT_INDEX_BASE, Choices

MACHINES = FIXTURES / "machines"


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_each_target_gets_its_variant_python_and_platform(tmp_path: Path) -> None:
    choices = Choices(torch="2.9.1", installer="pip", venv=str(tmp_path / "v"))
    gtx = detect(root=MACHINES / "gtx1080-driver580")
    cpu = detect(root=MACHINES / "cpu-server")
    f_gtx = fetch_of(make_plan(gtx, choices), DEFAULT_INDEX_BASE)
    f_cpu = fetch_of(make_plan(cpu, choices), DEFAULT_INDEX_BASE)
    assert (f_gtx.variant, f_cpu.variant) == ("cu126", "cpu")
    assert f_gtx.index_url == f"{DEFAULT_INDEX_BASE}/cu126"
    assert f_gtx.python == gtx.python.minor and f_gtx.abi == "cp" + gtx.python.minor.replace(
        ".", ""
    )
    # the torch pin and companions exactly as the install step has them, and the pip upgrade
    plan = make_plan(gtx, choices)
    install = plan.step("install-torch").argv
    assert all(s in install for s in f_gtx.specs if not s.startswith("pip"))
    assert f_gtx.specs[0] == "pip>=24.1" and "torch==2.9.1" in f_gtx.specs
    # uv plans upgrade no pip, so the wheelhouse needs none
    uv = fetch_of(make_plan(cpu, Choices(torch="2.9.1", installer="uv", venv=str(tmp_path / "v"))),
                  DEFAULT_INDEX_BASE)  # fmt: skip
    assert not any(s.startswith("pip") for s in uv.specs)
    # the test channel lives under test/ as on the PyTorch index
    test = make_plan(cpu, Choices(channel="test", venv=str(tmp_path / "v"), installer="pip"))
    if test.choice.index_url:
        assert fetch_of(test, DEFAULT_INDEX_BASE).variant.startswith("test/")


def test_platform_tags_follow_the_target_glibc_and_arch() -> None:
    cpu = detect(root=MACHINES / "cpu-server")
    tags = platform_tags(cpu)
    glibc_minor = int(cpu.os.libc_version.split(".")[1])
    assert tags[0] == f"manylinux_2_{glibc_minor}_x86_64"
    assert "manylinux_2_28_x86_64" in tags and "manylinux2014_x86_64" in tags
    assert tags[-1] == "linux_x86_64"
    pi = detect(root=MACHINES / "raspberry-pi5")
    assert all(t.endswith("aarch64") for t in platform_tags(pi))
    win = apply_overrides(cpu, os="windows")
    assert platform_tags(win) == ("win_amd64",)


def test_specs_come_from_the_steps_not_from_option_values(tmp_path: Path) -> None:
    plan = make_plan(
        detect(root=MACHINES / "cpu-server"),
        Choices(torch="2.9.1", installer="pip", venv=str(tmp_path / "v"), packages=("torch",)),
    )
    assert specs_of(plan) == ("pip>=24.1", "torch==2.9.1")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--os", "macos"], "from PyPI"),
        (["--build", "source"], "source build"),
        (["--root", str(MACHINES / "jetson-orin-jp62")], "not under the index base"),
        (["--backend", "cu999x"], "unknown backend"),
    ],
)
def test_bad_targets_exit_2_and_write_nothing(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "wh"
    r = cli(tmp_path, "wheelhouse", str(out), "--root", str(MACHINES / "cpu-server"), *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert len(r.stderr.splitlines()) == 1 and words in r.stderr, r.stderr
    assert not out.exists()


def test_one_bad_profile_among_several_stops_before_any_download(tmp_path: Path) -> None:
    good = tmp_path / "cpu.json"
    r = cli(tmp_path, "detect", "--json", "--root", str(MACHINES / "cpu-server"))
    good.write_text(r.stdout)
    mac = tmp_path / "mac.json"
    mac.write_text(json.dumps({**json.loads(r.stdout), "os": {"name": "macos"}}))
    out = tmp_path / "wh"
    r = cli(tmp_path, "wheelhouse", str(out), "--profile", str(good), "--profile", str(mac),
            "--torch", "2.9.1")  # fmt: skip
    assert r.returncode == 2 and "macos" in r.stderr, r.stderr
    assert not out.exists()


def test_outdir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    r = cli(tmp_path, "wheelhouse", str(f), "--root", str(MACHINES / "cpu-server"))
    assert r.returncode == 2 and "is a file" in r.stderr
    assert f.read_text() == "x"


def _wheel(dest: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A minimal pure-Python wheel with Requires-Dist lines (environment markers and all)."""
    import zipfile

    dist = f"{name}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{name}/__init__.py": "",
        f"{dist}.dist-info/METADATA": meta,
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(dest / f"{dist}-py3-none-any.whl", "w") as zf:
        for n, text in files.items():
            zf.writestr(n, text)
        zf.writestr(f"{dist}.dist-info/RECORD", "".join(f"{n},,\n" for n in files))


@pytest.mark.parametrize(
    ("target", "extra"),
    [
        (["--python", "3.11"], set()),
        (["--python", "3.12"], {"newpy"}),
        (["--os", "windows", "--python", "3.11"], {"winonly"}),
    ],
)
def test_dependencies_follow_the_target_markers_not_this_interpreter(
    tmp_path: Path, target: list[str], extra: set[str]
) -> None:
    """torch 2.13.0 (a stand-in wheel) needs setuptools-like packages only on some targets: the
    wheelhouse holds exactly the target's set, whatever Python runs torch-wizard."""
    from tests.support.httpserver import serve_directory
    from tests.support.torchindex import write_simple_index

    files = tmp_path / "index" / "files"
    files.mkdir(parents=True)
    _wheel(files, "torch", "2.13.0", ('newpy ; python_version >= "3.12"',
                                      'winonly ; sys_platform == "win32"', "common"))  # fmt: skip
    for name in ("newpy", "winonly", "common"):
        _wheel(files, name, "1.0")
    write_simple_index(files, tmp_path / "index" / "whl" / "cpu")
    out = tmp_path / "wh"
    with serve_directory(tmp_path / "index") as url:
        r = cli(tmp_path, "wheelhouse", str(out), "--index-base", f"{url}/whl", "--backend", "cpu",
                "--torch", "2.13.0", "--packages", "torch", "--installer", "uv",
                "--venv", str(tmp_path / "new-venv"), *target)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    got = {p.name.split("-")[0] for p in (out / "cpu").glob("*.whl")}
    assert got == {"torch", "common", *extra}, r.stderr


def test_several_profiles_fill_one_folder_per_backend(tmp_path: Path) -> None:
    """A GTX 1080 box and a CPU node (saved profiles) from one index base: cu126/ and cpu/, each
    with its own torch and dependencies; the CPU node gets no CUDA package, and the summary has a
    line per backend."""
    from tests.support.httpserver import serve_directory
    from tests.support.torchindex import write_simple_index

    index = tmp_path / "index"
    for variant, requires in (
        ("cpu", ("common",)),
        ("cu126", ("common", 'nvidia-cublas-cu12 ; platform_system == "Linux"')),
    ):
        files = index / "files" / variant
        files.mkdir(parents=True)
        _wheel(files, "torch", "2.13.0", requires)
        for name in ("common", "nvidia_cublas_cu12", "pip"):
            _wheel(files, name, "24.2" if name == "pip" else "1.0")
        write_simple_index(files, index / "whl" / variant)
    profiles = []
    for machine in ("gtx1080-driver580", "cpu-server"):
        r = cli(tmp_path, "detect", "--json", "--root", str(MACHINES / machine))
        profiles += ["--profile", str(tmp_path / f"{machine}.json")]
        (tmp_path / f"{machine}.json").write_text(r.stdout)
    out = tmp_path / "wh"
    with serve_directory(index) as url:
        r = cli(tmp_path, "wheelhouse", str(out), *profiles, "--index-base", f"{url}/whl",
                "--torch", "2.13.0", "--packages", "torch", "--installer", "pip",
                "--venv", "/opt/torch")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    names = {v: {p.name.split("-")[0] for p in (out / v).glob("*.whl")} for v in ("cpu", "cu126")}
    assert names["cu126"] == {"torch", "common", "nvidia_cublas_cu12", "pip"}
    assert names["cpu"] == {"torch", "common", "pip"}  # no CUDA wheel for the CPU node
    assert sorted(p.name for p in out.iterdir()) == ["cpu", "cu126"]
    lines = r.stdout.splitlines()
    assert lines[0] == f"Wheelhouse {out} (use --index-base {out.as_uri()}):"
    assert lines[1].split()[:3] == ["cu126", "4", "wheels"]
    assert lines[2].split()[:3] == ["cpu", "3", "wheels"]
    assert lines[3].split()[:3] == ["total", "7", "wheels"]


def _standin_index(root: Path) -> Path:
    files = root / "files"
    files.mkdir(parents=True)
    _wheel(files, "torch", "2.13.0", ("common",))
    _wheel(files, "common", "1.0")
    write = __import__("tests.support.torchindex", fromlist=["write_simple_index"])
    write.write_simple_index(files, root / "whl" / "cpu")
    return root


WH_ARGS = ("--backend", "cpu", "--torch", "2.13.0", "--packages", "torch", "--installer", "uv")


def test_a_damaged_wheel_in_the_wheelhouse_is_fetched_again(tmp_path: Path) -> None:
    from tests.support.httpserver import serve_directory

    index = _standin_index(tmp_path / "index")
    out = tmp_path / "wh"
    with serve_directory(index) as url:
        args = ("wheelhouse", str(out), "--index-base", f"{url}/whl", *WH_ARGS,
                "--venv", str(tmp_path / "v"))  # fmt: skip
        assert cli(tmp_path, *args).returncode == 0
        whl = out / "cpu" / "common-1.0-py3-none-any.whl"
        good = whl.read_bytes()
        whl.write_bytes(good + b"damage")
        r = cli(tmp_path, *args)
    assert r.returncode == 0, r.stderr
    assert "common-1.0-py3-none-any.whl: sha256 differs from the index's" in r.stderr
    assert whl.read_bytes() == good


def test_an_index_whose_hash_does_not_match_its_file_fails(tmp_path: Path) -> None:
    from tests.support.httpserver import serve_directory

    index = _standin_index(tmp_path / "index")
    page = index / "whl" / "cpu" / "common" / "index.html"
    text = page.read_text()
    start = text.index("#sha256=") + len("#sha256=")
    page.write_text(text[:start] + "0" * 64 + text[start + 64 :])
    out = tmp_path / "wh"
    with serve_directory(index) as url:
        r = cli(tmp_path, "wheelhouse", str(out), "--index-base", f"{url}/whl", *WH_ARGS,
                "--venv", str(tmp_path / "v"))  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "does not match the sha256 its index gives" in last and "Traceback" not in r.stderr
    assert not (out / "cpu" / "common-1.0-py3-none-any.whl").exists()
