"""``torch-wizard install``: plan (or load a saved plan) and run it, streaming its output.

Without ``--yes`` the plan is printed and nothing runs: on a terminal the user is asked, elsewhere
the command exits 2 asking for ``--yes``. Exit codes: 0 when the install verified, 1 when a step
failed, 2 for bad input or a pre-flight problem (nothing was run), 130 when cancelled (Ctrl+C).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shlex
import sys
from collections.abc import Sequence
from typing import Literal, Protocol, TextIO

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import SCHEMA_VERSION, Choices, Plan, SourceOptions, Step
from torch_wizard.run.events import (
    Event,
    Finished,
    Notice,
    Output,
    Progress,
    StepFinished,
    StepStarted,
)

PROG = "torch-wizard"


def load_plan(path: str) -> Plan:
    """A plan saved by ``plan --format json``; UsageError (exit 2) naming the fix otherwise."""
    from torch_wizard.files import read_small_text
    from torch_wizard.serial import SchemaError, from_json

    # A regular file of sane size only: a FIFO would block, /dev/zero would fill the memory.
    text = read_small_text(path, "--plan", "save one with 'torch-wizard plan --format json > FILE'")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise UsageError(
            f"--plan {path} is not JSON ({err}): save it with 'torch-wizard plan --format json'"
        ) from None
    check_schema(data, path)
    try:
        plan = from_json(Plan, data)
    except SchemaError as err:
        raise UsageError(
            f"--plan {path} is not a torch-wizard plan ({err}): save it with 'torch-wizard plan --format json'"
        ) from None
    if not plan.steps or any(not s.argv for s in plan.steps):
        raise UsageError(
            f"--plan {path} has a step without a command: save it again with 'torch-wizard plan --format json'"
        )
    return plan


def check_schema(data: object, path: str) -> None:
    """A plan of another schema version (or none) is refused before its fields are read."""
    if not isinstance(data, dict):
        return  # not a plan at all: from_json names what is missing
    version = data.get("schema_version")
    if type(version) is int and version == SCHEMA_VERSION:
        return
    shown = "no schema_version" if version is None else f"schema version {version!r}"
    raise UsageError(
        f"--plan {path} has {shown}, but this torch-wizard runs plans of schema version "
        f"{SCHEMA_VERSION}: make the plan again with this torch-wizard's "
        "'torch-wizard plan --format json'"
    )


# --------------------------------------------------------------------------------------------------
# Where a plan may come from: this machine only, and a saved plan only as torch-wizard made it


def _option_flags() -> dict[str, str]:
    """dest -> flag of every TARGET and CHOICES option (from the parser, so never out of date)."""
    from torch_wizard.cli import add_choice_options, add_target_options

    probe = argparse.ArgumentParser(add_help=False)
    add_target_options(probe)
    add_choice_options(probe)
    return {a.dest: a.option_strings[0] for a in probe._actions if a.option_strings}


def _given(args: argparse.Namespace, dest: str) -> bool:
    return getattr(args, dest, None) not in (None, False)


def refuse_another_machine(args: argparse.Namespace) -> None:
    """``install`` installs here, so it plans for this machine: no --profile or --root."""
    for dest, flag, what in (
        ("profile", "--profile FILE", "a profile of another machine"),
        ("root", "--root DIR", "a machine root of another machine"),
    ):
        if _given(args, dest):
            raise UsageError(
                f"install runs on the machine it plans for, and {flag} names {what}: make the "
                f"plan with 'torch-wizard plan {flag} --format json > plan.json' and run "
                "'torch-wizard install --plan plan.json' on that machine"
            )


def refuse_options_with_plan(args: argparse.Namespace) -> None:
    """A saved plan runs as it was made; a TARGET or CHOICES option would be silently ignored."""
    for dest, flag in _option_flags().items():
        if _given(args, dest):
            raise UsageError(
                f"--plan runs the saved plan as it was made, so {flag} cannot change it: drop "
                f"{flag}, or make a new plan with 'torch-wizard plan {flag} ... --format json'"
            )


REMADE = (
    "make the plan again with 'torch-wizard plan --format json', or, to run an edited plan, run "
    "it as the shell script that 'torch-wizard plan --format sh' gives"
)


def checked_plan(saved: Plan, path: str) -> Plan:
    """The plan to run for a saved one, after checking that torch-wizard made it as it is.

    The plan is made again from its recorded target and choices (``saved_choices``) and compared
    step by step: id, argv, env, cwd, optional, fallback, progress and timeout. Any difference
    (an edited command, an added ``--extra-index-url``, an ``LD_PRELOAD`` in an env, a step added
    or removed) is refused, exit 2, naming the first differing step. One difference is expected:
    a plan saved before its venv existed starts with create-venv, which a plan made now that the
    venv exists leaves out; that step is then compared with the create-venv step torch-wizard
    makes for the target and dropped (the venv is reused, as a fresh plan would). What runs is
    the plan made again: the same steps, with blockers and estimates of this torch-wizard, so a
    blocker cannot be edited away. Finally the programs the plan's target supplies (the
    interpreter that creates the venv, uv) must be this machine's (``check_programs``).
    """
    from torch_wizard.plan import make_plan
    from torch_wizard.plan.wheel import create_venv_step

    check_network(saved, path)
    choices = saved_choices(saved, path)
    try:
        fresh = make_plan(saved.target, choices)
    except UsageError as err:
        raise UsageError(f"--plan {path} cannot run here: {err}") from None
    expected = fresh.steps
    venv_reused = (
        bool(saved.steps)
        and saved.steps[0].id == "create-venv"
        and not any(s.id == "create-venv" for s in expected)
    )
    if venv_reused:
        expected = (create_venv_step(saved.target, fresh.choice), *expected)
    difference = step_difference(saved.steps, expected)
    if not difference and fresh.choice != saved.choice:
        names = [
            f.name
            for f in dataclasses.fields(fresh.choice)
            if getattr(fresh.choice, f.name) != getattr(saved.choice, f.name)
        ]
        difference = f"its recorded choice ({', '.join(names)}) differs"
    if difference:
        raise UsageError(
            f"--plan {path} is not the plan this torch-wizard makes for its machine and choices: "
            f"{difference}; nothing was run. To run it, {REMADE}"
        )
    check_programs(fresh, path)
    return fresh


def check_network(plan: Plan, path: str) -> None:
    """The recorded network settings go into every step's argv (pip) or env (uv), so a re-made
    plan repeats whatever they say: they must be settings ``host_network`` records (pip's
    ``--cert``, ``--proxy``, ``--timeout`` ... with a value, ``--no-cache-dir``; uv's network and
    cache variables), never e.g. an ``--extra-index-url`` or a ``UV_INDEX``."""
    from torch_wizard.plan.isolation import _PIP_KEYS, UV_NETWORK

    flags = set(_PIP_KEYS.values())
    args = plan.choice.network.pip_args
    bad = ""
    i = 0
    while i < len(args) and not bad:
        if args[i] == "--no-cache-dir":
            i += 1
        elif args[i] in flags and i + 1 < len(args) and not args[i + 1].startswith("-"):
            i += 2
        else:
            bad = args[i]
    if not bad:
        bad = next(
            (k for k in plan.choice.network.uv_env if k not in {*UV_NETWORK, "SSL_CERT_FILE"}), ""
        )
    if bad:
        raise UsageError(
            f"--plan {path} is not the plan this torch-wizard makes: its network settings "
            f"hold {_short(bad)}, which torch-wizard never passes on (only pip's "
            f"{', '.join(sorted(flags))} and --no-cache-dir, and uv's network and cache "
            f"variables); nothing was run. To run it, {REMADE}"
        )


def saved_choices(plan: Plan, path: str) -> Choices:
    """The choices that make ``plan`` again: its resolved choice, pinned (see ``checked_plan``):
    the installer it resolved to and whether it keeps a cache, never "auto" again.

    ``index_url`` gives the index base (the URL without the channel and variant suffix that
    ``torch_wizard.catalog.index_url`` adds; a Jetson index is not under the base). A source build's
    options are not in the choice, so they are read back from its steps (``saved_source``).
    """
    from urllib.parse import urlsplit

    from torch_wizard.plan.model import DEFAULT_INDEX_BASE
    from torch_wizard.plan.validate import _is_loopback

    c = plan.choice
    jetson = c.backend.startswith("jetson")
    index_base = DEFAULT_INDEX_BASE
    if c.index_url and not jetson:
        suffix = f"/{c.backend}" if c.channel == "stable" else f"/{c.channel}/{c.backend}"
        if not c.index_url.endswith(suffix) or len(c.index_url) == len(suffix):
            raise UsageError(
                f"--plan {path} is not the plan this torch-wizard makes: its index {c.index_url} "
                f"does not end in {suffix}, as the index of {c.backend} does; nothing was run. "
                f"To run it, {REMADE}"
            )
        index_base = c.index_url[: -len(suffix)]
    try:
        parts = urlsplit(index_base)
        host = parts.hostname or ""
    except ValueError:  # an index URL edited into no URL at all: the planner refuses it
        parts, host = urlsplit(""), ""
    loopback = _is_loopback(host)  # the planner's own test of "this machine"
    return Choices(
        channel=c.channel,
        backend="jetson" if jetson else c.backend,
        torch=c.torch,
        packages=tuple(c.packages),
        build=c.build,
        installer=c.installer,
        venv=c.venv,
        index_base=index_base,
        allow_insecure_index=parts.scheme == "http" and not loopback,
        source=saved_source(plan.steps) if c.build == "source" else SourceOptions(),
        network=c.network,
        cache_dir=c.cache_dir,
        cache=c.cache,  # as decided when it was made ("keep" or "off"), not decided again
    )


def saved_source(steps: tuple[Step, ...]) -> SourceOptions:
    """A source build's options as its steps show them (``torch_wizard.plan.source``): the checkout
    of the submodule steps, the URL and ref of the clone or fetch, the build profile, MAX_JOBS
    and TORCH_CUDA_ARCH_LIST of the build's env, ``-e`` for develop, a configure step for
    configure-only. Given explicitly, each makes the same step as the default it was."""
    by_id = {s.id: s for s in steps}

    def arg(step_id: str, i: int) -> str:
        argv = by_id[step_id].argv if step_id in by_id else ()
        return argv[i] if -len(argv) <= i < len(argv) else ""

    where = arg("submodule-sync", 2)
    url, ref = where, arg("checkout", -1)  # a local checkout, built as it is (or at a ref)
    if "clone" in by_id:
        clone = by_id["clone"].argv
        url = arg("clone", -2)
        ref = clone[clone.index("--branch") + 1] if "--branch" in clone[:-1] else ref
    elif "fetch" in by_id:
        url, ref = arg("fetch", 4), arg("fetch", 5)
    build = by_id.get("build") or by_id.get("configure")
    env = build.env if build else {}
    profile: Literal["release", "lean", "debug", "relwithdebinfo"] = "release"
    if env.get("DEBUG") == "1":
        profile = "debug"
    elif env.get("REL_WITH_DEB_INFO") == "1":
        profile = "relwithdebinfo"
    elif env.get("USE_DISTRIBUTED") == "0":
        profile = "lean"
    jobs = env.get("MAX_JOBS", "")
    return SourceOptions(
        url=url or SourceOptions().url,
        ref=ref,
        checkout=where,
        profile=profile,
        develop=build is not None and build.id == "build" and "-e" in build.argv,
        max_jobs=int(jobs) if jobs.isdigit() else 0,
        cuda_arch_list=env.get("TORCH_CUDA_ARCH_LIST", ""),
        configure_only="configure" in by_id,
    )


def _short(token: str) -> str:
    line = token.splitlines()[0] if token else token
    shown = line if len(line) <= 60 and line == token else line[:40] + "..."
    if not shown.isprintable():  # a NUL or an escape code: show it, never send it to a terminal
        return repr(shown)
    return shlex.quote(shown)


def _tokens(tokens: Sequence[str]) -> str:
    head = " ".join(_short(t) for t in tokens[:4])
    return head + (" ..." if len(tokens) > 4 else "")


def _argv_change(saved: tuple[str, ...], made: tuple[str, ...]) -> str:
    import difflib

    ops = difflib.SequenceMatcher(None, saved, made, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "delete":
            return f"adds {_tokens(saved[i1:i2])}"
        if tag == "insert":
            return f"drops {_tokens(made[j1:j2])}"
        if tag == "replace":
            return f"has {_tokens(saved[i1:i2])} where torch-wizard has {_tokens(made[j1:j2])}"
    return "differs"


def _env_change(saved: dict[str, str], made: dict[str, str]) -> str:
    added = [k for k in saved if k not in made]
    if added:
        return "adds " + ", ".join(f"{_name(k)}={_short(saved[k])}" for k in added)
    dropped = [k for k in made if k not in saved]
    if dropped:
        return "drops " + ", ".join(dropped)
    return "changes " + ", ".join(_name(k) for k in saved if saved[k] != made[k])


def _name(key: str) -> str:
    """An environment variable's name as a message shows it (a NUL or "=" in it escaped)."""
    return key if key.isprintable() and "=" not in key and key else repr(key)


