"""The Python running the wizard: version, bits, venv, PEP 668 marker, ensurepip, headers, tags.

- PEP 668: an ``EXTERNALLY-MANAGED`` file in ``sysconfig.get_path("stdlib")`` makes pip refuse to
  install into this interpreter; inside a venv it does not apply, so ``externally_managed`` is
  true only outside a venv.
- ensurepip: Debian/Ubuntu split it off (``python3.X-venv``), leaving ``python -m venv`` broken. It
  counts as usable when the module is importable and a pip wheel is there to seed: in
  ``ensurepip/_bundled`` or Debian's ``/usr/share/python-wheels``.
- tags: the first few ``packaging.tags.sys_tags()``, best first: what a wheel must match.
- base interpreter: the one new venvs are made from. Outside a venv it is ``sys.executable``.
  Inside one (pipx, ``uv tool``, uvx, or any venv the wizard was started from) it is the
  interpreter that venv is based on, so a venv the plan makes never depends on the wizard's own
  (which pipx or uv may delete): ``sys._base_executable`` resolved with ``os.path.realpath``,
  provided it is a file outside ``sys.prefix``; else ``pythonX.Y`` found on ``PATH`` outside the
  wizard's venv and outside any other venv (a ``pyvenv.cfg`` beside its ``bin``); else "" (the plan
  names ``pythonX.Y``, and a note says why).

A fixture root describes another machine: its ``machine.json`` ``python`` version replaces this
one (nothing else about that interpreter is known); without it the host's Python is the target's,
but its executable and tags are kept only when the fixture's OS and arch are the host's.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

from torch_wizard.machine.model import PythonInfo
from torch_wizard.machine.root import Found

TAG_COUNT = 5
DEBIAN_WHEELS = "/usr/share/python-wheels"


def _has_ensurepip() -> bool:
    import importlib.util

    try:
        spec = importlib.util.find_spec("ensurepip")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    bundled = Path(next(iter(spec.submodule_search_locations))) / "_bundled"
    for folder in (bundled, Path(DEBIAN_WHEELS)):
        try:
            if any(n.startswith("pip-") and n.endswith(".whl") for n in os.listdir(folder)):
                return True
        except OSError:
            continue
    return False


def _tags() -> tuple[str, ...]:
    try:
        from packaging.tags import sys_tags
    except ImportError:
        return ()
    out: list[str] = []
    for tag in sys_tags():
        out.append(str(tag))
        if len(out) >= TAG_COUNT:
            break
    return tuple(out)


def _inside(path: str, prefix: str) -> bool:
    try:
        return os.path.commonpath([path, prefix]) == prefix
    except ValueError:  # different drives on Windows
        return False


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _in_a_venv(path: str) -> bool:
    """Is ``path`` (a resolved interpreter) a venv's own copy (``VENV/bin/python``)?"""
    return (Path(path).parent.parent / "pyvenv.cfg").is_file()


def base_interpreter(prefix: str, candidate: str, names: Sequence[str], path: str) -> str:
    """The interpreter the venv at ``prefix`` is based on, outside it; "" when none is found.

    ``candidate`` is that venv's ``sys._base_executable``; ``names`` (``python3.11``) are looked
    up in the ``os.pathsep``-separated ``path`` when the candidate is missing or inside ``prefix``.
    Every answer is a resolved path (``os.path.realpath``) to a file outside ``prefix``.
    """
    prefix = os.path.realpath(prefix)
    if candidate:
        real = os.path.realpath(candidate)
        if not _inside(real, prefix) and _runnable(real):
            return real
    for folder in path.split(os.pathsep):
        if not folder:
            continue
        for name in names:
            found = shutil.which(name, path=folder)
            if not found:
                continue
            real = os.path.realpath(found)
            if not _inside(real, prefix) and not _in_a_venv(real) and _runnable(real):
                return real
    return ""


def _host_base(in_venv: bool, minor: str, free_threaded: bool) -> tuple[str, tuple[str, ...]]:
    """The host's base interpreter, and a note when a venv's base was not found."""
    if not in_venv:
        return sys.executable, ()
    names = [f"python{minor}t"] if free_threaded else [f"python{minor}"]
    if os.name == "nt":
        names = [n + ".exe" for n in names]
    candidate = getattr(sys, "_base_executable", "") or ""
    base = base_interpreter(sys.prefix, candidate, names, os.environ.get("PATH", os.defpath))
    if base:
        return base, ()
    return "", (
        f"torch-wizard runs inside the virtual environment {sys.prefix}, and the Python it is "
        f"based on ({candidate or 'unknown'}) was not found outside it, nor {names[0]} on PATH: "
        f"the plan names {names[0]}; install Python {minor} or put it on PATH.",
    )


def host_python() -> Found[PythonInfo]:
    import platform
    import sysconfig

    in_venv = sys.prefix != sys.base_prefix
    stdlib = Path(sysconfig.get_path("stdlib"))
    include = Path(sysconfig.get_path("include"))
    marker = (stdlib / "EXTERNALLY-MANAGED").is_file()
    version = platform.python_version()
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    base, notes0 = _host_base(in_venv, ".".join(version.split(".")[:2]), free_threaded)
    info = PythonInfo(
        version=version,
        executable=sys.executable,
        base_executable=base,
        implementation=sys.implementation.name,
        bits=struct.calcsize("P") * 8,
        free_threaded=free_threaded,
        in_venv=in_venv,
        externally_managed=marker and not in_venv,
        has_ensurepip=_has_ensurepip(),
        has_headers=(include / "Python.h").is_file(),
        tags=_tags(),
    )
    notes: list[str] = list(notes0)
    if not info.has_ensurepip:
        notes.append(
            f"'python -m venv' cannot seed pip for {base or sys.executable} (ensurepip is missing; on "
            f"Debian/Ubuntu install python{info.minor}-venv), or use 'uv venv'."
        )
    return Found(info, tuple(notes))


def fixture_python(version: str, bits: int) -> PythonInfo:
    return PythonInfo(version=version, bits=bits)
