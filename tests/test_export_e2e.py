"""Exports used by the real consumers, against local indexes on 127.0.0.1:

- an exported requirements file installed by real pip and by real uv into fresh venvs, from a
  local PyTorch-like index holding the real torch 2.13.0 CPU wheel and the real torchao 0.18.0
  wheel; then the plan's own verify script runs there (torch on the CPU, torchao quantizes);
- an exported pyproject fragment for a Linux CUDA box, a Mac and a Windows laptop merged into a
  small project and locked by real ``uv lock`` against fake-wheel indexes with decoys (a torch on
  the default index for every platform), then the lock file read back: each platform's torch
  comes from the index its marker names;
- verify catches a torchcodec that cannot load (PyPI's CUDA build beside a CPU torch).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit
from packaging.markers import Marker

from tests.conftest import FIXTURES, REPO
from tests.support import projectindex, torchindex
from tests.support.httpserver import serve_directory
from torch_wizard.plan.verify import MARKER, verify_argv

pytestmark = pytest.mark.slow

UV = str(REPO / ".venv" / "bin" / "uv")
MACHINES = FIXTURES / "machines"
FAMILY_WHEELS = ("torchao==0.18.0", "torchcodec==0.16.0")


def wizard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def family_index() -> Iterator[str]:
    """``<url>/whl``: a cpu index with the torch index's wheels plus real torchao (built once
    into .cache/exportindex from PyPI); ``<url>/pypi`` holds the real torchcodec wheel."""
    if torchindex.supported_here():
        pytest.skip(torchindex.supported_here())
    base = torchindex.build_index()
    if base is None:
        pytest.skip(f"local torch index unavailable: {torchindex.last_error}")
    root = torchindex.cache_root().parent / "exportindex"
    files, extra = root / "files", root / "extra"
    done = root / ".complete-v1"
    if not done.is_file():
        files.mkdir(parents=True, exist_ok=True)
        extra.mkdir(parents=True, exist_ok=True)
        for whl in (base / "files").glob("*.whl"):
            if not (files / whl.name).exists():
                os.link(whl, files / whl.name)
        argv = [sys.executable, "-m", "pip", "download", *FAMILY_WHEELS, "--no-deps"]
        argv += ["--only-binary=:all:", "--platform", "manylinux_2_28_x86_64"]
        argv += ["--python-version", "3.11", "--implementation", "cp", "-d", str(extra)]
        r = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if r.returncode != 0:
            pytest.skip(f"pip download of {FAMILY_WHEELS} failed: {r.stderr.strip()[-200:]}")
        for whl in extra.glob("torchao-*.whl"):
            shutil.copy2(whl, files / whl.name)
        torchindex.write_simple_index(files, root / "whl" / "cpu")
        torchindex.write_simple_index(extra, root / "pypi")
        done.write_text("ok\n")
    with serve_directory(root) as url:
        yield url


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = torchindex.clean_pip_env(cache=tmp_path / "cache")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env


def report(python: Path, packages: dict[str, str], cwd: Path) -> dict[str, object]:
    r = subprocess.run(
        verify_argv(str(python), "cpu", packages),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    line = next(x for x in r.stdout.splitlines() if x.startswith(MARKER + " "))
    data: dict[str, object] = json.loads(line.split(" ", 1)[1])
    data["returncode"] = r.returncode
    return data


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_requirements_install_with_pip_and_uv(
    family_index: str, tmp_path: Path, installer: str
) -> None:
    req = tmp_path / "requirements.txt"
    r = wizard(
        "export",
        "requirements",
        "--root",
        str(MACHINES / "cpu-server"),
        "--index-base",
        f"{family_index}/whl",
        "--torch",
        "2.13.0",
        "--packages",
        "torch,torchao",
        "-o",
        str(req),
    )
    assert r.returncode == 0, r.stderr
    body = [x for x in req.read_text().splitlines() if x and not x.startswith("#")]
    assert body == [f"--index-url {family_index}/whl/cpu", "torch==2.13.0", "torchao==0.18.0"]

    env = clean_env(tmp_path)
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    base = getattr(sys, "_base_executable", sys.executable)
    if installer == "pip":
        subprocess.run([base, "-m", "venv", str(venv)], check=True, env=env, timeout=120)
        argv = [str(python), "-m", "pip", "install", "-r", str(req)]
    else:
        subprocess.run([UV, "venv", "-q", "-p", base, str(venv)], check=True, env=env, timeout=120)
        argv = [UV, "pip", "install", "--python", str(python), "-r", str(req)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    rep = report(python, {"torch": "2.13.0", "torchao": "0.18.0"}, venv)
    assert rep["returncode"] == 0, rep
    assert rep["torch"] == "2.13.0+cpu"  # from the file's index, not PyPI's CUDA build
    checks = {c["name"]: c for c in rep["checks"]}  # type: ignore[attr-defined]
    assert checks["torchao"]["test"] == "quantize" and checks["torchao"]["ok"], checks


def test_verify_names_a_torchcodec_that_cannot_load(family_index: str, tmp_path: Path) -> None:
    """PyPI's Linux torchcodec is a CUDA build: beside a CPU torch, without CUDA's libnvrtc, it
    cannot load, and the check says which library and what to do."""
    found = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False)
    if "libnvrtc.so.13" in found.stdout:
        pytest.skip("this host has CUDA 13's libnvrtc: PyPI's torchcodec loads here")
    env = clean_env(tmp_path)
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([UV, "venv", "-q", "-p", base, str(venv)], check=True, env=env, timeout=120)
    argv = [UV, "pip", "install", "--python", str(python), "torch==2.13.0", "torchcodec==0.16.0"]
    argv += ["--index-url", f"{family_index}/whl/cpu", "--extra-index-url", f"{family_index}/pypi"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rep = report(python, {"torch": "2.13.0", "torchcodec": "0.16.0"}, venv)
    assert rep["returncode"] == 1
    check = next(c for c in rep["checks"] if c["name"] == "torchcodec")  # type: ignore[attr-defined]
    assert not check["ok"]
    assert "libnvrtc" in check["error"] and "install it from the plan's index" in check["error"]


# --------------------------------------------------------------------------------------------------
# uv lock over a merged fragment


def detect(tmp_path: Path, name: str, root: str, *overrides: str) -> str:
    r = wizard("detect", "--json", "--root", str(MACHINES / root), *overrides)
    assert r.returncode == 0, r.stderr
    path = tmp_path / f"{name}.json"
    path.write_text(r.stdout)
    return str(path)


ENVIRONMENTS = {
    "linux": {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux"},
    "windows": {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows"},
    "mac": {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"},
}


def test_uv_lock_for_three_machines(tmp_path: Path) -> None:
    torch, vision = "2.13.0", "0.28.0"
    lin, win, mac = (
        "py3-none-manylinux_2_28_x86_64",
        "py3-none-win_amd64",
        "py3-none-macosx_14_0_arm64",
    )
    layout = {
        "whl/cu126": [
            ("torch", f"{torch}+cu126", lin),
            ("torchvision", f"{vision}+cu126", lin),
            ("torchvision", f"{vision}+cu126", win),
            ("torch", f"{torch}+cu126", win),  # a decoy: Windows must not come here
        ],
        "whl/cpu": [
            ("torch", f"{torch}+cpu", win),
            ("torchvision", f"{vision}+cpu", win),
            ("torch", f"{torch}+cpu", lin),  # a decoy: Linux must not come here
            ("torchvision", f"{vision}+cpu", lin),
        ],
        # the default index (PyPI's stand-in): every platform, so a wrong marker lands here
        "pypi": [
            (n, v, tag)
            for tag in (lin, win, mac)
            for n, v in (("torch", torch), ("torchvision", vision))
        ],
    }
    root = projectindex.build(tmp_path / "index", layout)
    profiles = [
        detect(tmp_path, "lab-4090", "rtx4090-driver550"),
        detect(tmp_path, "mac", "macbook-m2"),
        detect(tmp_path, "laptop", "cpu-server", "--os", "windows", "--arch", "x86_64"),
    ]
    project = tmp_path / "demo"
    project.mkdir()
    with serve_directory(root) as url:
        head = (
            '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            f'dependencies = ["torch=={torch}", "torchvision=={vision}"]\n\n'
            f'[[tool.uv.index]]\nname = "local-pypi"\nurl = "{url}/pypi"\ndefault = true\n'
        )
        (project / "pyproject.toml").write_text(head)
        args = ["export", "pyproject", "--index-base", f"{url}/whl", "--torch", torch]
        args += ["--packages", "torch,torchvision", "--write", str(project / "pyproject.toml")]
        for p in profiles:
            args += ["--profile", p]
        r = wizard(*args)
        assert r.returncode == 0, r.stderr
        assert (project / "pyproject.toml").read_text().startswith(head)

        env = torchindex.clean_pip_env(cache=tmp_path / "cache")
        del env["UV_NO_CONFIG"]  # the project's own [tool.uv] is what is being tested
        env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # and no user uv.toml
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"  # nothing but loopback
        env["NO_PROXY"] = "127.0.0.1,localhost"
        lock = subprocess.run(
            [UV, "lock", "--directory", str(project)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert lock.returncode == 0, lock.stderr

    data = tomlkit.parse((project / "uv.lock").read_text()).unwrap()
    demo = next(p for p in data["package"] if p["name"] == "demo")
    expected = {
        "linux": (f"{url}/whl/cu126", "+cu126"),
        "windows": (f"{url}/whl/cpu", "+cpu"),
        "mac": (f"{url}/pypi", ""),
    }
    for package, version in (("torch", torch), ("torchvision", vision)):
        entries = [d for d in demo["dependencies"] if d["name"] == package]
        for where, (registry, label) in expected.items():
            environment = {**ENVIRONMENTS[where], "python_full_version": "3.12.0"}
            hits = [
                d
                for d in entries
                if Marker(d.get("marker", "python_version > '0'")).evaluate(environment)
            ]
            assert len(hits) == 1, (package, where, entries)
            assert hits[0]["source"]["registry"] == registry, (package, where, hits)
            assert hits[0]["version"] == version + label, (package, where, hits)