def _step_change(a: Step, b: Step) -> str:
    """How the saved step ``a`` differs from ``b``, the one torch-wizard makes; "" if it does not."""
    if a.argv != b.argv:
        return f"has a different command ({_argv_change(a.argv, b.argv)})"
    if a.env != b.env:
        return f"has a different environment ({_env_change(a.env, b.env)})"
    if a.cwd != b.cwd:
        return f"runs in {a.cwd or 'the current folder'}, not {b.cwd or 'the current folder'}"
    if a.optional != b.optional:
        return "is marked optional" if a.optional else "is not marked optional"
    if a.fallback != b.fallback:
        return f"has a different fallback command ({_argv_change(a.fallback, b.fallback)})"
    if a.progress != b.progress:
        return f"reads progress as {a.progress!r}, not {b.progress!r}"
    if a.timeout != b.timeout:
        return f"has a timeout of {a.timeout:g} s, not {b.timeout:g} s"
    return ""


def step_difference(saved: Sequence[Step], made: Sequence[Step]) -> str:
    """The first difference between the saved steps and those torch-wizard makes, in words."""
    for i, (a, b) in enumerate(zip(saved, made, strict=False)):
        n = i + 1
        if a.id != b.id:
            if i + 1 < len(made) and made[i + 1].id == a.id:
                return f"step {n} ({b.id}) is missing"
            if i + 1 < len(saved) and saved[i + 1].id == b.id:
                return f"step {n} ({a.id}) was added: torch-wizard makes no such step here"
            return f"step {n} is '{a.id}' where torch-wizard makes '{b.id}'"
        change = _step_change(a, b)
        if change:
            return f"step {n} ({a.id}) {change}"
    if len(saved) > len(made):
        extra = saved[len(made)]
        return f"step {len(made) + 1} ({extra.id}) was added: torch-wizard makes no such step here"
    if len(saved) < len(made):
        return f"step {len(saved) + 1} ({made[len(saved)].id}) is missing"
    return ""


