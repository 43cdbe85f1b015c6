"""End to end, no mocks: a wheelhouse built by the real ``torch-wizard wheelhouse`` from the local
torch 2.13.0 CPU index on 127.0.0.1, a re-run that downloads nothing, then real installs from
``file://`` of it with the index server stopped and every proxy dead, once with pip and once with
uv (one install per route)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import serve_directory
from tests.support.runplan import PY
from tests.support.torchindex import build_index, clean_pip_env, supported_here

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"

pytestmark = pytest.mark.slow


def wizard(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "torch_wizard", *args],
        capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO, check=False,
    )  # fmt: skip


def base_env(tmp: Path) -> dict[str, str]:
    env = clean_pip_env(cache=tmp / "cache")
    env["XDG_STATE_HOME"] = str(tmp / "state")
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


CHOICES = ["--backend", "cpu", "--torch", "2.13.0", "--packages", "torch"]


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """(OUTDIR, first run's stdout+stderr, second run's) built from the served local index."""
    from tests.support import torchindex

    if supported_here():
        pytest.skip(supported_here())
    root = build_index()
    if root is None:
        pytest.skip(f"local torch index unavailable: {torchindex.last_error}")
    tmp = tmp_path_factory.mktemp("wheelhouse")
    out = tmp / "wh"
    env = base_env(tmp)
    with serve_directory(root) as url:
        args = [
            "wheelhouse",
            str(out),
            "--index-base",
            f"{url}/whl",
            *CHOICES,
            "--installer",
            "pip",
        ]
        first = wizard(*args, env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "cpu").glob("*.whl")}
        second = wizard(*args, env=env)
        assert second.returncode == 0, second.stdout + second.stderr
        assert mtimes == {p.name: p.stat().st_mtime_ns for p in (out / "cpu").glob("*.whl")}
    print(f"\n{first.stdout}")
    yield out, first.stdout + first.stderr, second.stdout + second.stderr


def test_wheelhouse_layout_pages_and_hashes(wheelhouse: tuple[Path, str, str]) -> None:
    out, first, _ = wheelhouse
    wheels = sorted(p.name for p in (out / "cpu").glob("*.whl"))
    names = {re.split(r"-\d", w, maxsplit=1)[0].lower() for w in wheels}
    assert "torch" in names and "pip" in names  # the pip the plan upgrades to comes along
    assert any(w.startswith("torch-2.13.0+cpu-cp311") for w in wheels)
    assert not any("nvidia" in w or "triton" in w for w in wheels), wheels  # a CPU target
    assert list(out.iterdir()) == [out / "cpu"]
    page = (out / "cpu" / "torch" / "index.html").read_text()
    href = re.search(r'href="\.\./([^"#]+)#sha256=([0-9a-f]{64})"', page)
    assert href is not None, page
    whl = out / "cpu" / href.group(1).replace("%2B", "+")
    assert whl.is_file()
    assert hashlib.sha256(whl.read_bytes()).hexdigest() == href.group(2)
    index = (out / "cpu" / "index.html").read_text()
    assert '<a href="torch/">torch</a>' in index and '<a href="typing-extensions/">' in index
    summary = re.search(r"^  cpu +(\d+) wheels +([\d.,]+) MB +(\d+) new", first, re.M)
    assert summary is not None, first
    assert int(summary.group(1)) == len(wheels) == int(summary.group(3))
    size = sum((out / "cpu" / w).stat().st_size for w in wheels)
    assert abs(float(summary.group(2).replace(",", "")) - size / 1e6) < 0.1
    assert "[cpu] Downloading" in first  # progress, one line per wheel


def test_rerun_adds_only_what_is_missing(wheelhouse: tuple[Path, str, str]) -> None:
    _, _, second = wheelhouse
    assert re.search(r"^  cpu +\d+ wheels .* 0 new", second, re.M), second
    assert "Downloading" not in second and "File was already downloaded" in second


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_install_from_the_wheelhouse_with_nothing_else_reachable(
    tmp_path: Path, wheelhouse: tuple[Path, str, str], installer: str
) -> None:
    out, _, _ = wheelhouse
    env = base_env(tmp_path)
    dead = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = dead
    venv = tmp_path / "venv"
    r = wizard("install", "--index-base", out.as_uri(), *CHOICES, "--installer", installer,
               "--venv", str(venv), "--yes", env=env)  # fmt: skip
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr
    assert "Done: torch 2.13.0+cpu works on cpu" in r.stdout
    assert f"--index-url {out.as_uri()}/cpu" in r.stdout
    if installer == "pip":  # the wheelhouse's own pip: the upgrade worked, no fallback
        assert "'upgrade-pip' failed" not in r.stdout
        pips = list((venv / "lib").glob("python3.*/site-packages/pip-26.3.dist-info"))
        assert pips, "pip was not upgraded from the wheelhouse"
