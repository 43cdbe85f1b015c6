"""Source plans for machines we do not have: golden build environments and MAX_JOBS, the cmake
command derived from the same options, refs per channel, and the facts file's consistency."""

from __future__ import annotations

import shlex

import pytest
from packaging.version import Version

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import (
    AMDGPU,
    AMDInfo,
    BoardInfo,
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
from torch_wizard.plan.model import Choices, Resolved, SourceOptions
from torch_wizard.plan.source import ENV_ONLY, cmake_argv, load_facts, source_plan

G = 10**9
TOOLS = (
    Tool("git", "/usr/bin/git", "2.43.0"),
    Tool("g++", "/usr/bin/g++", "13.2.0"),
    Tool("cmake", "/usr/bin/cmake", "3.28.3"),
    Tool("ninja", "/usr/bin/ninja", "1.11.1"),
)


def mk(**kw: object) -> Machine:
    base: dict[str, object] = {
        "os": OSInfo("linux", distro_id="ubuntu", distro_like=("debian",), libc="glibc"),
        "cpu": CPUInfo("x86_64", cores_logical=8),
        "python": PythonInfo("3.12.3", has_headers=True),
        "memory": MemoryInfo(32 * G, 23 * G),
        "disk": DiskInfo("/home", free=200 * G),
        "tools": TOOLS,
        "source": "profile:test.json",
    }
    base.update(kw)
    return Machine(**base)  # type: ignore[arg-type]


CPU_SERVER = mk(cpu=CPUInfo("x86_64", cores_logical=64), memory=MemoryInfo(256 * G, 240 * G))
RTX4090 = mk(
    cpu=CPUInfo("x86_64", cores_logical=32),
    memory=MemoryInfo(64 * G, 50 * G),
    nvidia=NvidiaInfo(
        "550.54.14",
        gpus=(NvidiaGPU(0, "NVIDIA GeForce RTX 4090", compute_capability="8.9"),),
        device_nodes=True,
    ),
    tools=(
        *TOOLS,
        Tool("nvcc", "/usr/local/cuda-12.6/bin/nvcc", "12.6.85"),
        Tool("ccache", "/usr/bin/ccache", "4.9.1"),
    ),
)
JETSON = mk(
    cpu=CPUInfo("aarch64", cores_logical=12),
    python=PythonInfo("3.10.12", has_headers=True),
    memory=MemoryInfo(64 * G, 58 * G),
    board=BoardInfo("jetson", "NVIDIA Jetson AGX Orin Developer Kit", "36.4.3", "6.2"),
    tools=(*TOOLS, Tool("nvcc", "/usr/local/cuda/bin/nvcc", "12.6.68")),
)
AMD = mk(
    cpu=CPUInfo("x86_64", cores_logical=24),
    memory=MemoryInfo(64 * G, 60 * G),
    amd=AMDInfo(gpus=(AMDGPU("Radeon RX 7900 XTX", "gfx1100"),), rocm_version="6.4.1"),
    tools=(*TOOLS, Tool("hipcc", "/opt/rocm/bin/hipcc", "6.4.43483")),
)
PI = mk(
    os=OSInfo("linux", distro_id="debian", libc="glibc"),
    cpu=CPUInfo("aarch64", cores_logical=4),
    python=PythonInfo("3.11.2", has_headers=True),
    memory=MemoryInfo(4 * G, int(3.3 * G)),
    board=BoardInfo("raspberry-pi", "Raspberry Pi 5 Model B Rev 1.0"),
)


def res(
    backend: str, torch: str = "2.15.0", channel: str = "stable", venv: str = "/w/.venv"
) -> Resolved:
    return Resolved(channel, backend, torch, {"torch": torch}, "source", "pip", venv, "")  # type: ignore[arg-type]


def plan(m: Machine, backend: str, **opts: object) -> object:
    torch = str(opts.pop("torch", "2.15.0"))
    channel = str(opts.pop("channel", "stable"))
    return source_plan(
        m,
        Choices(build="source", source=SourceOptions(**opts)),
        res(backend, torch, channel),
        "/w/.venv/bin/python",
        None,
    )  # type: ignore[arg-type]


def env_of(sp: object) -> dict[str, str]:
    return {k: v for k, v in sp.env.items() if k != "PATH"}  # type: ignore[attr-defined]


GOLDEN = {
    "cpu-server": (
        CPU_SERVER,
        "cpu",
        {
            "USE_CUDA": "0",
            "USE_ROCM": "0",
            "USE_XPU": "0",
            "BUILD_TEST": "0",
            "MAX_JOBS": "64",
            "CMAKE_PREFIX_PATH": "/w/.venv",
        },
    ),
    "rtx4090": (
        RTX4090,
        "cu126",
        {
            "USE_CUDA": "1",
            "USE_ROCM": "0",
            "USE_XPU": "0",
            "BUILD_TEST": "0",
            "TORCH_CUDA_ARCH_LIST": "8.9",
            "CUDA_HOME": "/usr/local/cuda-12.6",
            "CMAKE_C_COMPILER_LAUNCHER": "ccache",
            "CMAKE_CXX_COMPILER_LAUNCHER": "ccache",
            "CMAKE_CUDA_COMPILER_LAUNCHER": "ccache",
            "MAX_JOBS": "11",  # 50 GB / 4.5 GB
            "CMAKE_PREFIX_PATH": "/w/.venv",
        },
    ),
    "jetson-orin": (
        JETSON,
        "cu126",
        {
            "USE_CUDA": "1",
            "USE_ROCM": "0",
            "USE_XPU": "0",
            "BUILD_TEST": "0",
            "TORCH_CUDA_ARCH_LIST": "8.7",
            "USE_NCCL": "0",
            "CUDA_HOME": "/usr/local/cuda",
            "MAX_JOBS": "12",  # 58 GB / 4.5 GB = 12, 12 cores
            "CMAKE_PREFIX_PATH": "/w/.venv",
        },
    ),
    "amd-gfx1100": (
        AMD,
        "rocm6.4",
        {
            "USE_CUDA": "0",
            "USE_ROCM": "1",
            "USE_XPU": "0",
            "BUILD_TEST": "0",
            "PYTORCH_ROCM_ARCH": "gfx1100",
            "MAX_JOBS": "13",  # 60 GB / 4.5 GB
            "CMAKE_PREFIX_PATH": "/w/.venv",
        },
    ),
    "raspberry-pi-4gb": (
        PI,
        "cpu",
        {
            "USE_CUDA": "0",
            "USE_ROCM": "0",
            "USE_XPU": "0",
            "BUILD_TEST": "0",
            "MAX_JOBS": "1",
            "CMAKE_PREFIX_PATH": "/w/.venv",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_environment(name: str) -> None:
    m, backend, expected = GOLDEN[name]
    sp = plan(m, backend)
    assert env_of(sp) == expected
    build = sp.steps[-1]  # type: ignore[attr-defined]
    assert build.id == "build" and build.progress == "ninja" and build.cwd == "/w/pytorch-src"
    assert build.argv == (
        "/w/.venv/bin/python",
        "-I",
        "-m",
        "pip",
        "install",
        "--isolated",
        "--disable-pip-version-check",
        "--no-build-isolation",
        "-v",
        ".",
    )
    # The build options, plus pip's isolation from the host's config files.
    assert build.env == {**sp.env, "PIP_CONFIG_FILE": "/dev/null"}  # type: ignore[attr-defined]
    assert sp.env["PATH"].split(":")[0] == "/w/.venv/bin"  # type: ignore[attr-defined]
    assert any(r.startswith(f"MAX_JOBS={expected['MAX_JOBS']}:") for r in sp.reasons)  # type: ignore[attr-defined]


def test_max_jobs_reasons_name_the_limit() -> None:
    cpu = plan(mk(), "cpu")
    assert (
        "MAX_JOBS=8: 23 GB RAM free at ~2 GB per CPU compile job, capped by 8 cores." in cpu.reasons
    )  # type: ignore[attr-defined]
    ram_bound = plan(RTX4090, "cu126")
    assert any(
        "MAX_JOBS=11: 50 GB RAM free at ~4.5 GB per CUDA compile job, fewer than the 32 cores" in r
        for r in ram_bound.reasons
    )  # type: ignore[attr-defined]
    big = plan(CPU_SERVER, "cpu")
    assert any("PyTorch's own CI uses at most 12" in r for r in big.reasons)  # type: ignore[attr-defined]
    mine = plan(PI, "cpu", max_jobs=4)
    assert env_of(mine)["MAX_JOBS"] == "4"
    assert any("MAX_JOBS=4 may need about 8 GB" in w for w in mine.warnings)  # type: ignore[attr-defined]
    unknown = plan(mk(memory=MemoryInfo()), "cpu")
    assert env_of(unknown)["MAX_JOBS"] == "4"


def test_pi_pipeline_and_tiny_memory_warning() -> None:
    tiny = plan(
        mk(memory=MemoryInfo(2 * G, int(1.5 * G)), cpu=CPUInfo("aarch64", cores_logical=4)), "cpu"
    )
    assert env_of(tiny)["MAX_JOBS"] == "1"
    assert any("add swap" in w for w in tiny.warnings)  # type: ignore[attr-defined]


def test_several_gpus_sorted_and_deduplicated() -> None:
    m = mk(
        nvidia=NvidiaInfo(
            "550.1",
            gpus=(
                NvidiaGPU(0, "RTX 4090", compute_capability="8.9"),
                NvidiaGPU(1, "RTX 3090", compute_capability="8.6"),
                NvidiaGPU(2, "RTX 3090", compute_capability="8.6"),
                NvidiaGPU(3, "V100", compute_capability="7.0"),
            ),
        )
    )
    assert env_of(plan(m, "cu128"))["TORCH_CUDA_ARCH_LIST"] == "7.0;8.6;8.9"
    assert (
        env_of(plan(m, "cu128", cuda_arch_list="9.0a 8.6+PTX"))["TORCH_CUDA_ARCH_LIST"]
        == "9.0a;8.6+PTX"
    )
    with pytest.raises(UsageError, match="invalid CUDA arch list"):
        plan(m, "cu128", cuda_arch_list="sm_86")


def test_cuda_without_a_known_gpu_warns() -> None:
    sp = plan(mk(), "cuda")
    assert "TORCH_CUDA_ARCH_LIST" not in sp.env  # type: ignore[attr-defined]
    assert any("every architecture" in w for w in sp.warnings)  # type: ignore[attr-defined]


def test_lean_profile_keeps_arm_kernels() -> None:
    x86 = env_of(plan(mk(), "cpu", profile="lean"))
    for name in (
        "USE_DISTRIBUTED",
        "BUILD_TEST",
        "USE_FBGEMM",
        "USE_KINETO",
        "USE_MKLDNN",
        "USE_XNNPACK",
        "USE_NNPACK",
    ):
        assert x86[name] == "0", name
    arm = env_of(plan(PI, "cpu", profile="lean"))
    assert arm["USE_DISTRIBUTED"] == "0" and "USE_XNNPACK" not in arm and "USE_NNPACK" not in arm
    gpu = env_of(plan(RTX4090, "cu126", profile="lean"))
    assert gpu["USE_NCCL"] == "0" and gpu["USE_FLASH_ATTENTION"] == "0"


def test_debug_profiles_and_configure_only_agree() -> None:
    debug = plan(mk(), "cpu", profile="debug", configure_only=True)
    assert env_of(debug)["DEBUG"] == "1"
    assert debug.steps[-1].id == "configure" and debug.steps[-1].argv == debug.cmake_argv  # type: ignore[attr-defined]
    assert "-DCMAKE_BUILD_TYPE=Debug" in debug.cmake_argv  # type: ignore[attr-defined]
    assert not any(s.id == "build" for s in debug.steps)  # type: ignore[attr-defined]
    rel = plan(mk(), "cpu", profile="relwithdebinfo")
    assert env_of(rel)["REL_WITH_DEB_INFO"] == "1"
    assert "-DCMAKE_BUILD_TYPE=RelWithDebInfo" in rel.cmake_argv  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_cmake_argv_is_the_env_as_defines(name: str) -> None:
    m, backend, _ = GOLDEN[name]
    sp = plan(m, backend)
    argv = sp.cmake_argv  # type: ignore[attr-defined]
    assert argv[:7] == ("cmake", "-S", ".", "-B", "build", "-G", "Ninja")
    assert argv[-1] == "-DPython_EXECUTABLE=/w/.venv/bin/python"
    defines = dict(a[2:].split("=", 1) for a in argv[7:-1])
    env = env_of(sp)
    for key, value in env.items():
        if key in ENV_ONLY:
            assert key not in defines
            continue
        expected = (
            {"0": "OFF", "1": "ON"}.get(value, value)
            if key.startswith(("USE_", "BUILD_"))
            else value
        )
        assert defines.pop(key) == expected
    assert defines == {"CMAKE_BUILD_TYPE": "Release"}
    assert cmake_argv({**env}, "/w/.venv/bin/python") == argv


def test_steps_per_backend_and_version() -> None:
    amd = plan(AMD, "rocm6.4")
    ids = [s.id for s in amd.steps]  # type: ignore[attr-defined]
    assert ids == [
        "clone",
        "submodule-sync",
        "submodules",
        "upgrade-pip",
        "requirements",
        "hipify",
        "build",
    ]
    assert amd.steps[5].argv == ("/w/.venv/bin/python", "tools/amd_build/build_amd.py")  # type: ignore[attr-defined]
    old = plan(mk(), "cpu", torch="2.8.0")
    req = old.steps[3]  # type: ignore[attr-defined]
    assert req.id == "requirements" and req.argv[-2:] == ("-r", "requirements.txt")
    new = plan(mk(), "cpu", torch="2.9.0")
    assert [s.argv[-2:] for s in new.steps if s.id == "requirements"] == [("--group", "dev")]  # type: ignore[attr-defined]
    dev = plan(mk(), "cpu", develop=True)
    assert dev.steps[-1].argv[-2:] == ("-e", ".")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("channel", "torch", "ref", "expected_branch"),
    [
        ("stable", "2.15.0", "", "v2.15.0"),
        ("nightly", "main", "", "main"),
        ("test", "2.16.0", "", "release/2.16"),
        ("stable", "2.15.0", "my-branch", "my-branch"),
    ],
)
def test_clone_ref(channel: str, torch: str, ref: str, expected_branch: str) -> None:
    sp = plan(
        mk(), "cpu", torch=torch, channel=channel, ref=ref, url="https://mirror.example/pytorch.git"
    )
    clone = sp.steps[0]  # type: ignore[attr-defined]
    assert clone.argv == (
        "git", "clone", "--branch", expected_branch, "--depth", "1", "--recurse-submodules",
        "--shallow-submodules", "https://mirror.example/pytorch.git", "/w/pytorch-src",
    )  # fmt: skip


def test_commit_ref_clones_then_checks_out() -> None:
    sp = plan(mk(), "cpu", ref="0123abcd")
    assert [s.id for s in sp.steps[:2]] == ["clone", "checkout"]  # type: ignore[attr-defined]
    assert sp.steps[1].argv[-1] == "0123abcd"  # type: ignore[attr-defined]


def test_plan_text_is_copyable() -> None:
    sp = plan(JETSON, "cu126")
    for step in sp.steps:  # type: ignore[attr-defined]
        assert shlex.split(shlex.join(step.argv)) == list(step.argv)
    assert sp.estimate.disk >= 10 * G  # type: ignore[attr-defined]
    assert sp.estimate.minutes > 0  # type: ignore[attr-defined]


def test_facts_variables_are_recognised_and_sourced() -> None:
    facts = load_facts()
    data = facts.data
    for name, var in data["variables"].items():
        assert var["source"], name
        for key in var["source"]:
            assert key in data["sources"], (name, key)
    assert not facts.recognises("BUILD_LITE_INTERPRETER", Version("2.15"))
    assert facts.build_system(Version("2.13.0")) == "setup.py"
    assert facts.build_system(Version("2.14.0")) == "scikit-build-core"
    assert facts.toolchain(Version("2.11.0")).gcc == "9.3"
    assert facts.toolchain(Version("2.15.0")).cxx == "20"
    assert facts.cmake_min(Version("2.15.0"))[0] == "3.27"
    for table in ("build_systems", "requirements", "toolchain", "cmake", "python"):
        for row in data[table]:
            assert row["source"] in data["sources"], (table, row)


@pytest.mark.parametrize("name", sorted(GOLDEN))
@pytest.mark.parametrize("profile", ["release", "lean", "debug", "relwithdebinfo"])
def test_only_recognised_variables(name: str, profile: str) -> None:
    facts = load_facts()
    m, backend, _ = GOLDEN[name]
    for torch in ("2.8.0", "2.13.0", "2.15.0", "main"):
        sp = plan(
            m,
            backend,
            torch=torch,
            profile=profile,
            channel="nightly" if torch == "main" else "stable",
        )
        v = Version("999") if torch == "main" else Version(torch)
        for key in env_of(sp):
            assert facts.recognises(key, v), (key, torch)


def test_build_path_puts_the_venv_then_cuda_first() -> None:
    path = plan(JETSON, "cu126").env["PATH"].split(":")  # type: ignore[attr-defined]
    assert path[:2] == ["/w/.venv/bin", "/usr/local/cuda/bin"]
    assert "/usr/bin" in path  # a profile machine gets a standard PATH, not this host's
