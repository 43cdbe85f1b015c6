"""A real run of a source plan: clone a local git repo with a submodule, install its requirements,
build it with the planned environment through the real runner, and a real CMake configure-only.

The repo is tests/fixtures/source/minitorch (a tiny CMake project whose in-tree PEP 517 backend
records the environment it got, then configures and builds with PyTorch's forwarding rule).
Nothing touches the network: the requirements are already satisfied in the venv and PIP_NO_INDEX
is set, so a step that tried to download would fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from torch_wizard.machine.model import (
    CPUInfo,
    DiskInfo,
    Machine,
    MemoryInfo,
    NvidiaGPU,
    NvidiaInfo,
    OSInfo,
    PythonInfo,
    Tool,
)
from torch_wizard.plan.model import Choices, Plan, Resolved, SourceOptions
from torch_wizard.plan.source import source_plan
from torch_wizard.run.events import Event, Progress, StepFinished
from torch_wizard.run.runner import run_sync

FIXTURE = Path(__file__).parent / "fixtures" / "source"
GIT_ENV = {
    # git >= 2.38.1 refuses file:// submodules unless allowed; the fixture's submodule is local.
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "protocol.file.allow",
    "GIT_CONFIG_VALUE_0": "always",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("git", "cmake", "ninja", "cc")),
    reason="needs git, cmake, ninja and a C compiler",
)


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def make_repo(tmp: Path) -> Path:
    """tmp/sub.git (the submodule) and tmp/origin (the main repo) with tags v2.15.0 and v2.8.0."""
    sub = tmp / "sub"
    shutil.copytree(FIXTURE / "subproj", sub)
    _git("init", "-q", "-b", "main", cwd=sub)
    _git("add", ".", cwd=sub)
    _git("commit", "-q", "-m", "sub", cwd=sub)
    origin = tmp / "origin"
    shutil.copytree(FIXTURE / "minitorch", origin)
    _git("init", "-q", "-b", "main", cwd=origin)
    _git("submodule", "add", "-q", str(sub), "third_party/sub", cwd=origin)
    _git("add", ".", cwd=origin)
    _git("commit", "-q", "-m", "minitorch", cwd=origin)
    _git("tag", "v2.15.0", cwd=origin)
    _git("tag", "v2.8.0", cwd=origin)
    return origin


def make_venv(tmp: Path) -> Path:
    pytest.importorskip("virtualenv")  # seeds a pip >= 25.1 in about a second, offline
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", str(venv)], check=True)
    return venv


def machine() -> Machine:
    return Machine(
        os=OSInfo("linux", distro_id="debian", libc="glibc"),
        cpu=CPUInfo("x86_64", cores_logical=16),
        python=PythonInfo(f"{sys.version_info.major}.{sys.version_info.minor}.0", has_headers=True),
        memory=MemoryInfo(total=32 * 10**9, available=20 * 10**9),
        disk=DiskInfo("/", free=500 * 10**9),
        nvidia=NvidiaInfo(
            driver_version="550.54.14",
            gpus=(
                NvidiaGPU(0, "NVIDIA GeForce RTX 4090", compute_capability="8.9"),
                NvidiaGPU(1, "NVIDIA GeForce RTX 3090", compute_capability="8.6"),
            ),
            device_nodes=True,
        ),
        tools=(Tool("git", "/usr/bin/git", "2.39.5"), Tool("g++", "/usr/bin/g++", "12.2.0")),
    )


def resolved(venv: Path, backend: str = "cu126", torch: str = "2.15.0") -> Resolved:
    return Resolved("stable", backend, torch, {"torch": torch}, "source", "pip", str(venv), "")


def run_plan(m: Machine, r: Resolved, steps: tuple, tmp: Path) -> tuple[list[Event], int]:  # type: ignore[type-arg]
    events: list[Event] = []
    base = {
        **os.environ,
        **GIT_ENV,
        "PIP_NO_INDEX": "1",
        "MINITORCH_RECORD": str(tmp / "record.json"),
    }
    base.pop("PIP_FIND_LINKS", None)
    done = run_sync(
        Plan(target=m, choice=r, steps=steps),
        events.append,
        log_path=tmp / "run.log",
        env=base,
        preflight=False,
        write_receipt=False,
    )
    return events, done.returncode if done.outcome != "ok" else 0


def test_build_plan_runs_for_real(tmp_path: Path) -> None:
    origin = make_repo(tmp_path)
    venv = make_venv(tmp_path)
    checkout = tmp_path / "src"
    m = machine()
    r = resolved(venv)
    choices = Choices(build="source", source=SourceOptions(url=str(origin), checkout=str(checkout)))
    sp = source_plan(m, choices, r, str(venv / "bin" / "python"), None)
    assert [s.id for s in sp.steps] == [
        "clone",
        "submodule-sync",
        "submodules",
        "upgrade-pip",
        "requirements",
        "build",
    ]

    events, rc = run_plan(m, r, sp.steps, tmp_path)
    log = (tmp_path / "run.log").read_text(errors="replace")
    assert rc == 0, log[-3000:]
    assert (checkout / "third_party" / "sub" / "sub.c").is_file()  # submodule checked out
    record = json.loads((tmp_path / "record.json").read_text())
    env = record["env"]
    # 20 GB free at ~4.5 GB per CUDA job = 4 jobs (16 cores would run out of memory).
    assert env["MAX_JOBS"] == "4"
    assert record["build_argv"][-2:] == ["-j", "4"]
    assert env["TORCH_CUDA_ARCH_LIST"] == "8.6;8.9"
    assert env["USE_CUDA"] == "1" and env["USE_ROCM"] == "0" and env["USE_XPU"] == "0"
    assert env["BUILD_TEST"] == "0"
    assert env["CMAKE_PREFIX_PATH"] == str(venv)
    assert record["path_first"] == str(venv / "bin")
    assert Path(record["python"]).parent == venv / "bin"
    assert Path(record["cwd"]).resolve() == checkout.resolve()
    # The CMake project really got the forwarded options.
    options = (checkout / "build" / "options.txt").read_text()
    assert "USE_CUDA=1" in options and "BUILD_TEST=0" in options
    # The runner read ninja's [N/M] progress from the build step.
    build_index = len(sp.steps) - 1
    progress = [e for e in events if isinstance(e, Progress) and e.index == build_index]
    assert progress and progress[-1].total >= 3 and progress[-1].done == progress[-1].total
    assert all(e.returncode == 0 for e in events if isinstance(e, StepFinished))
    # The package was installed into the venv.
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import minitorch; print(minitorch.answer)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "42"


def test_existing_checkout_is_fetched_and_requirements_txt_for_old_versions(tmp_path: Path) -> None:
    origin = make_repo(tmp_path)
    venv = make_venv(tmp_path)
    checkout = tmp_path / "src"
    _git(
        "clone", "-q", str(origin), str(checkout), cwd=tmp_path
    )  # an existing checkout, no submodules yet
    m = machine()
    r = resolved(venv, backend="cpu", torch="2.8.0")
    choices = Choices(
        build="source",
        source=SourceOptions(url=str(origin), checkout=str(checkout), profile="lean", develop=True),
    )
    sp = source_plan(m, choices, r, str(venv / "bin" / "python"), None)
    assert [s.id for s in sp.steps] == [
        "fetch",
        "checkout",
        "submodule-sync",
        "submodules",
        "requirements",
        "build",
    ]
    requirements = next(s for s in sp.steps if s.id == "requirements")
    assert requirements.argv[-2:] == ("-r", "requirements.txt")
    assert next(s for s in sp.steps if s.id == "build").argv[-2:] == ("-e", ".")

    _events, rc = run_plan(m, r, sp.steps, tmp_path)
    assert rc == 0, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
    env = json.loads((tmp_path / "record.json").read_text())["env"]
    assert env["USE_CUDA"] == "0" and env["USE_DISTRIBUTED"] == "0" and env["USE_MKLDNN"] == "0"
    assert env["MAX_JOBS"] == "10"  # 20 GB at ~2 GB per CPU job, under 16 cores
    assert "TORCH_CUDA_ARCH_LIST" not in env


def test_configure_only_runs_real_cmake_with_the_same_options(tmp_path: Path) -> None:
    origin = make_repo(tmp_path)
    venv = make_venv(tmp_path)
    checkout = tmp_path / "src"
    m = machine()
    r = resolved(venv, backend="cpu")
    choices = Choices(
        build="source",
        source=SourceOptions(
            url=str(origin), checkout=str(checkout), profile="debug", configure_only=True
        ),
    )
    sp = source_plan(m, choices, r, str(venv / "bin" / "python"), None)
    assert sp.steps[-1].id == "configure"
    assert sp.steps[-1].argv == sp.cmake_argv
    _events, rc = run_plan(m, r, sp.steps, tmp_path)
    assert rc == 0, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
    cache = (checkout / "build" / "CMakeCache.txt").read_text()
    for line in (
        "USE_CUDA:BOOL=OFF",
        "USE_ROCM:BOOL=OFF",
        "USE_XPU:BOOL=OFF",
        "BUILD_TEST:BOOL=OFF",
        "CMAKE_BUILD_TYPE:STRING=Debug",
    ):
        assert line in cache, line
    assert f"CMAKE_PREFIX_PATH:UNINITIALIZED={venv}" in cache
    assert not (checkout / "build" / "hello").exists()  # configured, not compiled
    assert not (tmp_path / "record.json").exists()  # pip never ran the build backend
