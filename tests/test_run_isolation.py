"""Isolation, private TMPDIR, optional steps and the venv lock, on real small plans.

Each plan runs through the real ``Runner`` and, where the claim is "a script behaves as the runner
does", also as the ``--format sh`` script under the real ``dash``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.runplan import PY, make_plan, processes_with_marker, py_step
from torch_wizard.plan.isolation import host_network, removed, step_environ
from torch_wizard.plan.model import Step
from torch_wizard.plan.render import render_sh
from torch_wizard.run.events import Event, Finished, Notice, Output, StepStarted
from torch_wizard.run.lock import VenvLock, lock_path
from torch_wizard.run.runner import Runner

DASH = shutil.which("dash")
HOSTILE = {
    "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/hostile",
    "PIP_FIND_LINKS": "/hostile/wheels",
    "PIP_CONSTRAINT": "/hostile/constraints.txt",
    "PIP_CONFIG_FILE": "/hostile/pip.conf",
    "UV_INDEX": "http://127.0.0.1:9/hostile",
    "UV_EXTRA_INDEX_URL": "http://127.0.0.1:9/hostile",
    "UV_TORCH_BACKEND": "cu126",
    "UV_INDEX_STRATEGY": "unsafe-best-match",
    "PYTHONPATH": "/hostile/site",
    "PYTHONSTARTUP": "/hostile/startup.py",
    "VIRTUAL_ENV": "/hostile/venv",
}
KEPT = {
    "HTTPS_PROXY": "http://127.0.0.1:3128",
    "SSL_CERT_FILE": "/etc/ssl/x.pem",
    "TW_OTHER": "kept",
}
# Prints the environment it was given as JSON (with -I: nothing on sys.path from outside).
DUMP_ENV = "import json, os; print('ENV ' + json.dumps(dict(os.environ)))"


async def collect(runner: Runner) -> list[Event]:
    return [ev async for ev in runner.events()]


def step_env_of(events: list[Event], index: int) -> dict[str, str]:
    for ev in events:
        if isinstance(ev, Output) and ev.index == index:
            for line in ev.lines:
                if line.startswith("ENV "):
                    env: dict[str, str] = json.loads(line[4:])
                    return env
    raise AssertionError(f"step {index} printed no environment")


def dump_step(**kw: object) -> Step:
    return Step("dump", "Dump the environment", (PY, "-I", "-c", DUMP_ENV), **kw)  # type: ignore[arg-type]


def test_removed_names_cover_pip_uv_and_the_interpreter_path() -> None:
    for name in HOSTILE:
        assert removed(name), name
    for name in (*KEPT, "PATH", "HOME", "no_proxy", "REQUESTS_CA_BUNDLE", "PYTHONUTF8"):
        assert not removed(name), name
    env = step_environ({**HOSTILE, **KEPT}, {"PIP_CONFIG_FILE": "/dev/null"})
    assert env == {**KEPT, "PIP_CONFIG_FILE": "/dev/null"}


async def test_a_step_runs_with_exactly_the_isolated_env_plus_a_private_tmpdir(
    tmp_path: Path,
) -> None:
    base = {**os.environ, **HOSTILE, **KEPT}
    plan = make_plan(tmp_path / "venv", dump_step(env={"PIP_CONFIG_FILE": "/dev/null"}))
    runner = Runner(plan, state_dir=tmp_path / "state", preflight=False, env=base)
    events = await collect(runner)
    got = step_env_of(events, 0)
    tmp = got.pop("TMPDIR")
    assert got == step_environ(base, {"PIP_CONFIG_FILE": "/dev/null"})
    assert Path(tmp).name.startswith("torch-wizard-run-")
    assert not Path(tmp).exists(), "the run's private TMPDIR outlived the run"
    assert isinstance(events[-1], Finished) and events[-1].outcome == "ok"
    log = Path(events[-1].log_path).read_text()
    assert "# isolation:" in log and f"# TMPDIR {tmp}" in log


@pytest.mark.skipif(DASH is None, reason="dash is not installed")
def test_the_sh_script_gives_a_step_the_same_environment_as_the_runner(tmp_path: Path) -> None:
    base = {**os.environ, **HOSTILE, **KEPT}
    plan = make_plan(tmp_path / "venv", dump_step(env={"PIP_CONFIG_FILE": "/dev/null"}))
    script = render_sh(plan)
    proc = subprocess.run(
        [str(DASH)], input=script, capture_output=True, text=True, env=base, check=False
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("ENV "))
    got = json.loads(line[4:])
    tmp = got.pop("TMPDIR")
    assert not Path(tmp).exists(), "the script's private TMPDIR outlived it"
    for shell_own in ("PWD", "OLDPWD", "SHLVL", "_"):  # what any POSIX shell sets itself
        got.pop(shell_own, None)
    want = step_environ(base, {"PIP_CONFIG_FILE": "/dev/null"})
    for shell_own in ("PWD", "OLDPWD", "SHLVL", "_"):
        want.pop(shell_own, None)
    assert got == want


@pytest.mark.skipif(DASH is None, reason="dash is not installed")
def test_sh_script_parses_under_dash_and_stops_at_a_failing_step(tmp_path: Path) -> None:
    plan = make_plan(
        tmp_path / "venv",
        py_step("one", "print('one ran')"),
        py_step("bad", "import sys; sys.exit(4)"),
        py_step("never", "print('must not run')"),
    )
    script = render_sh(plan)
    assert script.startswith("#!/bin/sh\n") and "pipefail" not in script
    path = tmp_path / "plan.sh"
    path.write_text(script)
    assert subprocess.run([str(DASH), "-n", str(path)], check=False).returncode == 0
    proc = subprocess.run(
        [str(DASH)], input=script, capture_output=True, text=True, check=False
    )  # piped, as in `plan --format sh | sh`
    assert proc.returncode == 4
    assert "one ran" in proc.stdout and "must not run" not in proc.stdout


OPTIONAL_PLAN_STEPS = (
    Step("upgrade-pip", "Optional", (PY, "-c", "import sys; sys.exit(1)"), optional=True),
    Step(
        "install-torch",
        "Install",
        (PY, "-c", "print('primary')"),
        fallback=(PY, "-c", "print('fallback')"),
    ),
)


async def test_a_failed_optional_step_goes_on_with_the_fallback(tmp_path: Path) -> None:
    plan = make_plan(tmp_path / "venv", *OPTIONAL_PLAN_STEPS)
    events = await collect(Runner(plan, state_dir=tmp_path / "state", preflight=False))
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.outcome == "ok", fin.message
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("'upgrade-pip' failed (exit 1) but is optional" in n for n in notices)
    out = [line for e in events if isinstance(e, Output) and e.index == 1 for line in e.lines]
    assert out == ["fallback"]
    started = [e.step for e in events if isinstance(e, StepStarted)]
    assert started[1].argv == OPTIONAL_PLAN_STEPS[1].fallback  # the UI shows what runs


async def test_without_a_failure_the_primary_command_runs(tmp_path: Path) -> None:
    ok = Step("upgrade-pip", "Optional", (PY, "-c", "pass"), optional=True)
    plan = make_plan(tmp_path / "venv", ok, OPTIONAL_PLAN_STEPS[1])
    events = await collect(Runner(plan, state_dir=tmp_path / "state", preflight=False))
    out = [line for e in events if isinstance(e, Output) and e.index == 1 for line in e.lines]
    assert out == ["primary"]


@pytest.mark.skipif(DASH is None, reason="dash is not installed")
@pytest.mark.parametrize("first_ok", [True, False])
def test_the_sh_script_takes_the_same_branch(tmp_path: Path, first_ok: bool) -> None:
    first = Step(
        "upgrade-pip",
        "Optional",
        (PY, "-c", f"import sys; sys.exit({0 if first_ok else 1})"),
        optional=True,
    )
    script = render_sh(make_plan(tmp_path / "venv", first, OPTIONAL_PLAN_STEPS[1]))
    proc = subprocess.run([str(DASH)], input=script, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == (["primary"] if first_ok else ["fallback"])


async def test_tmpdir_is_removed_after_a_failure_and_a_cancel(tmp_path: Path) -> None:
    leave = (
        "import os, pathlib; pathlib.Path(os.environ['TMPDIR'], 'junk').write_bytes(b'x' * 1000)"
    )
    failing = make_plan(tmp_path / "v1", py_step("litter", leave + "; raise SystemExit(3)"))
    runner = Runner(failing, state_dir=tmp_path / "state", preflight=False)
    await collect(runner)
    assert runner.tmp_dir and not Path(runner.tmp_dir).exists()

    marker = f"tw-tmp-cancel-{os.getpid()}"
    hanging = make_plan(
        tmp_path / "v2",
        Step(
            "hang",
            "Hang",
            (PY, "-c", leave + "; print('up', flush=True); import time; time.sleep(600)", marker),
        ),
    )
    runner = Runner(hanging, state_dir=tmp_path / "state", preflight=False, grace=0.5)
    seen: list[Event] = []
    async for ev in runner.events():
        seen.append(ev)
        if isinstance(ev, Output) and "up" in ev.lines:
            assert (Path(runner.tmp_dir) / "junk").is_file()
            runner.cancel()
    assert isinstance(seen[-1], Finished) and seen[-1].outcome == "cancelled"
    assert not Path(runner.tmp_dir).exists()
    assert processes_with_marker(marker) == []


async def test_a_second_run_into_the_same_venv_is_refused_naming_the_first(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"
    marker = f"tw-lock-{os.getpid()}"
    first = make_plan(
        venv,
        Step(
            "hang",
            "Hang",
            (PY, "-c", "print('up', flush=True); import time; time.sleep(600)", marker),
        ),
    )
    second = make_plan(venv, py_step("two", "print('second ran')"))
    state = tmp_path / "state"
    r1 = Runner(first, state_dir=state, preflight=False, grace=0.5)
    it = r1.events()
    async for ev in it:
        if isinstance(ev, Output) and "up" in ev.lines:
            break
    events = await collect(Runner(second, state_dir=state, preflight=False))
    fin = events[-1]
    assert isinstance(fin, Finished)
    assert fin.failed_step == "preflight" and fin.returncode == 2
    assert f"pid {os.getpid()}" in fin.message and str(venv) in fin.message
    assert not any(isinstance(e, Output) for e in events) and fin.log_path == ""
    r1.cancel()
    async for _ in it:
        pass
    assert not lock_path(venv, state).exists(), "the lock file outlived its run"
    events = await collect(Runner(second, state_dir=state, preflight=False))
    assert isinstance(events[-1], Finished) and events[-1].outcome == "ok"


def test_a_lock_left_by_a_killed_run_is_stale(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    state = tmp_path / "state"
    code = (
        "import sys, time; from pathlib import Path; from torch_wizard.run.lock import VenvLock; "
        "lock = VenvLock(Path(sys.argv[1]), sys.argv[2]); lock.acquire(); "
        "print('locked', flush=True); time.sleep(600)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(venv), str(state)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        busy = VenvLock(venv, state)
        with pytest.raises(Exception, match=f"pid {holder.pid}"):
            busy.acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock_path(venv, state).exists()  # the killed run could not clean up
    lock = VenvLock(venv, state)
    lock.acquire()
    assert lock.stale is not None and lock.stale.pid == holder.pid
    lock.release()
    assert not lock_path(venv, state).exists()


def test_host_network_reads_pip_config_files_and_variables(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\ncert = /corp/ca.pem\nextra-index-url = http://127.0.0.1:9/hostile\n"
        "find-links = /hostile\ntrusted-host = a.example\n  b.example\n[install]\ntimeout = 30\n"
    )
    env = {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "none"), "PIP_RETRIES": "7"}
    env["UV_HTTP_TIMEOUT"] = "99"
    net = host_network(env, home)
    assert net.pip_args == (
        "--cert", "/corp/ca.pem", "--timeout", "30", "--retries", "7",
        "--trusted-host", "a.example", "--trusted-host", "b.example",
    )  # fmt: skip
    assert net.uv_env == {"UV_HTTP_TIMEOUT": "99", "SSL_CERT_FILE": "/corp/ca.pem"}
    assert any("pip.conf" in s for s in net.sources) and "retries from PIP_RETRIES" in net.sources
    # PIP_CONFIG_FILE=/dev/null turns every file off, as in pip.
    assert host_network({**env, "PIP_CONFIG_FILE": os.devnull}, home).pip_args == ("--retries", "7")


def test_preflight_lock_message_reaches_the_console(tmp_path: Path) -> None:
    """The same refusal through the real CLI: exit 2, one line, nothing run."""
    venv = tmp_path / "venv"
    state = tmp_path / "state"
    lock = VenvLock(venv, state / "torch-wizard")
    lock.acquire()
    try:
        env = {**os.environ, "XDG_STATE_HOME": str(state)}
        proc = subprocess.run(
            [PY, "-m", "torch_wizard", "install", "--backend", "cpu", "--packages", "torch",
             "--index-base", "http://127.0.0.1:9/whl", "--venv", str(venv), "--yes"],
            capture_output=True, text=True, env=env, check=False,
            cwd=Path(__file__).resolve().parent.parent, timeout=60,
        )  # fmt: skip
    finally:
        lock.release()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "another torch-wizard run" in proc.stderr and str(venv) in proc.stderr
    assert not venv.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_sigkilled_wizard_takes_its_running_step_with_it(tmp_path: Path) -> None:
    marker = f"tw-pdeathsig-{os.getpid()}"
    code = (
        "import asyncio, sys; from pathlib import Path; "
        "from tests.support.runplan import make_plan; from torch_wizard.plan.model import Step; "
        "from torch_wizard.run.runner import Runner; "
        "step = Step('hang', 'Hang', (sys.executable, '-c', "
        "'import time; print(\"up\", flush=True); time.sleep(600)', sys.argv[2])); "
        "plan = make_plan(Path(sys.argv[1]), step); "
        "r = Runner(plan, state_dir=Path(sys.argv[1]).parent / 'state', preflight=False)\n"
        "async def main():\n"
        "    async for ev in r.events():\n"
        "        print(type(ev).__name__, flush=True)\n"
        "asyncio.run(main())\n"
    )
    wizard = subprocess.Popen(
        [PY, "-c", code, str(tmp_path / "venv"), marker],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert wizard.stdout is not None
    for line in wizard.stdout:
        if line.startswith("Output"):
            break
    assert processes_with_marker(marker), "the step never started"
    wizard.kill()  # SIGKILL: no handler, no finally, no cleanup in the wizard
    wizard.wait()
    deadline = time.monotonic() + 5
    while processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with_marker(marker) == [], "the step outlived a SIGKILLed wizard"


async def test_a_silent_step_gets_watchdog_notices_and_the_step_timeout_ends_it(
    tmp_path: Path,
) -> None:
    marker = f"tw-stall-{os.getpid()}"
    plan = make_plan(
        tmp_path / "venv",
        Step(
            "install-torch",
            "Stall",
            (PY, "-c", "print('start', flush=True); import time; time.sleep(600)", marker),
        ),
    )
    runner = Runner(
        plan,
        state_dir=tmp_path / "state",
        preflight=False,
        grace=0.5,
        stall_notice=0.4,
        step_timeout=1.5,
    )
    events = [ev async for ev in runner.events()]
    notices = [e.text for e in events if isinstance(e, Notice)]
    stalls = [n for n in notices if n.startswith("no output from 'install-torch' for")]
    assert len(stalls) >= 2 and "it is stopped after 1.5 s" in stalls[0]
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.outcome == "failed"
    assert "timed out after 1.5 s" in fin.message
    assert processes_with_marker(marker) == []
    assert "-- no output from 'install-torch'" in Path(fin.log_path).read_text()
