"""The runner over real subprocesses: streaming, batching, failures, signals, timeouts, cancel,
logs, receipts and what happens to the venv."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.runplan import PY, STUBBORN_TREE, make_plan, processes_with_marker, py_step
from torch_wizard.plan.model import Step
from torch_wizard.run.events import (
    Event,
    Finished,
    Notice,
    Output,
    Progress,
    StepFinished,
    StepStarted,
)
from torch_wizard.run.runner import Runner, run_sync


async def collect(runner: Runner, on: object = None) -> list[Event]:
    out: list[Event] = []
    async for ev in runner.events():
        out.append(ev)
        if callable(on):
            on(ev, runner)
    return out


def lines_of(events: list[Event], index: int | None = None) -> list[str]:
    return [
        ln
        for ev in events
        if isinstance(ev, Output) and index in (None, ev.index)
        for ln in ev.lines
    ]


def finished(events: list[Event]) -> Finished:
    assert isinstance(events[-1], Finished)
    return events[-1]


async def test_steps_run_in_order_with_env_cwd_and_log(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    plan = make_plan(
        tmp_path / "venv",
        py_step(
            "one",
            "import os; print('cwd', os.getcwd()); print('X', os.environ['X'])",
            env={"X": "hello world"},
            cwd=str(work),
        ),
        py_step("two", "import os; print('unbuffered', os.environ.get('PYTHONUNBUFFERED'))"),
    )
    runner = Runner(plan, state_dir=tmp_path / "state", preflight=False)
    events = await collect(runner)
    kinds = [type(e).__name__ for e in events if not isinstance(e, Output)]
    assert kinds == ["StepStarted", "StepFinished", "StepStarted", "StepFinished", "Finished"]
    assert lines_of(events, 0) == [f"cwd {work}", "X hello world"]
    assert lines_of(events, 1) == ["unbuffered 1"]
    fin = finished(events)
    assert fin.outcome == "ok" and fin.failed_step == "" and fin.returncode == 0
    log = Path(fin.log_path)
    assert log.parent == tmp_path / "state" / "logs" and log.name.endswith(
        "-torch-2.13.0-cpu-pip.log"
    )
    text = log.read_text()
    assert "#   [1] one: Run one" in text and "env X='hello world'" in text and f"cd {work}" in text
    assert "==> [2/2] two" in text and "<== two: exit 0 after" in text and "== outcome: ok" in text


async def test_failing_step_stops_the_plan_with_tail_and_message(tmp_path: Path) -> None:
    plan = make_plan(
        tmp_path / "venv",
        py_step(
            "bad",
            "import sys\nfor i in range(30): print('line', i)\nprint('ERROR: the thing broke'); sys.exit(4)",
        ),
        py_step("never", "print('must not run')"),
    )
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False))
    fin = finished(events)
    assert fin.outcome == "failed" and fin.failed_step == "bad" and fin.returncode == 4
    assert "exit code 4" in fin.message and "ERROR: the thing broke" in fin.message
    assert len(fin.tail) == 20 and fin.tail[-1] == "ERROR: the thing broke"
    assert not any(isinstance(e, StepStarted) and e.index == 1 for e in events)
    assert "==> [2/2]" not in Path(fin.log_path).read_text()


async def test_missing_executable_is_a_failed_step(tmp_path: Path) -> None:
    plan = make_plan(
        tmp_path / "v", Step("x", "Missing tool", (str(tmp_path / "no-such-tool"), "--version"))
    )
    fin = finished(await collect(Runner(plan, state_dir=tmp_path, preflight=False)))
    assert fin.outcome == "failed" and fin.returncode == 127
    assert "could not start" in fin.message and "no-such-tool" in fin.message


async def test_step_killed_by_a_signal_is_named(tmp_path: Path) -> None:
    plan = make_plan(
        tmp_path / "v",
        py_step(
            "oom",
            "import os, signal; print('bye', flush=True); os.kill(os.getpid(), signal.SIGKILL)",
        ),
    )
    fin = finished(await collect(Runner(plan, state_dir=tmp_path, preflight=False)))
    assert fin.outcome == "failed" and fin.returncode == -signal.SIGKILL
    assert "killed by SIGKILL" in fin.message


async def test_hung_step_times_out_and_leaves_no_process(tmp_path: Path) -> None:
    marker = f"hung-{uuid.uuid4().hex}"
    plan = make_plan(
        tmp_path / "v", Step("hang", "Hang", (PY, "-c", STUBBORN_TREE, marker), timeout=1.0)
    )
    t0 = time.monotonic()
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False, grace=0.5))
    fin = finished(events)
    assert fin.outcome == "failed" and "timed out after 1 s" in fin.message
    assert time.monotonic() - t0 < 5
    assert any(isinstance(e, Notice) for e in events)
    assert processes_with_marker(marker) == []
    assert "-- timed out: stopping the process group" in Path(fin.log_path).read_text()


async def test_cancel_kills_a_grandchild_that_ignores_sigterm(tmp_path: Path) -> None:
    marker = f"stubborn-{uuid.uuid4().hex}"
    plan = make_plan(
        tmp_path / "v",
        Step("tree", "Tree", (PY, "-c", STUBBORN_TREE, marker)),
        py_step("after", "print('no')"),
    )

    def on(ev: Event, runner: Runner) -> None:
        if isinstance(ev, Output) and "grandchild up" in " ".join(lines_of([ev])):
            assert len(processes_with_marker(marker)) == 2
            runner.cancel()

    t0 = time.monotonic()
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False, grace=0.5), on)
    fin = finished(events)
    assert fin.outcome == "cancelled" and fin.failed_step == "tree"
    assert time.monotonic() - t0 < 5
    assert processes_with_marker(marker) == []
    assert not any(isinstance(e, StepStarted) and e.index == 1 for e in events)


async def test_abandoning_the_iterator_stops_the_child(tmp_path: Path) -> None:
    marker = f"abandon-{uuid.uuid4().hex}"
    plan = make_plan(tmp_path / "v", Step("tree", "Tree", (PY, "-c", STUBBORN_TREE, marker)))
    runner = Runner(plan, state_dir=tmp_path, preflight=False, grace=0.3)
    agen = runner.events()
    async for ev in agen:
        if isinstance(ev, Output) and "grandchild up" in ev.lines:
            break
    await agen.aclose()  # type: ignore[attr-defined]
    assert processes_with_marker(marker) == []


async def test_leftover_background_process_is_killed_after_the_step(tmp_path: Path) -> None:
    marker = f"daemon-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', sys.argv[1]])\n"
        "print('leader done')\n"
    )
    plan = make_plan(tmp_path / "v", Step("bg", "Background", (PY, "-c", code, marker)))
    fin = finished(await collect(Runner(plan, state_dir=tmp_path, preflight=False)))
    assert fin.outcome == "ok"
    assert processes_with_marker(marker) == []
    assert "leftover process" in Path(fin.log_path).read_text()


async def test_a_million_lines_are_batched(tmp_path: Path) -> None:
    code = "import sys\nw = sys.stdout.write\nfor i in range(1_000_000): w(f'line {i}\\n')\n"
    plan = make_plan(tmp_path / "v", py_step("many", code))
    t0 = time.monotonic()
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False))
    elapsed = time.monotonic() - t0
    outputs = [e for e in events if isinstance(e, Output)]
    total = sum(len(e.lines) for e in outputs)
    assert total == 1_000_000
    assert outputs[-1].lines[-1] == "line 999999"
    assert len(outputs) < 2000  # batched, not one event per line
    assert elapsed < 20
    assert Path(finished(events).log_path).stat().st_size > 10_000_000


async def test_long_lines_ansi_and_progress_redraws(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.stdout.write('y' * 300_000 + '\\n')\n"
        "sys.stdout.write('\\x1b[31mred\\x1b[0m\\n')\n"
        "for i in range(100): sys.stdout.write(f'\\r{i}%')\n"
        "sys.stdout.write('\\n')\n"
    )
    plan = make_plan(tmp_path / "v", py_step("fancy", code))
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False))
    lines = lines_of(events)
    assert len(lines) == 3 and lines[0].startswith("yyyy") and lines[1:] == ["red", "99%"]
    raw = Path(finished(events).log_path).read_bytes()
    assert b"\x1b[31mred" in raw and b"y" * 300_000 in raw


async def test_pip_progress_events(tmp_path: Path) -> None:
    code = (
        "import time\n"
        "print('  Downloading http://h/whl/cpu/torch/torch-2.13.0%2Bcpu-cp311-cp311-linux_x86_64.whl (2.0 MB)')\n"
        "for n in (0, 1000000, 2000000):\n"
        "    print(f'Progress {n} of 2000000'); time.sleep(0.08)\n"
    )
    plan = make_plan(
        tmp_path / "v", Step("install-torch", "Install", (PY, "-c", code), progress="pip")
    )
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False))
    progress = [e for e in events if isinstance(e, Progress) and e.total]
    assert progress and progress[-1].done == 2_000_000 and progress[-1].total == 2_000_000
    assert progress[-1].label == "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl"
    assert not any("Progress" in ln for ln in lines_of(events))


async def test_created_venv_is_removed_when_the_run_fails_before_torch(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    plan = make_plan(
        venv,
        Step(
            "create-venv",
            "Create",
            (
                PY,
                "-c",
                f"import os; os.makedirs({str(venv)!r}); open(os.path.join({str(venv)!r}, 'pyvenv.cfg'), 'w').close()",
            ),
        ),
        py_step("install-torch", "import sys; print('ERROR: no torch for you'); sys.exit(1)"),
    )
    fin = finished(await collect(Runner(plan, state_dir=tmp_path, preflight=False)))
    assert fin.outcome == "failed" and fin.venv_state == "removed"
    assert not venv.exists() and "was removed" in fin.venv_note
    assert fin.receipt_path == ""


async def test_existing_venv_is_never_deleted_and_gets_a_receipt(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    (venv / "keep.txt").write_text("mine")
    plan = make_plan(venv, py_step("install-torch", "import sys; sys.exit(2)"))
    fin = finished(await collect(Runner(plan, state_dir=tmp_path, preflight=False)))
    assert fin.venv_state == "existing" and (venv / "keep.txt").read_text() == "mine"
    receipt = json.loads(Path(fin.receipt_path).read_text())
    assert receipt["outcome"] == "failed" and receipt["failed_step"] == "install-torch"
    assert receipt["plan"]["choice"]["venv"] == str(venv)
    assert receipt["steps"][0]["returncode"] == 2


async def test_empty_venv_dir_is_emptied_not_deleted(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    plan = make_plan(
        venv,
        py_step("create-venv", f"import pathlib; pathlib.Path({str(venv)!r}, 'bin').mkdir()"),
        py_step("install-torch", "import sys; sys.exit(1)"),
    )
    fin = finished(await collect(Runner(plan, state_dir=tmp_path, preflight=False)))
    assert fin.venv_state == "removed" and venv.is_dir() and list(venv.iterdir()) == []


async def test_cancel_before_start_runs_nothing(tmp_path: Path) -> None:
    plan = make_plan(tmp_path / "v", py_step("one", "print('x')"))
    runner = Runner(plan, state_dir=tmp_path, preflight=False)
    runner.cancel()
    events = await collect(runner)
    assert [type(e) for e in events] == [Finished] and finished(events).outcome == "cancelled"


async def test_step_events_carry_durations(tmp_path: Path) -> None:
    plan = make_plan(tmp_path / "v", py_step("sleep", "import time; time.sleep(0.3)"))
    events = await collect(Runner(plan, state_dir=tmp_path, preflight=False))
    done = [e for e in events if isinstance(e, StepFinished)]
    assert done[0].returncode == 0 and 0.25 < done[0].duration < 5


def test_run_sync_cancels_on_sigint(tmp_path: Path) -> None:
    marker = f"sync-{uuid.uuid4().hex}"
    plan = make_plan(tmp_path / "v", Step("tree", "Tree", (PY, "-c", STUBBORN_TREE, marker)))

    def on(ev: Event) -> None:
        if isinstance(ev, Output) and "grandchild up" in ev.lines:
            os.kill(os.getpid(), signal.SIGINT)

    fin = run_sync(plan, on, state_dir=tmp_path, preflight=False, grace=0.3)
    assert fin.outcome == "cancelled"
    assert processes_with_marker(marker) == []


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
async def test_preflight_failure_runs_nothing(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("not a dir")
    plan = make_plan(target, py_step("create-venv", "print('ran')"))
    fin = finished(await collect(Runner(plan, state_dir=tmp_path)))
    assert fin.outcome == "failed" and fin.failed_step == "preflight" and fin.returncode == 2
    assert "is a file" in fin.message
    # nothing ran and nothing was written: not even a log file
    assert fin.log_path == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_asyncio_default_loop_unaffected() -> None:
    # run_sync must restore signal handling: SIGINT raises KeyboardInterrupt again afterwards.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    asyncio.run(asyncio.sleep(0))