# The programs a plan's target names and this machine then runs: the interpreter that creates the
# venv (``python3.X``, ``python.exe``, ``pypy3.X``; ``t`` for free-threaded) and uv.
_PYTHON_NAME = re.compile(r"(?:python|pypy)(\d+(?:\.\d+)?)?t?(?:\.exe)?", re.IGNORECASE)
_UV_NAME = re.compile(r"uv(?:\.exe)?", re.IGNORECASE)
# ELF, Windows PE, Mach-O (32/64-bit, both byte orders) and universal Mach-O.
_NATIVE = (
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


def program_problem(program: str, machine: Machine) -> str:
    """ "" when ``program`` (an absolute path from a plan's target) is a Python interpreter of the
    target's version or uv on this machine, else why not. Nothing is run: the real file (after
    symlinks) must exist, be named like one (``python3.11`` for a plan made for Python 3.11; a
    bare ``python3`` or ``python.exe`` says no version, so only its name is checked), be a native
    executable, not a script, and be executable."""
    real = os.path.realpath(program)
    if not os.path.isfile(real):
        return f"{program} does not exist here"
    name = os.path.basename(real)
    minor = machine.python.minor
    py = _PYTHON_NAME.fullmatch(name)
    if py:
        version = py.group(1) or ""
        if "." in version and version != minor:
            return (
                f"{program} is Python {version} ({real}), but the plan was made for Python {minor}"
            )
    elif not _UV_NAME.fullmatch(name):
        return f"{program} is not a Python interpreter or uv (the file is {real})"
    try:
        with open(real, "rb") as fh:
            head = fh.read(4)
    except OSError as err:
        return f"{program} cannot be read ({err.strerror})"
    if not head.startswith(_NATIVE):
        return f"{program} is a script ({real}), not a Python interpreter or uv program"
    if not os.access(real, os.X_OK):
        return f"{program} is not executable"
    return ""


def check_programs(plan: Plan, path: str) -> None:
    """The programs named by absolute path that are not the venv's own python: each must pass
    ``program_problem`` before anything runs (the runner's pre-flight runs the interpreter that
    creates the venv, so this comes first). A bare name (``git``, ``python3.11``, ``py``) is
    looked up on this machine's PATH, as any command is."""
    from torch_wizard.plan.wheel import venv_python

    own = venv_python(plan.target, plan.choice.venv)
    for n, step in enumerate(plan.steps, 1):
        for argv in (step.argv, step.fallback):
            if not argv or argv[0] == own or not (os.path.dirname(argv[0]) or "\\" in argv[0]):
                continue
            problem = program_problem(argv[0], plan.target)
            if problem:
                raise UsageError(
                    f"--plan {path} runs {argv[0]} in step {n} ({step.id}), but {problem}; "
                    "nothing was run. A plan may run only this machine's Python "
                    f"{plan.target.python.minor} or uv: make the plan on this machine with "
                    "'torch-wizard plan --format json', or with a profile saved here by "
                    "'torch-wizard detect --json'"
                )


def short_command(step: Step) -> str:
    """The step's command line, with an inline multi-line script shown as <script>."""
    argv = list(step.argv)
    if "-c" in argv:
        i = argv.index("-c") + 1
        if i < len(argv) and "\n" in argv[i]:
            argv[i] = "<verification script>" if step.id == "verify" else "<script>"
            return " ".join(shlex.quote(a) if not a.startswith("<") else a for a in argv)
    from torch_wizard.plan.render import command_line

    return command_line(step)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


class _Writer(Protocol):
    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


class ConsolePrinter:
    """Prints events for a person: a header per step, the output, sparse progress, the outcome.
    ``verbosity`` below 0 (``-q``) leaves out the steps' output and progress (the log has it);
    above 0 (``-v``) shows each step's whole command line (its variables, folder and inline
    script too) where the default shortens scripts to ``<script>``."""

    def __init__(self, plan: Plan, out: TextIO, err: TextIO, verbosity: int = 0) -> None:
        self.plan = plan
        self.verbosity = verbosity
        self.out: _Writer = out
        self.err = err
        self._shown: dict[tuple[int, str], int] = {}
        self.out_failed = False

    def __call__(self, ev: Event) -> None:
        """Print ``ev``. Output that stdout cannot take (text its encoding cannot hold, a full
        disk) never stops the run: unencodable text is escaped, and after a failed write the
        printer says so once on stderr and prints only the outcome there (the log has it all)."""
        from torch_wizard.streams import OutputError

        if self.out_failed and not isinstance(ev, Finished):
            return
        try:
            self._print(ev)
        except OutputError as err:
            if err.unencodable:
                self.out = _Escaping(self.out)
                with contextlib.suppress(OutputError):
                    self._print(ev)
                return
            self.out_failed = True
            self.err.write(f"{PROG}: {err}; the run goes on and its log has everything\n")
            if isinstance(ev, Finished):
                self.out = self.err
                self._print(ev)

    def _print(self, ev: Event) -> None:
        if isinstance(ev, StepStarted):
            n = len(self.plan.steps)
            if self.verbosity > 0:  # the whole line: variables, folder, the verify script
                from torch_wizard.plan.render import command_line

                shown = command_line(ev.step)
            else:
                shown = short_command(ev.step)
            self.out.write(f"\n==> [{ev.index + 1}/{n}] {ev.step.title}\n$ {shown}\n")
        elif isinstance(ev, Output):
            if self.verbosity >= 0:
                self.out.write("".join(f"    {line}\n" for line in ev.lines))
        elif isinstance(ev, Progress):
            if self.verbosity >= 0:
                self._progress(ev)
        elif isinstance(ev, StepFinished):
            self.out.write(f"<== exit {ev.returncode} after {ev.duration:.1f} s\n")
        elif isinstance(ev, Notice):
            self.out.write(f"--- {ev.text}\n")
        elif isinstance(ev, Finished):
            self._finished(ev)
        self.out.flush()

    def _progress(self, ev: Progress) -> None:
        if not ev.total:
            return
        # At most every 25 %: a log-friendly trace (the UI draws a real bar).
        quarter = min(4, ev.done * 4 // ev.total)
        key = (ev.index, ev.label)
        if self._shown.get(key, -1) >= quarter:
            return
        self._shown[key] = quarter
        self.out.write(
            f"    ... {ev.label}: {_size(ev.done)} of {_size(ev.total)} ({quarter * 25} %)\n"
        )

    def _finished(self, ev: Finished) -> None:
        if ev.outcome == "ok":
            self.out.write(f"\nDone: {ev.message}.\n")
            if ev.venv_note:
                self.out.write(f"{ev.venv_note}\n")
        else:
            for p in ev.problems[1:]:
                self.err.write(f"{PROG}: also: {p}\n")
            if ev.failed_step == "preflight":  # one line: the problem, and that nothing ran
                self.err.write(f"{PROG}: {ev.message}; nothing was run and nothing was written\n")
                return
            self.err.write(f"{PROG}: {ev.message}\n")
            if ev.venv_note:
                self.err.write(f"{PROG}: {ev.venv_note}\n")
        if ev.log_path:
            self.out.write(f"Log: {ev.log_path}\n")
        if ev.receipt_path:
            self.out.write(f"Receipt: {ev.receipt_path}\n")


class _Escaping:
    """A stream that writes what its encoding cannot hold as backslash escapes."""

    def __init__(self, inner: _Writer) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        enc = getattr(self._inner, "encoding", None) or "utf-8"
        return self._inner.write(text.encode(enc, "backslashreplace").decode(enc))

    def flush(self) -> None:
        self._inner.flush()


def announce(plan: Plan, out: TextIO) -> None:
    """The first line of a run, written before anything runs: it says what is about to happen,
    and a stdout that cannot take it (closed, a full disk, an encoding that cannot show the
    venv's path) stops the command here, with nothing written (``OutputError``, exit 2)."""
    c = plan.choice
    n = len(plan.steps)
    out.write(
        f"Plan: {n} step{'s' if n != 1 else ''}, torch {c.torch or '(source)'} ({c.backend}) "
        f"into {c.venv} with {c.installer}\n"
    )
    out.flush()


def exit_code(fin: Finished) -> int:
    if fin.outcome == "ok":
        return 0
    if fin.outcome == "cancelled":
        return 130
    return 2 if fin.failed_step == "preflight" else 1


def _confirm(plan: Plan, text: str) -> bool:
    sys.stdout.write(text)
    if not sys.stdin.isatty():
        raise UsageError(
            "nothing was run: add --yes to run this plan (no prompt without a terminal)"
        )
    sys.stdout.write(f"\nRun these {len(plan.steps)} steps? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def make_plan_from_args(args: argparse.Namespace) -> Plan:
    refuse_another_machine(args)
    plan_file = getattr(args, "plan_file", None)
    if plan_file:
        refuse_options_with_plan(args)
        return checked_plan(load_plan(plan_file), plan_file)
    from torch_wizard.commands.common import target_and_choices
    from torch_wizard.plan import make_plan

    machine, choices = target_and_choices(args)
    return make_plan(machine, choices)


def run(args: argparse.Namespace) -> int:
    plan = make_plan_from_args(args)
    if plan.choice.build == "source" and not any(s.id != "create-venv" for s in plan.steps):
        raise UsageError("this plan has nothing to run (configure-only): drop --configure-only")
    if not getattr(args, "yes", False):
        from torch_wizard.plan.render import render_text

        if not _confirm(plan, render_text(plan)):
            sys.stderr.write(f"{PROG}: nothing was run\n")
            return 2
    from torch_wizard.answers import layered
    from torch_wizard.run.runner import Runner, run_sync

    runner = Runner(
        plan,
        log_path=getattr(args, "log", None) or None,
        # the flag, else the answers file or the user config (step-timeout)
        step_timeout=getattr(layered(args), "step_timeout", None) or 0.0,
    )
    announce(plan, sys.stdout)
    printer = ConsolePrinter(plan, sys.stdout, sys.stderr, getattr(args, "verbosity", 0))
    fin = run_sync(plan, printer, runner=runner)
    return exit_code(fin)
