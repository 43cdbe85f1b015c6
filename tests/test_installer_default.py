"""The default installer and the download cache, as planned (real CLI runs; no install here, the
real uv runs are in tests/test_uv_warm_e2e.py).

- ``auto`` is uv wherever the target has one: this host always (the uv package ships the binary),
  even with no uv on PATH; a fixture root or a profile without uv, another platform, or a source
  build get pip with the reason.
- ``--cache-dir`` reaches every installer step (uv: UV_CACHE_DIR; pip: --cache-dir) in place of
  the host's cache settings; ``--no-cache`` turns it off; bad values exit 2 and write nothing.
- Free disk that holds the install but not the cache: the plan keeps none and says so; a saved
  plan that keeps one is refused by pre-flight when the room has gone since.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.fs import tmpfs
from tests.support.torchindex import clean_pip_env
from torch_wizard.plan.cache import Where, cached_network, fit
from torch_wizard.plan.model import Network
from torch_wizard.run.preflight import cache_problem

REPO = Path(__file__).resolve().parent.parent
PY = str(REPO / ".venv" / "bin" / "python")
UV_PACKAGE_BIN = REPO / ".venv" / "bin" / "uv"
CPU_SERVER = REPO / "tests" / "fixtures" / "machines" / "cpu-server"
GB = 1_000_000_000


def env_for(tmp_path: Path) -> dict[str, str]:
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin"])  # no uv on PATH
    return env


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        cwd=tmp_path,
        check=False,
    )


def plan(tmp_path: Path, *args: str) -> dict[str, Any]:
    r = cli(tmp_path, "plan", "--format", "json", "--backend", "cpu", *args)
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


def step(p: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in p["steps"] if s["id"] == step_id)


def test_the_default_is_uv_here_with_no_uv_on_path(tmp_path: Path) -> None:
    p = plan(tmp_path, "--venv", str(tmp_path / "v"))
    assert p["choice"]["installer"] == "uv"
    argv = step(p, "create-venv")["argv"]
    assert os.path.realpath(argv[0]) == os.path.realpath(UV_PACKAGE_BIN)
    assert argv[1:3] == ["venv", "--no-config"]
    assert step(p, "install-torch")["argv"][1:3] == ["pip", "install"]
    assert not any(s["id"] == "upgrade-pip" for s in p["steps"])
    assert any("reuses its cache" in r or "links the files" in r for r in p["reasons"])


def test_a_uv_plan_as_a_script_says_it_needs_uv(tmp_path: Path) -> None:
    r = cli(tmp_path, "plan", "--format", "sh", "--backend", "cpu", "--venv", str(tmp_path / "v"))
    assert r.returncode == 0, r.stderr
    need = [line for line in r.stdout.splitlines() if line.startswith("# Needs uv")]
    assert len(need) == 1 and "'pip install uv'" in need[0] and "--installer pip" in need[0]
    r = cli(tmp_path, "plan", "--format", "sh", "--installer", "pip", "--backend", "cpu")
    assert r.returncode == 0 and "# Needs uv" not in r.stdout


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (("--root", str(CPU_SERVER)), "the machine root has no bin/uv"),
        (("--os", "windows"), "no uv"),  # another platform: this host's uv binary cannot run there
    ],
)
def test_targets_without_uv_get_pip_with_the_reason(
    tmp_path: Path, target: tuple[str, ...], why: str
) -> None:
    p = plan(tmp_path, *target)
    assert p["choice"]["installer"] == "pip"
    reason = next(r for r in p["reasons"] if r.startswith("No uv for this platform"))
    assert why in reason and "--installer uv" in reason


def test_a_profile_without_uv_gets_pip_and_one_with_uv_gets_uv(tmp_path: Path) -> None:
    r = cli(tmp_path, "detect", "--json")
    assert r.returncode == 0, r.stderr
    profile = json.loads(r.stdout)
    with_uv, without = tmp_path / "with.json", tmp_path / "without.json"
    with_uv.write_text(json.dumps(profile))
    profile["tools"] = [t for t in profile["tools"] if t["name"] != "uv"]
    without.write_text(json.dumps(profile))
    p = plan(tmp_path, "--profile", str(without))
    assert p["choice"]["installer"] == "pip"
    assert any("the target's profile lists no uv" in r for r in p["reasons"])
    assert plan(tmp_path, "--profile", str(with_uv))["choice"]["installer"] == "uv"


def test_a_source_build_runs_pip(tmp_path: Path) -> None:
    p = plan(tmp_path, "--root", str(CPU_SERVER), "--build", "source", "--installer", "auto")
    assert p["choice"]["installer"] == "pip"


def test_cache_dir_reaches_every_installer_step(tmp_path: Path) -> None:
    cache = tmp_path / "lab-cache"
    p = plan(tmp_path, "--venv", str(tmp_path / "v"), "--cache-dir", str(cache))
    assert p["choice"]["cache_dir"] == str(cache) and p["choice"]["cache"] == "keep"
    for sid in ("create-venv", "install-torch"):
        assert step(p, sid)["env"]["UV_CACHE_DIR"] == str(cache)
    assert any(f"cached in {cache}" in r for r in p["reasons"])
    p = plan(tmp_path, "--installer", "pip", "--venv", str(tmp_path / "v"), "--cache-dir", "c")
    argv = step(p, "install-torch")["argv"]
    assert argv[argv.index("--cache-dir") + 1] == str(tmp_path / "c")  # made absolute
    p = plan(tmp_path, "--installer", "pip", "--no-cache")
    assert "--no-cache-dir" in step(p, "install-torch")["argv"]
    assert "--no-cache" in step(plan(tmp_path, "--no-cache"), "install-torch")["argv"]


def test_the_plan_replaces_the_hosts_cache_settings() -> None:
    host = Network(pip_args=("--proxy", "http://p:3128", "--cache-dir", "/old"), uv_env={})
    host = Network(host.pip_args, {"UV_CACHE_DIR": "/old", "UV_NO_CACHE": "1"}, ())
    moved = cached_network(host, "/new", "keep")
    assert moved.pip_args == ("--proxy", "http://p:3128", "--cache-dir", "/new")
    assert moved.uv_env == {"UV_CACHE_DIR": "/new"}
    off = cached_network(host, "", "off")
    assert off.pip_args == ("--proxy", "http://p:3128", "--no-cache-dir") and off.uv_env == {}
    assert cached_network(host, "", "keep") is host  # nothing decided: the host's settings


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--cache-dir", ""), "--cache-dir is empty"),
        (("--cache-dir", "c", "--no-cache"), "contradict"),
        (("--cache-dir", "FILE"), "is a file, not a folder"),
        (("--installer", "conda"), "use --installer auto, pip or uv"),
    ],
)
def test_bad_cache_and_installer_choices_exit_2(
    tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    (tmp_path / "FILE").write_text("x")
    args = tuple(str(tmp_path / "FILE") if a == "FILE" else a for a in args)
    before = sorted(p.name for p in tmp_path.iterdir())
    r = cli(tmp_path, "plan", *args)
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def profile_with_free(tmp_path: Path, free: int) -> Path:
    r = cli(tmp_path, "detect", "--json", "--root", str(CPU_SERVER))
    assert r.returncode == 0, r.stderr
    profile = json.loads(r.stdout)
    profile["disk"]["free"] = free
    path = tmp_path / f"free-{free}.json"
    path.write_text(json.dumps(profile))
    return path


def test_short_disk_installs_pip_without_a_cache_and_says_so(tmp_path: Path) -> None:
    # The CPU build: about 0.2 GB to download, 0.9 GB installed. 1.3 GB holds the install (and
    # its download in flight) but not pip's cache of the wheels as well.
    p = plan(tmp_path, "--profile", str(profile_with_free(tmp_path, int(1.3 * GB))))
    assert p["choice"]["installer"] == "pip" and p["choice"]["cache"] == "off"
    assert "--no-cache-dir" in step(p, "install-torch")["argv"]
    (warning,) = [w for w in p["warnings"] if "download cache" in w]
    assert "installs without one (--no-cache-dir)" in warning and "--cache-dir" in warning
    roomy = plan(tmp_path, "--profile", str(profile_with_free(tmp_path, 50 * GB)))
    assert roomy["choice"]["cache"] == "keep"
    assert "--no-cache-dir" not in step(roomy, "install-torch")["argv"]


def test_uv_cache_on_a_small_other_filesystem_is_not_kept(tmp_path: Path) -> None:
    """uv's cache on the venv's filesystem costs nothing (the venv's files are its hardlinks);
    on another one it is a second copy. A 50 MB tmpfs cannot hold it: no cache, said so."""
    with tmpfs(tmp_path / "small", "50m") as small:
        p = plan(tmp_path, "--venv", str(tmp_path / "v"), "--cache-dir", str(small / "c"))
        assert p["choice"]["installer"] == "uv" and p["choice"]["cache"] == "off"
        assert "--no-cache" in step(p, "install-torch")["argv"]
        assert any("where the cache is" in w and "--no-cache" in w for w in p["warnings"])
        assert list(small.iterdir()) == []
    same_fs = plan(tmp_path, "--venv", str(tmp_path / "v"), "--cache-dir", str(tmp_path / "c"))
    assert same_fs["choice"]["cache"] == "keep"


def test_preflight_counts_a_kept_cache() -> None:
    installed, download = int(0.9 * GB), int(0.2 * GB)
    # pip: the cache is the wheels (the download size) beside the install.
    assert fit("pip", installed, download, int(1.3 * GB), 0, True) == "off"
    assert fit("pip", installed, download, int(1.5 * GB), 0, True) == "keep"
    assert fit("pip", installed, download, int(1.0 * GB), 0, True) == "full"
    # uv: nothing more on the venv's filesystem, a second copy on another.
    assert fit("uv", installed, download, int(1.3 * GB), 0, True) == "keep"
    assert fit("uv", installed, download, 50 * GB, int(0.5 * GB), False) == "off"
    assert fit("uv", installed, download, 50 * GB, 2 * GB, False) == "keep"


def test_a_saved_plan_that_keeps_its_cache_is_refused_when_the_room_is_gone(
    tmp_path: Path,
) -> None:
    from torch_wizard.commands.install import load_plan

    r = cli(tmp_path, "plan", "--format", "json", "--backend", "cpu", "--installer", "pip")
    assert r.returncode == 0, r.stderr
    path = tmp_path / "plan.json"
    path.write_text(r.stdout)
    saved = load_plan(str(path))
    assert saved.choice.cache == "keep"
    short = Where(int(1.3 * GB), int(1.3 * GB), True, "/srv", "/srv")
    problem = cache_problem(saved, short)
    assert "the install fits, but not pip's download cache" in problem and "--no-cache" in problem
    assert cache_problem(saved, Where(50 * GB, 50 * GB, True, "/srv", "/srv")) == ""
