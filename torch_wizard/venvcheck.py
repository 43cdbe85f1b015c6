"""Can a folder hold a virtual environment? One check shared by the planner (a ``--venv`` given for
this machine is refused before a plan is shown) and the runner's pre-flight (``torch_wizard.run.preflight``),
so the plan and the run never disagree.

Each check returns "" or one sentence naming the problem and the fix. Nothing is written.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from torch_wizard.plan.cache import existing_parent


def system_prefixes() -> set[Path]:
    out = {Path(sys.base_prefix)}
    out.update(Path(p) for p in ("/usr", "/usr/local", "/opt/homebrew", "/"))
    return {p.resolve() for p in out}


def shown_path(path: str, limit: int = 100) -> str:
    """A path as a message shows it: control characters escaped, a long one shortened."""
    text = (
        path.encode("unicode_escape", "backslashreplace").decode("ascii")
        if not (path.isprintable())
        else path
    )
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-(limit // 3) :]}"


def _limit(where: str, name: str, default: int) -> int:
    try:
        return int(os.pathconf(where, name))
    except (OSError, ValueError, AttributeError):
        return default


def path_problem(path: str, what: str = "venv") -> str:
    """ "" when ``path`` (as given, ``~`` not yet expanded) can name a folder on this machine,
    else one sentence: a NUL byte, a ``~user`` with no such user, a name or a path longer than
    the filesystem allows, a file or a symbolic link loop on the way. Nothing is written."""
    flag = f"--{what}"
    if "\0" in path:
        return f"the {what} path {shown_path(path)} holds a NUL byte: give a real path to {flag}"
    if not path.strip():
        return f"the {what} path is empty: give a folder to {flag}, e.g. {flag} .venv"
    expanded = os.path.expanduser(path)
    if expanded.startswith("~"):
        user = expanded[1:].split("/", 1)[0].split(os.sep, 1)[0]
        who = f"no user {user!r}" if user else "no home folder (HOME is not set)"
        return (
            f"the {what} path {shown_path(path)} starts with ~{user}, but there is {who} here: "
            f"give the path in full to {flag}"
        )
    full = os.path.abspath(expanded)
    anchor = str(existing_parent(Path(full))) if len(full) < 4096 else "/"
    name_max = _limit(anchor, "PC_NAME_MAX", 255)
    path_max = _limit(anchor, "PC_PATH_MAX", 4096)
    longest = max(Path(full).parts, key=len)
    if len(longest.encode("utf-8", "surrogateescape")) > name_max:
        return (
            f"a folder name in the {what} path is {len(longest)} characters long, more than the "
            f"{name_max} this filesystem allows ({shown_path(longest, 40)}): choose a shorter {flag}"
        )
    if len(full.encode("utf-8", "surrogateescape")) >= path_max:
        return (
            f"the {what} path is {len(full)} characters long, more than the {path_max - 1} this "
            f"system allows ({shown_path(full, 60)}): choose a shorter {flag}"
        )
    try:
        os.stat(full)
    except FileNotFoundError:
        pass
    except OSError as err:
        if err.errno == errno.ELOOP:
            return (
                f"the {what} path {shown_path(path)} is a loop of symbolic links: point {flag} "
                "at a real folder"
            )
        if err.errno == errno.ENOTDIR:
            blocker = next(
                (str(p) for p in reversed(Path(full).parents) if os.path.isfile(p)), "a file"
            )
            return (
                f"the {what} path {shown_path(path)} goes through {shown_path(blocker)}, which is "
                f"a file, not a folder: choose another {flag}"
            )
        return f"the {what} path {shown_path(path)} cannot be used ({err.strerror}): choose another {flag}"
    return ""


def is_own_environment(path: str | Path) -> bool:
    """Is ``path`` the venv torch-wizard itself runs in? Never a target: PyTorch there would be
    mixed into the tool's own packages."""
    if sys.prefix == sys.base_prefix:
        return False
    try:
        return os.path.samefile(path, sys.prefix)
    except OSError:
        return False


def venv_problem(
    venv: Path, creates: bool, prefixes: Iterable[Path] = (), *, own: bool = True
) -> str:
    """Is ``venv`` a path we may create a venv in (``creates``) or an existing venv we may use?
    ``own``: also refuse torch-wizard's own environment (pre-flight of a run; a plan only shows
    it)."""
    problem = path_problem(str(venv))
    if problem:
        return problem
    try:
        return _venv_problem(venv, creates, prefixes, own)
    except (OSError, RuntimeError) as err:
        return (
            f"the venv path {shown_path(str(venv))} cannot be used ({err}): choose another --venv"
        )


def _venv_problem(venv: Path, creates: bool, prefixes: Iterable[Path], own: bool) -> str:
    shown = shown_path(str(venv))
    if venv.exists() and not venv.is_dir():
        return f"the venv path {shown} is a file, not a folder: choose another --venv"
    resolved = venv.resolve()
    if own and is_own_environment(resolved):
        return (
            f"{shown} is the environment torch-wizard itself runs in, and PyTorch there would be "
            "mixed into the tool's own packages: choose another --venv, e.g. --venv ~/torch-venv"
        )
    if resolved in set(prefixes) or (resolved / "EXTERNALLY-MANAGED").exists():
        return (
            f"{shown} is a system Python installation, and installing into it could break the "
            "system: choose a new folder such as .venv"
        )
    if venv.is_dir():
        is_venv = (venv / "pyvenv.cfg").is_file()
        if not is_venv and any(venv.iterdir()):
            return (
                f"{shown} has files in it but is not a virtual environment: choose an empty or "
                "new folder, or an existing venv"
            )
        if not is_venv and not creates:
            return f"{shown} is not a virtual environment: create it first or drop --venv"
        if not os.access(venv, os.W_OK):
            return f"{shown} is not writable: choose a folder you own"
        return ""
    if not creates:
        return f"the venv {shown} does not exist: create it or let the plan create it"
    parent = existing_parent(venv)
    if not os.access(parent, os.W_OK):
        return f"cannot create {shown}: {parent} is not writable; choose a folder you own"
    return ""


def venv_version(venv: Path) -> str:
    """The Python version an existing venv was made with ("3.11.7"), from its pyvenv.cfg
    (``version`` from venv, ``version_info`` from uv and virtualenv); "" when it says none."""
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip().lower()] = value.strip()
    raw = found.get("version") or found.get("version_info") or ""
    parts = raw.split(".")
    return ".".join(parts[:3]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else ""


def venv_python_problem(venv: Path, minor: str) -> str:
    """ "" unless ``venv`` exists and was made with another Python than ``minor`` ("3.11"): the
    plan's wheels are for ``minor``, so installing them there fails (or, with a pinned venv
    python, gets wheels for the wrong interpreter)."""
    version = venv_version(venv)
    if not version or not minor or ".".join(version.split(".")[:2]) == minor:
        return ""
    return (
        f"the existing venv {shown_path(str(venv))} has Python {version}, but the plan is for "
        f"Python {minor}: choose another --venv for a new venv, or plan for this one with "
        f"--python {'.'.join(version.split('.')[:2])}"
    )
