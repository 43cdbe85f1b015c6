"""Where detection reads files and finds tools: the host, or a fixture machine root.

A ``Root`` on the host reads ``/proc/...`` as is and finds tools on ``PATH`` (plus
``/usr/lib/wsl/lib``, where WSL keeps ``nvidia-smi``). A ``Root`` on a directory DIR reads
``DIR/proc/...`` and finds tools ONLY in ``DIR/bin``, so a captured machine is probed exactly like a
real one, hung and broken tools included.

A fixture root may hold ``DIR/machine.json`` with what cannot be captured as files because it
describes the interpreter that would run the wizard there (see ``TargetDefaults``), and
``DIR/disk.json`` with the free space at the target (``{"path": ..., "free": N, "total": N}``).

Nothing here raises for a missing file or a failing, hanging or garbage-printing tool: reads give
``None`` and tool runs give a ``ToolRun`` whose ``note`` is a sentence for ``Machine.notes``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

# WSL puts the Windows driver's nvidia-smi here, often not on PATH.
WSL_LIB = "/usr/lib/wsl/lib"
MAX_READ = 1 << 20
MAX_OUTPUT = 1 << 20


@dataclass(frozen=True)
class Found(Generic[T]):
    """A probe's result and the sentences it wants the user to read."""

    value: T
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolRun:
    name: str
    status: Literal["ok", "missing", "failed", "timeout"]
    path: str = ""
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    note: str = ""  # a sentence for Machine.notes when status is "failed" or "timeout"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class TargetDefaults:
    """``DIR/machine.json`` of a fixture root: the target's OS, architecture and Python.

    Every key is optional; a missing one defaults to the host's (design.md: "OS, arch and Python
    of the target come from the overrides or default to the host's"). Keys: ``os`` (linux, windows,
    macos), ``arch`` (as the interpreter sees it), ``machine`` (the kernel's ``uname -m``),
    ``pointer_bits``, ``python`` ("3.10.12"), ``libc`` (glibc, musl), ``libc_version`` ("2.35"),
    ``macos_version`` ("14.5").
    """

    os: str = ""
    arch: str = ""
    machine: str = ""
    pointer_bits: int = 0
    python: str = ""
    libc: str = ""
    libc_version: str = ""
    macos_version: str = ""


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass


@dataclass(frozen=True)
class Root:
    """The machine being probed: ``dir`` is None for the host."""

    dir: Path | None = None

    @property
    def is_host(self) -> bool:
        return self.dir is None

    @property
    def label(self) -> str:
        return "host" if self.dir is None else f"root:{self.dir}"

    def path(self, rel: str) -> Path:
        rel = rel.lstrip("/")
        return Path("/", rel) if self.dir is None else self.dir / rel

    def read(self, rel: str) -> str | None:
        """The text of a file under the root, or None if it cannot be read."""
        try:
            with open(self.path(rel), "rb") as f:
                data = f.read(MAX_READ)
        except OSError:
            return None
        return data.decode("utf-8", "replace")

    def exists(self, rel: str) -> bool:
        try:
            return self.path(rel).exists()
        except OSError:
            return False

    def listdir(self, rel: str) -> list[str]:
        """Sorted entries of a directory under the root; [] when it is missing."""
        try:
            return sorted(os.listdir(self.path(rel)))
        except OSError:
            return []

    def read_json(self, rel: str) -> dict[str, Any] | None:
        text = self.read(rel)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def defaults(self) -> tuple[TargetDefaults, tuple[str, ...]]:
        """The fixture's ``machine.json`` (empty defaults on the host or when absent)."""
        if self.dir is None or not self.exists("machine.json"):
            return TargetDefaults(), ()
        data = self.read_json("machine.json")
        if data is None:
            return TargetDefaults(), (
                f"{self.path('machine.json')} is not a JSON object; ignored.",
            )
        known = TargetDefaults.__dataclass_fields__
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                want = int if key == "pointer_bits" else str
                if isinstance(value, want) and not isinstance(value, bool):
                    values[key] = value
        return TargetDefaults(**values), ()

    def tool_dirs(self) -> tuple[str, ...]:
        if self.dir is not None:
            return (str(self.dir / "bin"),)
        dirs = [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if d]
        if sys.platform.startswith("linux") and WSL_LIB not in dirs:
            dirs.append(WSL_LIB)
        return tuple(dirs)

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=os.pathsep.join(self.tool_dirs()))

    def run_tool(self, name: str, args: list[str], timeout: float) -> ToolRun:
        """Run ``name args`` found by ``which``; never raises, never outlives ``timeout``."""
        path = self.which(name)
        if path is None:
            return ToolRun(name, "missing")
        return run_argv(name, [path, *args], timeout)


def run_argv(name: str, argv: list[str], timeout: float) -> ToolRun:
    """Run an argv (no shell) with stdin closed, in its own session, killed at ``timeout``."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=sys.platform != "win32",
        )
    except OSError as err:
        return ToolRun(
            name,
            "failed",
            argv[0],
            note=f"{name} ({argv[0]}) could not be started: {err.strerror}.",
        )
    try:
        out, errout = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
            proc.communicate(timeout=1.0)
        return ToolRun(
            name,
            "timeout",
            argv[0],
            note=f"{name} did not answer within {timeout:g} s and was stopped; "
            "its findings are missing (a hung driver can cause this).",
        )
    stdout = out[:MAX_OUTPUT].decode("utf-8", "replace")
    stderr = errout[:MAX_OUTPUT].decode("utf-8", "replace")
    if proc.returncode != 0:
        first = (stderr.strip() or stdout.strip()).splitlines()[:1]
        said = f": {first[0][:160]}" if first else ""
        return ToolRun(
            name,
            "failed",
            argv[0],
            stdout,
            stderr,
            proc.returncode,
            note=f"{name} failed (exit code {proc.returncode}){said}.",
        )
    return ToolRun(name, "ok", argv[0], stdout, stderr, 0)
