"""The default route for real: ``uv venv`` + ``uv pip install`` of the real torch 2.13.0 CPU wheel
from a local index on 127.0.0.1, twice, with one shared ``--cache-dir``.

- Cold: uv's download lines become the runner's progress (torch's size, then done).
- Warm: the second venv gets torch from the cache: the index serves no wheel again, the venv's
  files are hardlinks of the cache's (one filesystem), and uv reports no download.
- A cache on another filesystem too small for it: the plan installs without one and says so.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import serve
from tests.support.torchindex import build_index, clean_pip_env, supported_here
from torch_wizard.commands.install import load_plan
from torch_wizard.run.events import Event, Finished, Output, Progress, StepFinished
from torch_wizard.run.runner import Runner

REPO = Path(__file__).resolve().parent.parent
PY = str(REPO / ".venv" / "bin" / "python")

pytestmark = pytest.mark.slow


class Index:
    """A served copy of the local torch index that records every path it is asked for."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[str] = []

    def wheels(self) -> list[str]:
        return [p for p in self.requests if p.endswith(".whl")]


@pytest.fixture(scope="module")
def index() -> Iterator[Index]:
    from tests.support import torchindex

    if supported_here():
        pytest.skip(supported_here())
    root = build_index()
    if root is None:
        pytest.skip(f"local torch index unavailable: {torchindex.last_error}")
    state = Index("")

    class Counting(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            state.requests.append(self.path)

    with serve(functools.partial(Counting, directory=str(root))) as url:
        state.url = f"{url}/whl"
        yield state


def env_for(tmp_path: Path) -> dict[str, str]:
    """No host pip/uv settings, no uv on PATH: the default finds uv through the uv package."""
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")  # not the host's uv cache
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin"])
    return env


def plan_for(tmp_path: Path, index: Index, venv: Path, *args: str) -> Path:
    r = subprocess.run(
        [
            *(PY, "-m", "torch_wizard", "plan", "--format", "json", "--backend", "cpu"),
            *("--torch", "2.13.0", "--packages", "torch", "--index-base", index.url),
            *("--venv", str(venv), *args),
        ],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        cwd=REPO,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    path = tmp_path / f"{venv.name}.json"
    path.write_text(r.stdout)
    return path


async def run(plan_file: Path, tmp_path: Path) -> tuple[Finished, list[Event]]:
    """Run the saved plan; its events, with each step's index turned into the step's id."""
    plan = load_plan(str(plan_file))
    INDEX.update({i: s.id for i, s in enumerate(plan.steps)})
    seen: list[Event] = []
    runner = Runner(plan, state_dir=tmp_path / "state", env=env_for(tmp_path))
    async for ev in runner.events():
        seen.append(ev)
        if isinstance(ev, Finished):
            return ev, seen
    raise AssertionError("no Finished")


INDEX: dict[int, str] = {}  # step index -> id, of the plan run last


def step_output(seen: list[Event], step: str) -> list[str]:
    return [
        line for e in seen if isinstance(e, Output) and INDEX[e.index] == step for line in e.lines
    ]


def step_seconds(seen: list[Event], step: str) -> float:
    return sum(e.duration for e in seen if isinstance(e, StepFinished) and INDEX[e.index] == step)


async def test_second_venv_comes_from_the_cache(tmp_path: Path, index: Index) -> None:
    cache = tmp_path / "shared-cache"
    first = plan_for(tmp_path, index, tmp_path / "one", "--cache-dir", str(cache))
    plan = json.loads(first.read_text())
    assert plan["choice"]["installer"] == "uv"  # the default, with no uv on PATH
    assert plan["choice"]["cache"] == "keep" and plan["choice"]["cache_dir"] == str(cache)
    install = next(s for s in plan["steps"] if s["id"] == "install-torch")
    assert install["env"]["UV_CACHE_DIR"] == str(cache)

    index.requests.clear()
    fin, seen = await run(first, tmp_path)
    assert fin.outcome == "ok", fin.message + "\n".join(fin.tail)
    assert any(p.endswith(".whl") and "/torch-2.13.0" in p for p in index.wheels())
    # Cold: uv announced torch's download and its end; the runner turned them into progress.
    progress = [e for e in seen if isinstance(e, Progress) and INDEX[e.index] == "install-torch"]
    assert progress, step_output(seen, "install-torch")
    assert progress[0].done == 0
    # uv announces the downloads in no fixed order; torch's (about 183 MiB) is among them.
    assert any("torch" in p.label and p.total > 100 * 1024 * 1024 for p in progress)
    assert progress[-1].done == progress[-1].total == max(p.total for p in progress)

    second = plan_for(tmp_path, index, tmp_path / "two", "--cache-dir", str(cache))
    index.requests.clear()
    fin, seen = await run(second, tmp_path)
    assert fin.outcome == "ok", fin.message + "\n".join(fin.tail)
    assert index.wheels() == []  # nothing downloaded again
    out = "\n".join(step_output(seen, "install-torch"))
    # uv prepared (downloaded, unpacked) nothing: it went from resolving to installing.
    assert "Downloading" not in out and "Prepared" not in out and "Installed 10 packages" in out
    # The venv's torch is the cache's files, linked (both under tmp_path: one filesystem).
    (init,) = (tmp_path / "two" / "lib").glob("python3*/site-packages/torch/__init__.py")
    assert init.stat().st_nlink >= 2
    print(f"\nwarm: install-torch {step_seconds(seen, 'install-torch'):.2f} s")


async def test_no_cache_installs_without_keeping_one(tmp_path: Path, index: Index) -> None:
    cache = tmp_path / "cache"
    plan_file = plan_for(tmp_path, index, tmp_path / "v", "--no-cache")
    plan = json.loads(plan_file.read_text())
    install = next(s for s in plan["steps"] if s["id"] == "install-torch")
    assert "--no-cache" in install["argv"] and plan["choice"]["cache"] == "off"
    fin, _ = await run(plan_file, tmp_path)
    assert fin.outcome == "ok", fin.message
    default_cache = tmp_path / "xdg-cache" / "uv"
    assert not any(p.is_file() and p.stat().st_size > 1_000_000 for p in default_cache.rglob("*"))
    assert not cache.exists()
