"""Run a plan: each step's argv as a child process, streaming events, logging, cancelling cleanly.

``Runner(plan).events()`` is an async iterator of ``torch_wizard.run.events`` values ending with one
``Finished``. Children get ``stdin=DEVNULL``, stdout and stderr on one pipe, their own session (so
a terminal's signals and a Textual app's TTY never reach them). Output is read in fixed-size
chunks (no line-length limit), normalised by ``torch_wizard.run.lines`` and batched into ``Output``
events at most every ``batch_interval`` seconds (or ``batch_lines`` lines), so a UI keeps up with
a million lines. The log file gets the raw bytes.

What a step runs with is ``torch_wizard.plan.isolation.step_environ(inherited, step.env)`` (the host's
pip/uv/Python variables removed) plus the one thing a plan cannot know: ``TMPDIR`` (``TEMP`` and
``TMP`` on Windows), a private directory per run, removed at the end however the run ends, so no
pip or uv leftovers stay in /tmp. A run holds a lock on its venv (``torch_wizard.run.lock``): a second
run into the same venv stops in pre-flight naming the first. An optional step (upgrading pip)
that fails does not stop the plan; the steps after it run their ``fallback`` argv.

Stopping (``cancel()``, a step's timeout, or the consumer abandoning the iterator): SIGTERM to the
step's process group, up to ``grace`` seconds for the group to exit, then SIGKILL to the group;
the child is always awaited. Processes left in the group after a step exits are killed too.

``run_sync(plan, on_event)`` is the blocking wrapper for the console (SIGINT/SIGTERM cancel).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from torch_wizard.plan.isolation import NOTE as ISOLATION_NOTE
from torch_wizard.plan.isolation import step_environ
from torch_wizard.plan.model import Plan, Step
from torch_wizard.run.events import (
    Event,
    Finished,
    Notice,
    Outcome,
    Output,
    Progress,
    StepFinished,
    StepStarted,
    VenvState,
)
from torch_wizard.run.lines import LineSplitter, ProgressParser, Reading
from torch_wizard.run.lock import VenvBusy, VenvLock
from torch_wizard.run.paths import log_dir, missing_folders, new_log_path, remove_empty
from torch_wizard.run.verify import MARKER, VerifyReport, diagnose, parse_report

CHUNK = 64 * 1024
TAIL = 20
DRAIN = (
    1.0  # seconds to keep reading after a step's process exited (a descendant may hold the pipe)
)
# Signals that mean the program itself crashed, not that something stopped it.
CRASH_SIGNALS = {
    int(getattr(signal, n))
    for n in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGSYS")
    if hasattr(signal, n)
}
INSTALLS_TORCH = ("install-torch", "build")  # the wheel install, or a source build's pip install
VERIFY_KEEP = 2000  # lines of the verify step kept to find its report


@dataclass
class _StepRun:
    returncode: int = 0
    duration: float = 0.0
    started: float = 0.0
    stopped: str = ""  # "", "cancelled", "timeout"
    timeout: float = 0.0  # the limit the step ran under (its own, or the runner's --step-timeout)
    error: str = ""  # could not start
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=TAIL))
    kept: list[str] = field(default_factory=list)
    leftovers: int = 0


def _venv_before(venv: Path) -> str:
    try:
        return _venv_state(venv)
    except (OSError, ValueError):
        return "absent"  # a path that cannot be looked at: pre-flight names why


def _venv_state(venv: Path) -> str:
    if not venv.exists() and not venv.is_symlink():
        return "absent"
    if venv.is_dir():
        if (venv / "pyvenv.cfg").is_file():
            return "venv"
        if not any(venv.iterdir()):
            return "empty"
    return "other"


def _group_members(pgid: int) -> int:
    """Live (non-zombie) processes in process group ``pgid``; Linux reads /proc, others ask kill."""
    proc = Path("/proc")
    if sys.platform.startswith("linux") and proc.is_dir():
        count = 0
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
                count += 1
        return count
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return 0
    return 1


_PARENT_DEATH: dict[int, Callable[[], None] | None] = {}  # by the wizard's pid (a fork rebuilds)


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a ``preexec_fn`` that asks the kernel to SIGKILL the child when the wizard dies
    (``prctl(PR_SET_PDEATHSIG)``), so even a SIGKILL of the wizard leaves no step running. Only
    the step's own process gets it; its descendants share its process group, which every normal
    end of a step kills. Elsewhere None: macOS and Windows have no such call (the process group,
    and on Windows the psutil tree walk, are what they get)."""
    parent = os.getpid()
    if parent in _PARENT_DEATH or not sys.platform.startswith("linux"):
        return _PARENT_DEATH.get(parent)
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        _PARENT_DEATH[parent] = None
        return None

    def preexec() -> None:  # in the child, between fork and exec: no allocation-heavy work
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG = 1
        if os.getppid() != parent:  # the wizard died before prctl took effect
            os._exit(1)

    _PARENT_DEATH[parent] = preexec
    return preexec


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _index_url(step: Step) -> str:
    argv = list(step.argv)
    for flag in ("--index-url", "-i", "--default-index"):
        if flag in argv and argv.index(flag) + 1 < len(argv):
            return argv[argv.index(flag) + 1]
    return ""


