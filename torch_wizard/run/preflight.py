"""Checks before the first step runs, so a plan fails before it writes anything.

- The venv path is usable: not a file, writable, empty or an existing venv, not a system Python
  prefix (PEP 668: never install into a system interpreter; the plan always uses a venv). That
  check lives in ``torch_wizard.venvcheck``, which the planner uses too.
- The interpreter that creates the venv can: ``python -m venv`` needs ``ensurepip`` (Debian and
  Ubuntu split it into ``python3.X-venv``), otherwise name the package or offer uv / virtualenv.
- Enough free disk where the venv goes: the plan's estimate plus room for the download; and, when
  the plan keeps the installer's download cache, room for that too, where the cache is
  (``torch_wizard.plan.cache``: uv's cache on the venv's filesystem costs next to nothing, since the
  venv's files are hardlinks of it). A plan made with too little room for the cache installs
  without one; a saved plan that keeps it is refused here when the room has gone since.
- uv, when the plan's steps run it, exists here: an absolute path (the uv detection found) must be
  an executable file, a bare ``uv`` (a plan made without one) must be on ``PATH``.

Each check returns "" or one sentence naming the problem and the fix. The numeric checks are pure
functions; ``check_plan`` gathers the real numbers (``os.statvfs``) and runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from torch_wizard.plan import cache as cache_mod
from torch_wizard.plan.cache import CACHE_MARGIN as CACHE_MARGIN
from torch_wizard.plan.cache import GB as GB
from torch_wizard.plan.cache import MB as MB
from torch_wizard.plan.cache import existing_parent as existing_parent
from torch_wizard.plan.model import Plan, Step
from torch_wizard.venvcheck import path_problem as path_problem
from torch_wizard.venvcheck import shown_path as shown_path
from torch_wizard.venvcheck import system_prefixes as system_prefixes
from torch_wizard.venvcheck import venv_problem as venv_problem
from torch_wizard.venvcheck import venv_python_problem as venv_python_problem
from torch_wizard.venvcheck import venv_version as venv_version

DEBIAN_LIKE = ("debian", "ubuntu")
_fmt = cache_mod.fmt_bytes


def disk_problem(free: int, installed: int, download: int, where: str) -> str:
    """Pure: "" when ``free`` bytes hold the install plus room for the download."""
    need = cache_mod.install_bytes(installed, download)
    if free >= need:
        return ""
    return (
        f"only {_fmt(free)} free at {where} but this install needs about {_fmt(need)} "
        f"({_fmt(installed)} installed plus {_fmt(max(download, CACHE_MARGIN))} for the download "
        "while it installs): free some space or choose another --venv"
    )


def cache_problem(plan: Plan, where: cache_mod.Where) -> str:
    """ "" unless the plan keeps its download cache and the disk has no room for it as well."""
    c, est = plan.choice, plan.estimate
    if c.cache == "off" or c.build == "source" or not (est.disk or est.download):
        return ""
    fit = cache_mod.fit(
        c.installer, est.disk, est.download, where.free_venv, where.free_cache, where.same_fs
    )
    if fit != "off":
        return ""
    extra = cache_mod.cache_bytes(c.installer, est.disk, est.download, where.same_fs)
    at = where.venv_at if where.same_fs else where.cache_at
    free = where.free_venv if where.same_fs else where.free_cache
    return (
        f"only {_fmt(free)} free at {at}: the install fits, but not {c.installer}'s download "
        f"cache ({_fmt(extra)} more) that this plan keeps: make the plan again (with this little "
        "room it installs without a cache), pass --no-cache, or free some space"
    )


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(existing_parent(path)).free


def venv_tool_problem(
    step: Step, distro_id: str, distro_like: tuple[str, ...], run: Callable[[list[str]], int]
) -> str:
    """For ``python -m venv`` steps: can that python seed pip? ``run`` returns an exit code."""
    argv = list(step.argv)
    if "-m" not in argv or argv[argv.index("-m") + 1 : argv.index("-m") + 2] != ["venv"]:
        return ""
    python = argv[: argv.index("-m")]
    try:
        code = run([*python, "-c", "import ensurepip, venv"])
    except (OSError, subprocess.SubprocessError):
        return f"cannot run {python[0]} to create the venv: install that Python or pass --python"
    if code == 0:
        return ""
    families = {distro_id, *distro_like}
    if families & set(DEBIAN_LIKE):
        version = ""
        try:
            out = subprocess.run(
                [*python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            version = out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
        pkg = f"python{version}-venv" if version else "python3-venv"
        return (
            f"{python[0]} cannot create virtual environments (ensurepip is missing): run "
            f"'sudo apt install {pkg}', or use --installer uv"
        )
    return (
        f"{python[0]} cannot create virtual environments (ensurepip is missing): install your "
        "distribution's venv package, or use --installer uv, or 'pip install virtualenv'"
    )


def _has_pip(venv: Path) -> bool:
    patterns = (
        "lib/python*/site-packages/pip",
        "Lib/site-packages/pip",
        "lib/pypy*/site-packages/pip",
    )
    return any(p.is_dir() for pattern in patterns for p in venv.glob(pattern))


def venv_pip_problem(plan: Plan, venv: Path) -> str:
    """ "" unless the plan runs ``VENV-PYTHON -m pip`` in an existing venv that has no pip (a
    venv made by ``uv venv``, or with ``--without-pip``)."""
    from torch_wizard.plan.wheel import venv_python

    if not (venv / "pyvenv.cfg").is_file() or any(s.id == "create-venv" for s in plan.steps):
        return ""
    python = venv_python(plan.target, plan.choice.venv)
    runs_pip = any(
        s.argv and s.argv[0] == python and "pip" in s.argv[1:4] and "-m" in s.argv[1:3]
        for s in plan.steps
    )
    if not runs_pip or _has_pip(venv):
        return ""
    return (
        f"the existing venv {shown_path(str(venv))} has no pip (uv venv makes venvs without it), "
        "and this plan installs with pip: use --installer uv, or add pip first with "
        f"'uv pip install --python {python} pip'"
    )


UV_NAMES = ("uv", "uv.exe")


def uv_problem(steps: Iterable[Step], path: str | None = None) -> str:
    """Empty unless a step runs a uv that is not here (``path``: where a bare ``uv`` is looked up)."""
    for step in steps:
        if not step.argv or os.path.basename(step.argv[0]).lower() not in UV_NAMES:
            continue
        uv = step.argv[0]
        if shutil.which(uv, path=path) is None:
            where = (
                f"{uv} does not exist here"
                if os.path.dirname(uv)
                else "no uv was found here (on PATH or beside torch-wizard's Python)"
            )
            return (
                f"the plan installs with uv, but {where}: install uv (pip install uv) or use "
                "--installer pip"
            )
    return ""


def _run_quiet(argv: list[str]) -> int:
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        check=False,
    ).returncode


def check_plan(plan: Plan, free: Callable[[Path], int] = free_bytes) -> list[str]:
    """Every problem that stops ``plan`` before it starts (empty: good to go)."""
    venv = Path(os.path.expanduser(plan.choice.venv))
    creates = any(s.id == "create-venv" for s in plan.steps)
    problems = list(plan.blockers)  # e.g. a source build without a compiler
    p = venv_problem(venv, creates, system_prefixes())
    if p:
        return [*problems, p]
    for p in (
        venv_python_problem(venv, plan.target.python.minor),
        venv_pip_problem(plan, venv),
        path_problem(plan.choice.cache_dir, "cache-dir") if plan.choice.cache_dir else "",
    ):
        if p:
            problems.append(p)
    for step in plan.steps:
        if step.id == "create-venv":
            p = venv_tool_problem(
                step, plan.target.os.distro_id, plan.target.os.distro_like, _run_quiet
            )
            if p:
                problems.append(p)
    p = uv_problem(plan.steps)
    if p:
        problems.append(p)
    est = plan.estimate
    if est.disk or est.download:
        p = disk_problem(free(venv), est.disk, est.download, str(existing_parent(venv)))
        if not p and plan.choice.cache == "keep":
            cache_dir = Path(cache_mod.cache_dir_of(plan.choice, plan.target.os.name)).expanduser()
            where = cache_mod.Where(
                free(venv),
                free(cache_dir),
                cache_mod.same_filesystem(venv, cache_dir),
                str(existing_parent(venv)),
                str(existing_parent(cache_dir)),
            )
            p = cache_problem(plan, where)
        if p:
            problems.append(p)
    return problems
