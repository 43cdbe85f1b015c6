"""The Python running the wizard: version, bits, venv, PEP 668 marker, ensurepip, headers, tags.

- PEP 668: an ``EXTERNALLY-MANAGED`` file in ``sysconfig.get_path("stdlib")`` makes pip refuse to
  install into this interpreter; inside a venv it does not apply, so ``externally_managed`` is
  true only outside a venv.
- ensurepip: Debian/Ubuntu split it off (``python3.X-venv``), leaving ``python -m venv`` broken. It
  counts as usable when the module is importable and a pip wheel is there to seed: in
  ``ensurepip/_bundled`` or Debian's ``/usr/share/python-wheels``.
- tags: the first few ``packaging.tags.sys_tags()``, best first: what a wheel must match.

A fixture root describes another machine: its ``machine.json`` ``python`` version replaces this
one (nothing else about that interpreter is known); without it the host's Python is the target's,
but its executable and tags are kept only when the fixture's OS and arch are the host's.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

from wizard.machine.model import PythonInfo
from wizard.machine.root import Found

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


def host_python() -> Found[PythonInfo]:
    import platform
    import sysconfig

    in_venv = sys.prefix != sys.base_prefix
    stdlib = Path(sysconfig.get_path("stdlib"))
    include = Path(sysconfig.get_path("include"))
    marker = (stdlib / "EXTERNALLY-MANAGED").is_file()
    info = PythonInfo(
        version=platform.python_version(),
        executable=sys.executable,
        implementation=sys.implementation.name,
        bits=struct.calcsize("P") * 8,
        free_threaded=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        in_venv=in_venv,
        externally_managed=marker and not in_venv,
        has_ensurepip=_has_ensurepip(),
        has_headers=(include / "Python.h").is_file(),
        tags=_tags(),
    )
    notes: list[str] = []
    if not info.has_ensurepip:
        notes.append(
            f"'python -m venv' cannot seed pip for {sys.executable} (ensurepip is missing; on "
            f"Debian/Ubuntu install python{info.minor}-venv), or use 'uv venv'."
        )
    return Found(info, tuple(notes))


def fixture_python(version: str, bits: int) -> PythonInfo:
    return PythonInfo(version=version, bits=bits)
