"""The planner: recommendation, reasons, exact steps, renderers. Pure functions of Machine + Choices.

Machines are built directly from the model here: the planner's input is the profile, so these
tests state exactly which facts of the machine a decision rests on.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.fs import readonly_dir
from torch_wizard import catalog
from torch_wizard.errors import UsageError
from torch_wizard.machine.model import (
    AMDGPU,
    AMDInfo,
    AppleInfo,
    BoardInfo,
    CPUInfo,
    DiskInfo,
    IntelGPU,
    Machine,
    MemoryInfo,
    NvidiaGPU,
    NvidiaInfo,
    OSInfo,
    PythonInfo,
    Tool,
)
from torch_wizard.plan import Choices, explore, make_plan
from torch_wizard.plan.model import Network, Plan
from torch_wizard.plan.render import command_line, plan_json, render
from torch_wizard.serial import from_json

CAT = catalog.load()
NEWEST = CAT.releases()[0]

LINUX = OSInfo(
    "linux", distro_id="ubuntu", distro_version="24.04", libc="glibc", libc_version="2.39"
)


def machine(**kw: object) -> Machine:
    base: dict[str, object] = dict(
        os=LINUX,
        cpu=CPUInfo("x86_64", machine="x86_64", flags=("avx", "avx2", "fma"), cores_logical=16),
        python=PythonInfo("3.12.3", executable="/usr/bin/python3.12"),
        memory=MemoryInfo(64 * 2**30, 60 * 2**30),
        disk=DiskInfo("/home", 500 * 10**9, 1000 * 10**9),
        source="profile:test",
    )
    base.update(kw)
    return Machine(**base)  # type: ignore[arg-type]


def nvidia(name: str, cc: str, driver: str, count: int = 1, nodes: bool = True) -> NvidiaInfo:
    gpus = tuple(NvidiaGPU(i, name, 24 * 2**30, cc) for i in range(count))
    return NvidiaInfo(driver, "/sys/module/nvidia/version", gpus=gpus, device_nodes=nodes)


CPU_SERVER = machine()
RTX4090 = machine(nvidia=nvidia("NVIDIA GeForce RTX 4090", "8.9", "550.54.14"))
GTX1080 = machine(nvidia=nvidia("NVIDIA GeForce GTX 1080", "6.1", "580.82.07"))
RTX5090 = machine(nvidia=nvidia("NVIDIA GeForce RTX 5090", "12.0", "570.133.07"))
H100X8 = machine(nvidia=nvidia("NVIDIA H100 80GB HBM3", "9.0", "570.86.15", count=8))
GFX1100 = machine(amd=AMDInfo((AMDGPU("Radeon RX 7900 XTX", "gfx1100"),), "6.4.1", "rocminfo"))
ARC = machine(intel=(IntelGPU("Intel Arc A770", "8086:56a0", discrete=True),))
IGPU = machine(intel=(IntelGPU("Intel UHD Graphics 770", "8086:4680", discrete=False),))
MAC = machine(
    os=OSInfo("macos", macos_version="15.1", pretty_name="macOS 15.1"),
    cpu=CPUInfo("arm64", machine="arm64", cores_logical=12),
    apple=AppleInfo(True, "Apple M3 Pro"),
)
WINDOWS = machine(os=OSInfo("windows", pretty_name="Windows 11"))
PI5 = machine(
    cpu=CPUInfo("aarch64", machine="aarch64", flags=("asimd",), cores_logical=4),
    python=PythonInfo("3.11.2", executable="/usr/bin/python3"),
    memory=MemoryInfo(4 * 2**30, 3 * 2**30),
    board=BoardInfo("raspberry-pi", "Raspberry Pi 5 Model B Rev 1.0"),
)
CONTAINER = machine(nvidia=nvidia("NVIDIA A100-SXM4-80GB", "8.0", "550.90.07", nodes=False))
ARGS = Choices(venv="/tmp/never-created-venv")


def variants_of(plan: Plan) -> str:
    return plan.choice.backend


def install_argv(plan: Plan) -> tuple[str, ...]:
    return plan.step("install-torch").argv


# ---------------------------------------------------------------------------------------------
# Recommendation


def test_cpu_only_machine_uses_the_cpu_index_never_bare_pypi() -> None:
    plan = make_plan(CPU_SERVER, ARGS)
    assert plan.choice.backend == "cpu"
    argv = install_argv(plan)
    assert argv[argv.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert "--extra-index-url" not in argv
    assert any("cpu index" in r for r in plan.reasons)


def test_gtx1080_gets_the_newest_cuda_build_that_still_has_sm61() -> None:
    plan = make_plan(GTX1080, ARGS)
    variant = plan.choice.backend
    assert variant.startswith("cu")
    assert CAT.covers_cc(variant, plan.choice.torch, "6.1")
    # every newer CUDA build of that release lacks 6.1, and the reason says so
    release = CAT.release(plan.choice.torch)
    assert release is not None
    newer = [v for v in release.variants("linux-x86_64") if v.startswith("cu")]
    for v in newer[: newer.index(variant)]:
        assert not CAT.covers_cc(v, plan.choice.torch, "6.1")
    assert any("6.1" in r and variant in r for r in plan.reasons)


def test_rtx4090_on_driver_550_cannot_use_cuda13() -> None:
    plan = make_plan(RTX4090, ARGS)
    variant = plan.choice.backend
    assert variant.startswith("cu12")
    assert any("580" in r or "newest build that fits" in r for r in plan.reasons)


def test_blackwell_needs_cu128_or_newer() -> None:
    plan = make_plan(RTX5090, ARGS)
    variant = plan.choice.backend
    assert variant.startswith("cu")
    assert int(variant[2:]) >= 128
    assert CAT.covers_cc(variant, plan.choice.torch, "12.0")


def test_h100_box_reason_counts_gpus() -> None:
    plan = make_plan(H100X8, ARGS)
    assert plan.choice.backend.startswith("cu")
    assert any("8x NVIDIA H100" in r for r in plan.reasons)


def test_driver_too_old_for_everything_falls_back_to_cpu_with_a_warning() -> None:
    old = machine(nvidia=nvidia("Tesla K80", "3.7", "390.157"))
    plan = make_plan(old, ARGS)
    assert plan.choice.backend == "cpu"
    assert any("No GPU build" in w for w in plan.warnings)


def test_container_without_device_nodes_gets_cpu_and_a_warning() -> None:
    plan = make_plan(CONTAINER, ARGS)
    assert plan.choice.backend == "cpu"
    assert any("/dev/nvidia" in w for w in plan.warnings)


def test_amd_gfx1100_gets_a_rocm_build_that_supports_it() -> None:
    plan = make_plan(GFX1100, ARGS)
    assert plan.choice.backend.startswith("rocm")
    assert "gfx1100" in CAT.rocm_gfx(plan.choice.backend)


def test_discrete_intel_gets_xpu_integrated_gets_cpu() -> None:
    assert make_plan(ARC, ARGS).choice.backend == "xpu"
    plan = make_plan(IGPU, ARGS)
    assert plan.choice.backend == "cpu"
    assert any("integrated" in r for r in plan.reasons)


def test_mac_uses_plain_pypi_without_index_url() -> None:
    plan = make_plan(MAC, ARGS)
    assert plan.choice.backend == "pypi"
    assert plan.choice.index_url == ""
    assert "--index-url" not in install_argv(plan)
    assert any("MPS" in r for r in plan.reasons)


def test_raspberry_pi_uses_cpu_index() -> None:
    plan = make_plan(PI5, ARGS)
    assert plan.choice.backend == "cpu"
    assert plan.choice.index_url.endswith("/cpu")
    assert any("Raspberry Pi" in r for r in plan.reasons)


def test_windows_cuda_uses_scripts_python() -> None:
    win = replace(WINDOWS, nvidia=RTX4090.nvidia)
    plan = make_plan(win, Choices(venv="C:\\envs\\torch"))
    assert plan.choice.backend.startswith("cu")
    assert install_argv(plan)[0] == "C:\\envs\\torch\\Scripts\\python.exe"


def test_companions_are_pinned_and_torchaudio_dropped_where_it_does_not_exist() -> None:
    plan = make_plan(CPU_SERVER, ARGS)
    pkgs = plan.choice.packages
    assert pkgs["torch"] == NEWEST.version
    if "torchvision" in NEWEST.companions:
        assert pkgs["torchvision"] == NEWEST.companions["torchvision"]
    if "torchaudio" not in NEWEST.companions:
        assert "torchaudio" not in pkgs
        assert any("torchaudio" in r for r in plan.reasons)
    specs = [a for a in install_argv(plan) if "==" in a]
    assert specs == [f"{n}=={v}" for n, v in pkgs.items()]


def test_explicit_backend_that_misfits_the_gpu_is_kept_with_a_warning() -> None:
    cu13 = next((v for v in NEWEST.variants("linux-x86_64") if v.startswith("cu13")), None)
    if cu13 is None:
        pytest.skip("no CUDA 13 build in the newest release")
    plan = make_plan(GTX1080, replace(ARGS, backend=cu13))
    assert plan.choice.backend == cu13
    assert any("6.1" in w for w in plan.warnings)


def test_nightly_is_unpinned_with_pre() -> None:
    if not CAT.releases("nightly"):
        pytest.skip("no nightly in the catalog")
    plan = make_plan(CPU_SERVER, replace(ARGS, channel="nightly"))
    argv = install_argv(plan)
    assert "--pre" in argv
    assert "torch" in argv
    assert "/nightly/cpu" in plan.choice.index_url


def test_index_base_mirror_is_used_for_every_index() -> None:
    plan = make_plan(CPU_SERVER, replace(ARGS, index_base="https://mirror.example.org/whl/"))
    assert plan.choice.index_url == "https://mirror.example.org/whl/cpu"


def test_uv_plan_uses_uv_for_venv_and_install() -> None:
    m = replace(CPU_SERVER, tools=(Tool("uv", "/usr/local/bin/uv", "0.13.9"),))
    plan = make_plan(m, replace(ARGS, installer="uv"))
    assert plan.steps[0].argv[:2] == ("/usr/local/bin/uv", "venv")
    argv = install_argv(plan)
    # --no-config: no uv.toml or pyproject [tool.uv] of the host can add an index.
    assert argv[:5] == ("/usr/local/bin/uv", "pip", "install", "--no-config", "--python")
    assert plan.steps[0].argv[2:4] == ("--no-config", "--no-python-downloads")
    assert "--index-url" in argv
    assert "upgrade-pip" not in [s.id for s in plan.steps]


def test_pip_plan_shape() -> None:
    plan = make_plan(CPU_SERVER, ARGS)
    assert [s.id for s in plan.steps] == ["create-venv", "upgrade-pip", "install-torch", "verify"]
    argv = install_argv(plan)
    # -I: no PYTHON* variables, user site or cwd on sys.path; --isolated: no PIP_* or user
    # config; PIP_CONFIG_FILE=/dev/null: no global or site config either.
    assert argv[:6] == (
        "/tmp/never-created-venv/bin/python",
        "-I",
        "-m",
        "pip",
        "install",
        "--isolated",
    )
    assert plan.step("install-torch").env == {"PIP_CONFIG_FILE": "/dev/null"}
    assert plan.steps[0].argv == (
        "/usr/bin/python3.12",
        "-I",
        "-m",
        "venv",
        "/tmp/never-created-venv",
    )


def test_upgrade_pip_uses_the_plans_index_and_is_optional() -> None:
    plan = make_plan(CPU_SERVER, replace(ARGS, index_base="https://mirror.example.org/whl"))
    up = plan.step("upgrade-pip")
    assert up.optional
    assert up.argv[up.argv.index("--index-url") + 1] == "https://mirror.example.org/whl/cpu"
    install = plan.step("install-torch")
    # With the seeded pip (no newer one on the mirror) the install runs without raw progress.
    assert "raw" in install.argv and "raw" not in install.fallback
    assert [a for a in install.argv if a not in ("--progress-bar", "raw")] == list(install.fallback)


def test_network_settings_travel_into_every_installer_step() -> None:
    net = Network(
        pip_args=("--cert", "/corp/ca.pem", "--timeout", "90"),
        uv_env={"SSL_CERT_FILE": "/corp/ca.pem"},
        sources=("cert from /etc/pip.conf",),
    )
    pip = make_plan(CPU_SERVER, replace(ARGS, network=net))
    for sid in ("upgrade-pip", "install-torch"):
        argv = pip.step(sid).argv
        assert argv[-4:] == ("--cert", "/corp/ca.pem", "--timeout", "90"), sid
    assert pip.choice.network == net
    assert any("cert from /etc/pip.conf" in r for r in pip.reasons)
    m = replace(CPU_SERVER, tools=(Tool("uv", "/usr/local/bin/uv", "0.13.9"),))
    uv = make_plan(m, replace(ARGS, installer="uv", network=net))
    assert uv.step("install-torch").env == {"SSL_CERT_FILE": "/corp/ca.pem"}
    assert uv.step("create-venv").env == {"SSL_CERT_FILE": "/corp/ca.pem"}


def test_existing_venv_is_reused(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    m = replace(CPU_SERVER, source="host")
    plan = make_plan(m, Choices(venv=str(venv)))
    assert plan.steps[0].id == "upgrade-pip"
    assert any("reused" in r for r in plan.reasons)


def test_python_too_old_for_newest_gets_newest_that_supports_it() -> None:
    supported = {p for r in CAT.releases() for p in r.pythons}
    newest_pythons = set(NEWEST.pythons)
    older_only = sorted(supported - newest_pythons, key=lambda v: tuple(map(int, v.split("."))))
    older_only = [p for p in older_only if not p.endswith("t")]
    if not older_only:
        pytest.skip("every Python with wheels is supported by the newest release")
    minor = older_only[-1]
    m = replace(CPU_SERVER, python=PythonInfo(minor + ".9", executable=f"/usr/bin/python{minor}"))
    plan = make_plan(m, ARGS)
    assert plan.choice.torch != NEWEST.version
    assert any(NEWEST.version in w for w in plan.warnings)


# ---------------------------------------------------------------------------------------------
# Bad input: one clear sentence naming the fix


@pytest.mark.parametrize(
    ("m", "choices", "needle"),
    [
        (CPU_SERVER, Choices(torch="9.9.9"), "unknown torch version '9.9.9'"),
        (CPU_SERVER, Choices(backend="cu101"), "it offers:"),
        (MAC, Choices(backend="cu126"), "CUDA is not available on macOS"),
        (WINDOWS, Choices(backend="rocm6.4"), "ROCm wheels exist only for Linux"),
        (CPU_SERVER, Choices(channel="beta"), "unknown channel 'beta'"),
        (CPU_SERVER, Choices(packages=("torch", "torchtext")), "unknown package 'torchtext'"),
        (CPU_SERVER, Choices(backend="cuda"), "unknown backend"),
        (CPU_SERVER, Choices(index_base="http://mirror.example.org/whl"), "plain http"),
        (CPU_SERVER, Choices(index_base="ftp://mirror.example.org/whl"), "not an http(s)"),
        (
            replace(CPU_SERVER, os=replace(LINUX, libc="musl", distro_id="alpine")),
            Choices(),
            "musl",
        ),
        (
            replace(PI5, cpu=CPUInfo("armv7l", machine="aarch64", pointer_bits=32)),
            Choices(),
            "32-bit",
        ),
        (
            replace(PI5, cpu=CPUInfo("armv7l", machine="armv7l", pointer_bits=32)),
            Choices(),
            "no wheels for 32-bit armv7l",
        ),
        (
            replace(CPU_SERVER, python=PythonInfo("3.6.15", executable="/usr/bin/python3.6")),
            Choices(),
            "Python 3.6",
        ),
    ],
)
def test_bad_input_is_one_clear_sentence(m: Machine, choices: Choices, needle: str) -> None:
    with pytest.raises(UsageError) as err:
        make_plan(m, replace(choices, venv="/tmp/never-created-venv"))
    message = str(err.value)
    assert needle in message
    assert "\n" not in message


def test_loopback_http_index_is_allowed() -> None:
    plan = make_plan(CPU_SERVER, replace(ARGS, index_base="http://127.0.0.1:8080/whl"))
    assert plan.choice.index_url == "http://127.0.0.1:8080/whl/cpu"
    plan = make_plan(
        CPU_SERVER,
        replace(ARGS, index_base="http://mirror.lab/whl", allow_insecure_index=True),
    )
    assert plan.choice.index_url == "http://mirror.lab/whl/cpu"


def test_python_unsupported_by_chosen_torch_names_the_newest_that_does() -> None:
    oldest = CAT.releases()[-1]
    newest_py = max(NEWEST.pythons, key=lambda v: tuple(int(x) for x in v.rstrip("t").split(".")))
    if newest_py in oldest.pythons:
        pytest.skip("the oldest release supports the newest Python")
    m = replace(CPU_SERVER, python=PythonInfo(newest_py + ".0", executable="/usr/bin/python3"))
    with pytest.raises(UsageError) as err:
        make_plan(m, replace(ARGS, torch=oldest.version))
    assert f"Python {newest_py}" in str(err.value)
    assert "newest torch that supports" in str(err.value)


def test_torchaudio_asked_for_where_it_does_not_exist() -> None:
    # Stable torch 2.12+ pairs with torchaudio 2.11.1; the release candidate on /whl/test has no
    # torchaudio paired in the catalog.
    test_rc = catalog.load().releases("test")[0]
    assert "torchaudio" not in test_rc.companions
    with pytest.raises(UsageError, match="no torchaudio release paired with torch"):
        make_plan(CPU_SERVER, replace(ARGS, channel="test", packages=("torch", "torchaudio")))


def test_venv_path_problems(tmp_path: Path) -> None:
    host = replace(CPU_SERVER, source="host")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        make_plan(host, Choices(venv=str(a_file)))
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match="not a virtual environment"):
        make_plan(host, Choices(venv=str(full)))
    with readonly_dir(tmp_path) as locked, pytest.raises(UsageError, match="not writable"):
        make_plan(host, Choices(venv=str(locked / "env")))


# ---------------------------------------------------------------------------------------------
# Rendering: what the preview shows is what runs


@pytest.mark.parametrize("m", [CPU_SERVER, GTX1080, MAC, GFX1100])
def test_rendered_lines_split_back_into_the_argv(m: Machine) -> None:
    plan = make_plan(m, ARGS)
    for step in plan.steps:
        line = command_line(step)
        if step.cwd:  # (cd DIR && COMMAND)
            prefix = f"(cd {shlex.quote(step.cwd)} && "
            assert line.startswith(prefix) and line.endswith(")")
            line = line[len(prefix) : -1]
        tokens = shlex.split(line)
        env = [t for t in tokens[: len(step.env)]]
        assert env == [f"{k}={v}" for k, v in step.env.items()]
        assert tuple(tokens[len(step.env) :]) == step.argv


def test_sh_script_is_valid_posix_sh_with_strict_mode() -> None:
    plan = make_plan(GTX1080, ARGS)
    script = render(plan, "sh")
    assert script.startswith("#!/bin/sh\n") and "\nset -eu\n" in script
    assert "pipefail" not in script  # not POSIX: dash refuses it
    for shell in ("dash", "bash"):
        check = subprocess.run([shell, "-n"], input=script, text=True, capture_output=True)
        assert check.returncode == 0, (shell, check.stderr)
    for step in plan.steps:
        if step.optional:
            assert f"\n{command_line(step)} || tw_optional_failed=1\n" in script
        elif step.fallback:
            assert f"\n  {command_line(step)}\nelse\n" in script
        else:
            assert f"\n{command_line(step)}\n" in script


def test_ps1_quotes_every_argument() -> None:
    plan = make_plan(replace(WINDOWS, nvidia=RTX4090.nvidia), Choices(venv="C:\\it's\\env"))
    script = render(plan, "ps1")
    assert "'C:\\it''s\\env\\Scripts\\python.exe'" in script
    assert "$LASTEXITCODE" in script


def test_json_plan_follows_the_contract_and_round_trips() -> None:
    plan = make_plan(RTX4090, ARGS)
    data = json.loads(render(plan, "json"))
    assert data["schema_version"] == 1
    assert set(data["choice"]) >= {
        "channel",
        "backend",
        "torch",
        "packages",
        "build",
        "installer",
        "venv",
        "index_url",
    }
    assert isinstance(data["choice"]["packages"], dict)
    ids = [s["id"] for s in data["steps"]]
    assert "install-torch" in ids
    for s in data["steps"]:
        assert set(s) >= {"id", "title", "argv", "env", "cwd"}
    install = data["steps"][ids.index("install-torch")]["argv"]
    assert install[1:7] == [
        "-I",
        "-m",
        "pip",
        "install",
        "--isolated",
        "--disable-pip-version-check",
    ]
    assert install[7 : 7 + len(plan.choice.packages)] == [
        f"{n}=={v}" for n, v in plan.choice.packages.items()
    ]
    assert install[install.index("--index-url") + 1] == plan.choice.index_url
    assert from_json(Plan, data) == plan
    assert plan_json(plan)["target"] == data["target"]


# ---------------------------------------------------------------------------------------------
# explore(): what the UI offers


def test_explore_marks_the_recommended_backend_and_disables_misfits() -> None:
    opts = explore(GTX1080, ARGS)
    assert opts.resolved is not None
    rec = [o for o in opts.backends if o.recommended]
    assert [o.value for o in rec] == [opts.resolved.backend]
    for o in opts.backends:
        if o.value.startswith("cu") and not CAT.covers_cc(o.value, opts.resolved.torch, "6.1"):
            assert not o.available
            assert "6.1" in o.why
    cpu = next(o for o in opts.backends if o.value == "cpu")
    assert cpu.available


def test_explore_adjusts_an_impossible_choice_and_says_why() -> None:
    opts = explore(MAC, replace(ARGS, backend="cu126"))
    assert opts.resolved is not None
    assert opts.resolved.backend == "pypi"
    assert opts.adjusted and "cu126" in opts.adjusted[0]


def test_explore_reports_blockers_as_error_not_exception() -> None:
    musl = replace(CPU_SERVER, os=replace(LINUX, libc="musl"))
    opts = explore(musl, ARGS)
    assert opts.resolved is None
    assert "musl" in opts.error


def test_explore_versions_newest_first_with_unavailable_marked() -> None:
    opts = explore(CPU_SERVER, ARGS)
    versions = [o.value for o in opts.versions]
    assert versions[0] == NEWEST.version
    assert next(o for o in opts.versions if o.recommended).value == NEWEST.version


# ---------------------------------------------------------------------------------------------
# Source builds through the planner


def test_source_plan_picks_a_release_that_builds_for_this_python() -> None:
    newest_req = NEWEST.requires_python
    m = replace(
        RTX4090,
        python=PythonInfo("3.10.12", executable="/usr/bin/python3.10"),
        tools=(Tool("nvcc", "/usr/local/cuda/bin/nvcc", "12.6.85"),),
    )
    plan = make_plan(m, replace(ARGS, build="source"))
    if newest_req and "3.11" in newest_req:
        assert plan.choice.torch != NEWEST.version
        assert any("builds for Python 3.10" in r for r in plan.reasons)
    assert plan.choice.backend == "cu126"
    assert plan.choice.build == "source"


def test_source_plan_without_compiler_has_blockers_in_every_format() -> None:
    plan = make_plan(CPU_SERVER, replace(ARGS, build="source"))
    assert any("compiler" in b for b in plan.blockers)
    assert "Blockers" in render(plan, "text")
    assert json.loads(render(plan, "json"))["blockers"] == list(plan.blockers)


def test_arm64_server_gpu_checks_the_aarch64_arch_lists() -> None:
    gh200 = machine(
        cpu=CPUInfo("aarch64", machine="aarch64", flags=("asimd", "sve"), cores_logical=72),
        nvidia=nvidia("NVIDIA GH200 480GB", "9.0", "580.82.07"),
    )
    plan = make_plan(gh200, ARGS)
    variant = plan.choice.backend
    assert variant.startswith("cu")
    assert CAT.covers_cc(variant, plan.choice.torch, "9.0", "linux-aarch64")
    assert variant in CAT.release(plan.choice.torch).variants("linux-aarch64")  # type: ignore[union-attr]