def _probe_index(url: str, project: str = "torch", timeout: float = 5.0) -> str:
    """A sentence about the index when it does not answer 200 for the project page, else ""."""
    import urllib.error
    import urllib.request

    page = url.rstrip("/") + f"/{project}/"
    if not page.startswith(("http://", "https://")):
        return ""
    try:
        with urllib.request.urlopen(page, timeout=timeout) as resp:  # noqa: S310 (http(s) only)
            resp.read(1)
        return ""
    except urllib.error.HTTPError as err:
        return f"the index {page} answered HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        return f"the index {page} cannot be reached ({reason})"


def failure_message(step: Step, run: _StepRun, tail: tuple[str, ...], index_note: str) -> str:
    """One or two sentences: which step failed, how, and the most telling line of its output."""
    name = f"step '{step.id}' ({step.title})"
    if run.error:
        return f"{name} could not start: {run.error}"
    if run.stopped == "timeout":
        return f"{name} timed out after {run.timeout or step.timeout:g} s and was stopped"
    if run.returncode < 0:
        sig = _signal_name(run.returncode)
        if -run.returncode in CRASH_SIGNALS:
            return f"{name} crashed with {sig} (see the log for its last output)"
        return f"{name} was killed by {sig}"
    text = "\n".join(tail)
    msg = f"{name} failed with exit code {run.returncode}"
    if "No space left on device" in text:
        return (
            f"{msg}: the disk is full (No space left on device); free some space and run it again"
        )
    if index_note:
        return f"{msg}: {index_note}; check --index-base and the backend"
    errors = [
        line.strip() for line in tail if line.strip().startswith(("ERROR:", "error:", "\u00d7"))
    ]
    crash = traceback_error(tail)
    if crash:  # pip's own "ERROR: Exception:" heads a traceback: its last line says what died
        return f"{msg}: it crashed with {crash}"
    if errors:
        return f"{msg}: {errors[-1]}"
    return msg


def traceback_error(tail: Sequence[str]) -> str:
    """The last line of the last Python traceback in ``tail`` (``OSError: [Errno 5] ...``), the
    one line that says what a crashed pip or build script died of; "" when there is none."""
    lines = list(tail)
    starts = [
        i
        for i, line in enumerate(lines)
        if line.startswith("Traceback (most recent call") or line.startswith('  File "')
    ]
    if not starts:
        return ""
    found = ""
    for line in lines[starts[-1] + 1 :]:
        if line and not line[0].isspace() and not line.startswith("Traceback"):
            found = line.strip()
    return found[:300]


