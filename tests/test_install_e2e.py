"""End to end, no mocks: the real torch 2.13.0 CPU wheel from a local PEP 503 index on 127.0.0.1,
installed by the real ``torch-wizard install`` with pip and with uv, verified, logged, receipted;
plus faults on the real thing: cancel mid-download (a trickling server), mid-install, a stalled
server with a step timeout, a full disk (tmpfs) and a venv that turns read-only."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fs import tmpfs
from tests.support.httpserver import serve, serve_directory
from tests.support.runplan import PY, make_plan, processes_with_marker
from tests.support.torchindex import build_index, clean_pip_env, supported_here
from torch_wizard.plan.isolation import pip_env
from torch_wizard.plan.model import Step
from torch_wizard.run.events import Event, Finished, Output, Progress
from torch_wizard.run.runner import Runner

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def torch_index() -> Iterator[str]:
    """The base URL of the local index (``<url>/whl``), served for the whole session."""
    from tests.support import torchindex

    if supported_here():
        pytest.skip(supported_here())
    root = build_index()
    if root is None:
        pytest.skip(f"local torch index unavailable: {torchindex.last_error}")
    with serve_directory(root) as url:
        yield f"{url}/whl"


def install_env(tmp_path: Path, index_base: str) -> dict[str, str]:
    env = clean_pip_env()
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the planner finds uv on PATH
    return env


def wizard(
    *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "torch_wizard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


def install_args(index: str, venv: Path, installer: str) -> list[str]:
    return [
        "install",
        "--index-base",
        index,
        "--backend",
        "cpu",
        "--torch",
        "2.13.0",
        "--packages",
        "torch",
        "--installer",
        installer,
        "--venv",
        str(venv),
    ]


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_real_install_verifies_logs_and_receipts(
    tmp_path: Path, torch_index: str, installer: str
) -> None:
    venv = tmp_path / "venv"
    env = install_env(tmp_path, torch_index)
    t0 = time.monotonic()
    if installer == "pip":  # plan and run in one go
        r = wizard(*install_args(torch_index, venv, installer), "--yes", env=env)
    else:  # the other route: a plan saved by `plan --format json`, then `install --plan FILE`
        saved = _saved_plan(tmp_path, torch_index, venv, installer)
        r = wizard("install", "--plan", str(saved), "--yes", env=env)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "Done: torch 2.13.0+cpu works on cpu" in r.stdout
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.stdout.strip() == "2.13.0+cpu"
    receipt = json.loads((venv / "torch-wizard-receipt.json").read_text())
    assert receipt["outcome"] == "ok" and receipt["torch"] == "2.13.0+cpu"
    assert receipt["verify"]["ok"] and receipt["verify"]["matmul_ok"]
    assert receipt["plan"]["choice"]["installer"] == installer
    assert [s["id"] for s in receipt["steps"]][-2:] == ["install-torch", "verify"]
    log = Path(receipt["log_path"])
    assert log.is_file() and log.parent == tmp_path / "state" / "torch-wizard" / "logs"
    text = log.read_text()
    assert f"--index-url {torch_index}/cpu" in text and "== outcome: ok" in text
    print(f"\n{installer}: wizard install wall time {elapsed:.1f} s")
    # doctor reads the receipt and agrees
    d = wizard("doctor", "--venv", str(venv), "--json", env=env)
    assert d.returncode == 0, d.stdout + d.stderr
    report = json.loads(d.stdout)
    assert report["torch"] == "2.13.0+cpu" and report["problems"] == []


def test_cancel_mid_install_removes_the_new_venv(tmp_path: Path, torch_index: str) -> None:
    venv = tmp_path / "venv"
    env = install_env(tmp_path, torch_index)
    # pip unpacks torch (~750 MB) under TMPDIR: after a cancel nothing may stay there.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    proc = subprocess.Popen(
        [PY, "-m", "torch_wizard", *install_args(torch_index, venv, "pip"), "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "Installing collected packages" in line and "torch" in line:
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + out + err
    assert "Cancelled during step 'install-torch'" in err and "was removed" in err
    assert not venv.exists()
    assert processes_with_marker(str(venv)) == []
    assert list(tmp.iterdir()) == [], "pip or the runner left files in TMPDIR"


class _Trickle(http.server.BaseHTTPRequestHandler):
    """An index whose one wheel arrives 64 KiB every 0.1 s (10 MB: pip shows raw progress)."""

    size = 10_000_000

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/torch"):
            body = b'<a href="torch-2.13.0-py3-none-any.whl">torch-2.13.0-py3-none-any.whl</a>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.endswith(".whl"):
            self.send_response(200)
            self.send_header("Content-Length", str(self.size))
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(self.size // 65536):
                    self.wfile.write(b"\0" * 65536)
                    time.sleep(0.1)
            return
        if "stall" in self.path:
            time.sleep(60)  # accept, never answer
        self.send_error(404)


def trickle_server() -> contextlib.AbstractContextManager[str]:
    return serve(_Trickle)


def _pip_in(tmp_path: Path, torch_index: str) -> list[str]:
    """A pip >= 24.1 (raw progress) run straight from the wheel cached in the local index."""
    from tests.support.torchindex import cache_root

    wheel = next((cache_root() / "files").glob("pip-*.whl"))
    return [PY, str(wheel / "pip")]


async def _collect(runner: Runner, on: object) -> Finished:
    async for ev in runner.events():
        if callable(on):
            on(ev, runner)
        if isinstance(ev, Finished):
            return ev
    raise AssertionError("no Finished")


async def test_cancel_mid_download_from_a_trickling_server(
    tmp_path: Path, torch_index: str
) -> None:
    seen: list[Event] = []

    def on(ev: Event, runner: Runner) -> None:
        seen.append(ev)
        if isinstance(ev, Progress) and ev.total and ev.done > 0:
            runner.cancel()

    with trickle_server() as url:
        argv = (
            *_pip_in(tmp_path, torch_index),
            "install",
            "--isolated",
            "torch==2.13.0",
            "--index-url",
            f"{url}/whl/cpu",
            "--target",
            str(tmp_path / "t"),
            "--no-cache-dir",
            "--progress-bar",
            "raw",
        )
        # Isolated like every planned pip step (the runner drops inherited PIP_* variables).
        step = Step("install-torch", "Install", argv, env=pip_env("linux"), progress="pip")
        plan = make_plan(tmp_path / "v", step)
        (tmp_path / "v").mkdir()
        (tmp_path / "v" / "pyvenv.cfg").write_text("")
        t0 = time.monotonic()
        fin = await _collect(
            Runner(plan, state_dir=tmp_path, preflight=False, env=clean_pip_env()), on
        )
    assert fin.outcome == "cancelled" and time.monotonic() - t0 < 30
    progress = [e for e in seen if isinstance(e, Progress) and e.total]
    assert progress[0].label == "torch-2.13.0-py3-none-any.whl" and progress[0].total == 10_000_000
    assert processes_with_marker(str(tmp_path / "t")) == []


async def test_stalled_server_hits_the_step_timeout(tmp_path: Path, torch_index: str) -> None:
    with trickle_server() as url:
        argv = (
            *_pip_in(tmp_path, torch_index),
            "install",
            "--isolated",
            "torch",
            "--index-url",
            f"{url}/stall",
            "--target",
            str(tmp_path / "t"),
            "--timeout",
            "60",
        )
        (tmp_path / "v").mkdir()
        (tmp_path / "v" / "pyvenv.cfg").write_text("")
        step = Step(
            "install-torch", "Install", argv, env=pip_env("linux"), progress="pip", timeout=3
        )
        plan = make_plan(tmp_path / "v", step)
        fin = await _collect(
            Runner(plan, state_dir=tmp_path, preflight=False, env=clean_pip_env(), grace=1), None
        )
    assert fin.outcome == "failed" and "timed out after 3 s" in fin.message
    assert processes_with_marker(str(tmp_path / "t")) == []


def _saved_plan(tmp_path: Path, torch_index: str, venv: Path, installer: str) -> Path:
    env = install_env(tmp_path, torch_index)
    args = install_args(torch_index, venv, installer)
    args[0] = "plan"
    r = wizard(*args, "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "plan.json"
    path.write_text(r.stdout)
    return path


def test_full_disk_is_refused_before_running(tmp_path: Path, torch_index: str) -> None:
    with tmpfs(tmp_path / "small", "100m") as small:
        env = install_env(tmp_path, torch_index)
        r = wizard(*install_args(torch_index, small / "venv", "uv"), "--yes", env=env)
        assert r.returncode == 2 and "MB free at" in r.stderr and "--venv" in r.stderr
        assert list(small.iterdir()) == []


async def test_disk_filling_up_mid_install_fails_cleanly(tmp_path: Path, torch_index: str) -> None:
    from torch_wizard.commands.install import load_plan

    with tmpfs(tmp_path / "small", "150m") as small:
        venv = small / "venv"
        plan = load_plan(str(_saved_plan(tmp_path, torch_index, venv, "uv")))
        env = install_env(tmp_path, torch_index)
        env["UV_CACHE_DIR"] = str(tmp_path / "uvcache")
        fin = await _collect(Runner(plan, state_dir=tmp_path, preflight=False, env=env), None)
        assert fin.outcome == "failed" and fin.failed_step == "install-torch"
        assert "No space left on device" in "\n".join(fin.tail) or "disk is full" in fin.message
        assert fin.venv_state == "removed" and not venv.exists()


def test_venv_that_turns_read_only_is_reported(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("remounting needs root")
    with tmpfs(tmp_path / "fs", "20m") as fs:
        venv = fs / "venv"
        make = f"import os; os.makedirs({str(venv)!r}); open({str(venv / 'pyvenv.cfg')!r}, 'w').close()"
        plan = make_plan(
            venv,
            Step("create-venv", "Create", (PY, "-c", make)),
            Step("lock", "Turn read-only", ("mount", "-o", "remount,ro", str(fs))),
            Step("install-torch", "Install", (PY, "-c", f"open({str(venv / 'x')!r}, 'w')")),
        )
        import asyncio

        fin = asyncio.run(_collect(Runner(plan, state_dir=tmp_path, preflight=False), None))
        assert fin.outcome == "failed" and fin.failed_step == "install-torch"
        assert "Read-only file system" in "\n".join(fin.tail)
        assert fin.venv_state == "partial" and "delete it by hand" in fin.venv_note
        assert venv.is_dir()
        _ = Output  # the events module is part of the contract under test