class Runner:
    """Run ``plan``'s steps in order; a failing step stops the plan. See the module docstring."""

    def __init__(
        self,
        plan: Plan,
        log_path: str | os.PathLike[str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        grace: float = 3.0,
        batch_interval: float = 0.05,
        batch_lines: int = 2000,
        preflight: bool = True,
        env: Mapping[str, str] | None = None,
        write_receipt: bool = True,
        step_timeout: float = 0.0,
        stall_notice: float = 30.0,
    ) -> None:
        self.plan = plan
        self.log_path = Path(log_path) if log_path else new_log_path(plan, log_dir(state_dir))
        self.log_given = bool(log_path)
        self.state_dir = state_dir
        self.step_timeout = step_timeout  # for steps without their own timeout; 0 = none
        # Seconds of silence before a notice (0 = never); with a step timeout, at half of it at
        # the latest, so a stalled step is reported before it is stopped.
        self.stall_notice = stall_notice
        if step_timeout > 0 and (stall_notice <= 0 or stall_notice > step_timeout / 2):
            self.stall_notice = step_timeout / 2
        self.tmp_dir = ""  # the run's private TMPDIR while it runs
        self.grace = grace
        self.batch_interval = batch_interval
        self.batch_lines = batch_lines
        self.preflight = preflight
        self.base_env = dict(os.environ if env is None else env)
        self.write_receipt = write_receipt
        self.result: Finished | None = None
        self._cancel_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel_event: asyncio.Event | None = None

    # ----------------------------------------------------------------------------------------
    # Control

    def cancel(self, force: bool = False) -> None:
        """Stop the run (thread-safe). ``force`` skips the grace period (a second Ctrl+C)."""
        self._cancel_requested = True
        if force:
            self.grace = 0.0
        if self._loop is not None and self._cancel_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self._loop.call_soon_threadsafe(self._cancel_event.set)

    @property
    def cancelled(self) -> bool:
        return self._cancel_requested

    # ----------------------------------------------------------------------------------------
    # The run

    async def events(self) -> AsyncIterator[Event]:
        self._loop = asyncio.get_running_loop()
        self._cancel_event = asyncio.Event()
        if self._cancel_requested:
            self._cancel_event.set()
        plan = self.plan
        t0 = time.monotonic()
        venv = Path(os.path.expanduser(plan.choice.venv))
        before = _venv_before(venv)
        # Pre-flight first: a plan that cannot start writes nothing, not even a log.
        problems: list[str] = []
        if self.preflight:
            from torch_wizard.run.preflight import check_plan

            problems = await asyncio.to_thread(check_plan, plan)
        lock = VenvLock(venv, self.state_dir)
        if not problems:
            from torch_wizard.run.paths import state_problem

            where = state_problem(
                self.log_path,
                lock.path,
                log_given=self.log_given,
                default_state=not self.state_dir,
            )
            problems = [where] if where else []
        log: IO[bytes] | None = None
        made = missing_folders(lock.path.parent, self.log_path.parent)
        if not problems:
            try:
                lock.acquire()
            except VenvBusy as err:
                problems = [str(err)]
            except OSError as err:
                problems = [
                    f"cannot keep the run's lock at {lock.path} ({err.strerror}): "
                    + (
                        "set XDG_STATE_HOME to a folder you can write"
                        if not self.state_dir
                        else "choose a state folder you can write"
                    )
                ]
        if not problems:
            try:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                log = open(self.log_path, "ab")  # noqa: SIM115 (closed in _run)
            except OSError as err:
                lock.release()
                remove_empty(made)  # the lock's folders, made a moment ago: nothing is left
                problems = [
                    f"cannot write the log {self.log_path} ({err.strerror}): "
                    + (
                        "pass --log with a file you can write"
                        if self.log_given
                        else "set XDG_STATE_HOME to a folder you can write"
                    )
                ]
        if problems:
            msg = problems[0] + (
                f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            )
            fin = Finished(
                "failed",
                msg,
                failed_step="preflight",
                returncode=2,
                venv_state="existing" if before == "venv" else "absent",
                venv_note="Nothing was run and nothing was written.",
                problems=tuple(problems),
                duration=time.monotonic() - t0,
            )
            self.result = fin
            yield fin
            return
        try:
            base_tmp = self.base_env.get("TMPDIR", "")
            self.tmp_dir = tempfile.mkdtemp(
                prefix="torch-wizard-run-", dir=base_tmp if os.path.isdir(base_tmp) else None
            )
            if log is None:  # pragma: no cover - no problems means the log is open
                raise RuntimeError("the log is not open")
            async with contextlib.aclosing(self._run(venv, before, t0, lock, log)) as events:
                async for ev in events:
                    yield ev
        finally:
            if log is not None:
                log.close()
            if self.tmp_dir:
                shutil.rmtree(self.tmp_dir, ignore_errors=True)
            lock.release()

    async def _run(
        self, venv: Path, before: str, t0: float, lock: VenvLock, opened: IO[bytes]
    ) -> AsyncGenerator[Event, None]:
        plan = self.plan
        with opened as log:
            self._log_header(log)
            if lock.stale is not None:
                self._log(
                    log,
                    f"# took over a stale lock of pid {lock.stale.pid} (started "
                    f"{lock.stale.started}), which is no longer running",
                )
            outcome: Outcome = "ok"
            failed: Step | None = None
            failed_run = _StepRun()
            records: list[tuple[Step, _StepRun]] = []
            report: VerifyReport | None = None
            installed = not any(s.id in INSTALLS_TORCH for s in plan.steps)
            total = len(plan.steps)
            optional_failed = False
            for i, planned in enumerate(plan.steps):
                if self._cancel_requested:
                    outcome = "cancelled"
                    break
                step = planned
                if optional_failed and planned.fallback:
                    step = replace(planned, argv=planned.fallback, fallback=())
                yield StepStarted(i, step)
                run = _StepRun(started=time.time())
                self._log(
                    log,
                    f"\n==> [{i + 1}/{total}] {step.id}: {step.title}  ({time.strftime('%H:%M:%S')})",
                )
                self._log(log, "$ " + shlex.join(step.argv))
                # aclosing: abandoning this iterator must close the step's too (its finally stops
                # the child processes) before the log file closes.
                step_iter = self._run_step(i, step, log, run)
                async with contextlib.aclosing(step_iter) as step_events:
                    async for ev in step_events:
                        yield ev
                yield StepFinished(i, run.returncode, run.duration)
                self._log(
                    log,
                    f"<== {step.id}: exit {run.returncode} after {run.duration:.2f} s"
                    + (f" ({run.stopped})" if run.stopped else ""),
                )
                records.append((step, run))
                if step.id == "verify":
                    report = parse_report("\n".join(run.kept))
                if run.stopped == "cancelled":
                    outcome, failed, failed_run = "cancelled", step, run
                    break
                if (run.returncode != 0 or run.error) and step.optional:
                    optional_failed = True
                    note = (
                        f"'{step.id}' failed (exit {run.returncode}) but is optional: the plan goes "
                        "on"
                        + (
                            ", later steps with their fallback command"
                            if any(s.fallback for s in plan.steps[i + 1 :])
                            else ""
                        )
                    )
                    self._log(log, f"-- {note}")
                    yield Notice(i, note)
                    continue
                if run.returncode != 0 or run.error:
                    outcome, failed, failed_run = "failed", step, run
                    break
                if step.id in INSTALLS_TORCH:
                    installed = True

            state, note = self._settle_venv(venv, before, outcome, installed)
            self._log(log, f"venv: {note}")
            tail = tuple(failed_run.tail)
            diagnoses: tuple[str, ...] = ()
            if outcome == "ok":
                message = f"All {total} steps finished"
                if report is not None:
                    message = f"torch {report.torch} works on {report.device}"
                    if report.gflops:
                        message += f" ({report.gflops:g} GFLOP/s on a 1024x1024 matmul)"
            elif outcome == "cancelled":
                where = f" during step '{failed.id}'" if failed else ""
                message = f"Cancelled{where}"
            elif failed is not None:
                index_note = ""
                if failed.id == "install-torch" and failed_run.returncode > 0:
                    url = _index_url(failed)
                    if url:
                        index_note = await asyncio.to_thread(_probe_index, url)
                message = failure_message(failed, failed_run, tail, index_note)
                if failed.id == "verify" and not failed_run.stopped and failed_run.returncode >= 0:
                    diagnoses = tuple(diagnose(report, plan.choice.backend, plan.choice.torch))
                    if diagnoses:
                        message = f"verification failed: {diagnoses[0]}"
            else:  # pragma: no cover - a failed outcome always names its step
                message = "The run failed"
            receipt = ""
            if self.write_receipt and state in ("created", "existing") and venv.is_dir():
                receipt = self._write_receipt(
                    venv, outcome, message, failed, records, report, t0, log
                )
            fin = Finished(
                outcome,
                message,
                log_path=str(self.log_path),
                receipt_path=receipt,
                failed_step=failed.id if failed else "",
                returncode=failed_run.returncode if failed else 0,
                tail=tail,
                venv_state=state,
                venv_note=note,
                verify=report,
                problems=diagnoses,
                duration=time.monotonic() - t0,
            )
            self._log(log, f"== outcome: {outcome}: {message} ({fin.duration:.1f} s)")
            self.result = fin
        yield fin

    async def _run_step(
        self, index: int, step: Step, log: IO[bytes], run: _StepRun
    ) -> AsyncGenerator[Event, None]:
        loop = asyncio.get_running_loop()
        cancel_event = self._cancel_event or asyncio.Event()
        env = step_environ(self.base_env, step.env)
        if self.tmp_dir:
            env["TMPDIR"] = self.tmp_dir
            if os.name == "nt":  # pragma: no cover - Windows
                env["TEMP"] = env["TMP"] = self.tmp_dir
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
            preexec = _die_with_parent()
            if preexec is not None:
                kwargs["preexec_fn"] = preexec
        else:  # pragma: no cover - Windows
            kwargs["creationflags"] = getattr(
                __import__("subprocess"), "CREATE_NEW_PROCESS_GROUP", 0
            )
        start = loop.time()
        try:
            proc = await asyncio.create_subprocess_exec(
                *step.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=step.cwd or None,
                env=env,
                **kwargs,
            )
        except OSError as err:
            run.error = f"{step.argv[0] if step.argv else '(empty argv)'}: {err.strerror or err}"
            run.returncode = 127
            run.tail.append(run.error)
            self._log(log, f"could not start: {run.error}")
            yield Output(index, (run.error,))
            return
        if proc.stdout is None:  # pragma: no cover - stdout=PIPE always gives a reader
            raise RuntimeError("no stdout pipe")
        pgid = proc.pid
        splitter = LineSplitter()
        parser = ProgressParser(step.progress)
        keep = step.id == "verify"
        limit_s = step.timeout or self.step_timeout
        run.timeout = limit_s
        deadline = start + limit_s if limit_s > 0 else None
        # The watchdog: a step that prints nothing for ``stall_notice`` seconds (a stalled
        # download) gets a notice, again at each multiple, so the user is never left guessing.
        last_data = start
        stall_marks = 0
        pending: list[str] = []
        reading: Reading | None = None
        last_flush = loop.time()
        exited_at: float | None = None
        read_task: asyncio.Task[bytes] | None = asyncio.ensure_future(proc.stdout.read(CHUNK))
        wait_task = asyncio.ensure_future(proc.wait())
        cancel_task = asyncio.ensure_future(cancel_event.wait())

        def take(lines: list[str]) -> None:
            nonlocal reading
            for line in lines:
                got, hide = parser.read(line)
                if got is not None:
                    reading = got
                if keep and len(run.kept) < VERIFY_KEEP:
                    run.kept.append(line)
                if hide or (keep and line.startswith(MARKER)):
                    continue
                pending.append(line)
                run.tail.append(line)

        try:
            while True:
                now = loop.time()
                limits = []
                if pending or reading is not None:
                    limits.append(last_flush + self.batch_interval - now)
                if deadline is not None:
                    limits.append(deadline - now)
                if self.stall_notice > 0 and exited_at is None:
                    limits.append(last_data + self.stall_notice * (stall_marks + 1) - now)
                if exited_at is not None:
                    limits.append(exited_at + DRAIN - now)
                else:
                    # asyncio's wait() returns only once the pipe closes too; returncode is set
                    # as soon as the process exits, so poll it (a descendant may hold the pipe).
                    limits.append(0.1)
                timeout = max(0.0, min(limits)) if limits else None
                waiting: set[asyncio.Future[Any]] = {cancel_task}
                if read_task is not None:
                    waiting.add(read_task)
                if not wait_task.done():
                    waiting.add(wait_task)
                await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if read_task is not None and read_task.done():
                    chunk = read_task.result()
                    if chunk:
                        last_data = loop.time()
                        stall_marks = 0
                        log.write(chunk)
                        take(splitter.feed(chunk))
                        read_task = asyncio.ensure_future(proc.stdout.read(CHUNK))
                    else:
                        read_task = None
                if proc.returncode is not None and exited_at is None:
                    exited_at = loop.time()
                if read_task is None and wait_task.done():
                    break
                now = loop.time()
                if cancel_task.done():
                    run.stopped = "cancelled"
                    break
                if deadline is not None and now >= deadline:
                    run.stopped = "timeout"
                    break
                quiet = now - last_data
                if (
                    self.stall_notice > 0
                    and exited_at is None
                    and quiet >= self.stall_notice * (stall_marks + 1)
                ):
                    stall_marks += 1
                    what = f"no output from '{step.id}' for {round(quiet, 1):g} s"
                    hint = (
                        f"it is stopped after {limit_s:g} s"
                        if limit_s > 0
                        else "cancel it, or set --step-timeout"
                    )
                    self._log(log, f"-- {what}")
                    yield Notice(index, f"{what} (a stalled download or a slow step): {hint}")
                if exited_at is not None and now >= exited_at + DRAIN:
                    break  # the step is over; a leftover descendant still holds the pipe
                if len(pending) >= self.batch_lines or (
                    (pending or reading is not None) and now - last_flush >= self.batch_interval
                ):
                    if pending:
                        yield Output(index, tuple(pending))
                        pending.clear()
                    if reading is not None:
                        yield Progress(index, reading.done, reading.total, reading.label)
                        reading = None
                    last_flush = now
        finally:
            cancel_task.cancel()
            if run.stopped:
                what = "timed out" if run.stopped == "timeout" else "cancelled"
                self._log(
                    log, f"\n-- {what}: stopping the process group {pgid} (grace {self.grace:g} s)"
                )
            run.leftovers = await self._stop(proc, pgid, wait_task)
            if read_task is not None:
                read_task.cancel()
                with contextlib.suppress(BaseException):
                    await read_task
            wait_task.cancel()
        # What the stopped process wrote last (pip's "Operation cancelled" and the like).
        with contextlib.suppress(asyncio.TimeoutError, OSError):
            while True:
                chunk = await asyncio.wait_for(proc.stdout.read(CHUNK), 0.2)
                if not chunk:
                    break
                log.write(chunk)
                take(splitter.feed(chunk))
        take(splitter.flush())
        run.returncode = proc.returncode if proc.returncode is not None else -9
        run.duration = loop.time() - start
        if run.stopped == "timeout":
            yield Notice(index, f"'{step.id}' timed out after {limit_s:g} s; stopped it")
        if run.leftovers:
            self._log(log, f"-- killed {run.leftovers} leftover process(es) of step {step.id}")
        if pending:
            yield Output(index, tuple(pending))
        if reading is not None:
            yield Progress(index, reading.done, reading.total, reading.label)

    async def _stop(
        self, proc: asyncio.subprocess.Process, pgid: int, wait_task: asyncio.Future[int]
    ) -> int:
        """End the step's process group; return how many leftovers were killed after the leader exited."""
        if os.name != "posix":  # pragma: no cover - Windows: no process groups to signal
            return await self._stop_tree(proc)
        leftovers = 0
        if proc.returncode is None:
            _signal_group(pgid, signal.SIGTERM)
            end = time.monotonic() + self.grace
            while time.monotonic() < end:
                if proc.returncode is not None and _group_members(pgid) == 0:
                    break
                await asyncio.sleep(0.05)
        else:
            leftovers = _group_members(pgid)
        _signal_group(pgid, signal.SIGKILL)
        await proc.wait()
        # SIGKILL is delivered asynchronously: wait (briefly) until the group is really gone.
        end = time.monotonic() + 2.0
        while _group_members(pgid) and time.monotonic() < end:
            await asyncio.sleep(0.02)
        return leftovers

    async def _stop_tree(self, proc: asyncio.subprocess.Process) -> int:  # pragma: no cover
        """Windows: end the child and every descendant (psutil walks the tree the OS keeps; a
        job object would also catch orphans re-parented away, which psutil cannot see)."""
        import psutil  # type: ignore[import-untyped,unused-ignore]

        try:
            tree = [psutil.Process(proc.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.Error:
            tree = []
        leftovers = 0 if proc.returncode is None else max(0, len(tree) - 1)
        for p in tree:
            with contextlib.suppress(psutil.Error):
                p.terminate()
        _, alive = await asyncio.to_thread(psutil.wait_procs, tree, self.grace)
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.kill()
        await asyncio.to_thread(psutil.wait_procs, alive, 2.0)
        await proc.wait()
        return leftovers

    # ----------------------------------------------------------------------------------------
    # Log, venv, receipt

    @staticmethod
    def _log(log: IO[bytes], text: str) -> None:
        log.write((text + "\n").encode("utf-8", "replace"))
        log.flush()

    def _log_header(self, log: IO[bytes]) -> None:
        from torch_wizard import __version__

        plan = self.plan
        c = plan.choice
        lines = [
            f"# torch-wizard {__version__}: run started {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
            f"# torch {c.torch} ({c.backend}) via {c.installer} into {c.venv}",
            f"# index: {c.index_url or '(PyPI)'}",
            f"# isolation: {ISOLATION_NOTE}",
            f"# TMPDIR {self.tmp_dir} (private to this run, removed at the end)",
            "# plan:",
        ]
        for n, step in enumerate(plan.steps, 1):
            lines.append(f"#   [{n}] {step.id}: {step.title}")
            if step.cwd:
                lines.append(f"#       cd {shlex.quote(step.cwd)}")
            if step.env:
                lines.append(
                    "#       env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in step.env.items())
                )
            lines.append("#       " + shlex.join(step.argv).replace("\n", "\n#       "))
            if step.optional:
                lines.append("#       optional: a failure does not stop the plan")
            if step.fallback:
                lines.append(
                    "#       after a failed optional step: "
                    + shlex.join(step.fallback).replace("\n", "\n#       ")
                )
            if step.timeout:
                lines.append(f"#       timeout {step.timeout:g} s")
        self._log(log, "\n".join(lines))

    def _settle_venv(
        self, venv: Path, before: str, outcome: Outcome, installed: bool
    ) -> tuple[VenvState, str]:
        created = before in ("absent", "empty")
        exists = venv.is_dir()
        if not created:
            if outcome == "ok":
                return "existing", f"The existing venv {venv} now holds the install."
            return "existing", (
                f"The existing venv {venv} was kept (never deleted); the failed step may have "
                "changed some packages in it."
            )
        if not exists:
            return "absent", f"The venv {venv} was not created."
        if outcome == "ok" or installed:
            if outcome == "ok":
                return "created", f"The new venv {venv} holds the install."
            return "created", (
                f"The new venv {venv} was kept: torch is installed in it but the run did not finish "
                "cleanly; 'torch-wizard doctor --venv' inspects it."
            )
        try:
            if before == "empty":
                for child in venv.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            else:
                shutil.rmtree(venv)
        except OSError as err:
            return "partial", (
                f"The new venv {venv} is incomplete and could not be removed ({err.strerror}); "
                "delete it by hand."
            )
        what = "emptied again" if before == "empty" else "removed"
        return (
            "removed",
            f"The new venv {venv} was {what}, since the run stopped before torch was installed.",
        )

    def _write_receipt(
        self,
        venv: Path,
        outcome: Outcome,
        message: str,
        failed: Step | None,
        records: list[tuple[Step, _StepRun]],
        report: VerifyReport | None,
        t0: float,
        log: IO[bytes],
    ) -> str:
        from torch_wizard import __version__
        from torch_wizard.run.receipt import Receipt, StepRecord, now_iso, write_receipt

        receipt = Receipt(
            outcome=outcome,
            message=message,
            plan=self.plan,
            steps=tuple(
                StepRecord(s.id, r.returncode, round(r.duration, 3), now_iso(r.started))
                for s, r in records
            ),
            created=now_iso(),
            wizard_version=__version__,
            log_path=str(self.log_path),
            failed_step=failed.id if failed else "",
            duration=round(time.monotonic() - t0, 3),
            torch=report.torch if report else "",
            packages=dict(report.packages) if report else None,
            verify=report,
        )
        try:
            return str(write_receipt(venv, receipt))
        except OSError as err:
            self._log(log, f"receipt: could not write into {venv}: {err}")
            return ""


def run_sync(
    plan: Plan,
    on_event: Callable[[Event], None],
    runner: Runner | None = None,
    **kwargs: Any,
) -> Finished:
    """Run ``plan`` to the end, calling ``on_event`` for each event. SIGINT/SIGTERM cancel the run
    (a second SIGINT skips the grace period). Returns the ``Finished`` event."""
    r = runner or Runner(plan, **kwargs)

    async def main() -> Finished:
        loop = asyncio.get_running_loop()
        hooked: list[signal.Signals] = []

        def interrupt() -> None:
            r.cancel(force=r.cancelled)

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, interrupt)
                hooked.append(sig)
        try:
            async for ev in r.events():
                on_event(ev)
        finally:
            for sig in hooked:
                loop.remove_signal_handler(sig)
        if r.result is None:  # pragma: no cover - events() always ends with Finished
            raise RuntimeError("the run ended without a result")
        return r.result

    return asyncio.run(main())
