"""The standard streams, made safe before a command runs.

A command may be started with stdin or stdout closed (``<&-``, ``>&-``), with stdout on a full
disk or ``/dev/full``, or with an encoding that cannot show a path (``PYTHONIOENCODING=ascii``
and a venv named ``café``). Each of these used to end in a traceback. Here:

- a closed stdin or stderr gets ``/dev/null`` in its place, so no file opened later takes that
  descriptor (a log file on fd 0 would be read by the next child) and prompts see end of input;
- a closed stdout is a usage problem (``prepare`` returns the sentence): the command's output
  is its point, so nothing runs;
- ``guard_stdout`` wraps ``sys.stdout`` so that a failing write (ENOSPC, EIO) or text the
  encoding cannot hold raises ``OutputError``, one line and exit 2, instead of a traceback. A
  broken pipe (``plan | head``) stays a ``BrokenPipeError``, which the CLI ends quietly.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO, cast

from torch_wizard.errors import UsageError

STDOUT_CLOSED = (
    "standard output is closed, so there is nowhere to write to: run torch-wizard with an "
    "output (a terminal, a file such as > plan.txt, or > /dev/null)"
)


class OutputError(UsageError):
    """Standard output cannot take what the command writes."""

    def __init__(self, message: str, *, unencodable: bool = False) -> None:
        super().__init__(message)
        self.unencodable = unencodable


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def _fill(fd: int, flags: int) -> None:
    """Put /dev/null on the closed descriptor ``fd`` (open returns the lowest free one)."""
    got = os.open(os.devnull, flags)
    if got != fd:
        os.dup2(got, fd)
        os.close(got)


def prepare() -> str:
    """Fill closed stdin and stderr with /dev/null; "" or the sentence for a closed stdout."""
    if _closed(0):
        _fill(0, os.O_RDONLY)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 (lives as long as the process)
    stdout_closed = _closed(1)
    if _closed(2):
        _fill(2, os.O_WRONLY)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    if stdout_closed:
        _fill(1, os.O_WRONLY)  # so nothing opened later lands on fd 1
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        return STDOUT_CLOSED
    return ""


class _GuardedStdout:
    """``sys.stdout`` with write errors as ``OutputError``; everything else is the stream's."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def _failed(self, err: OSError) -> OutputError:
        silence()
        return OutputError(
            f"cannot write to standard output ({err.strerror or err}): send it where there is "
            "room (a terminal, or a file on a disk with free space)"
        )

    def write(self, text: str) -> int:
        try:
            return self._inner.write(text)
        except BrokenPipeError:
            raise
        except UnicodeEncodeError as err:
            bad = err.object[err.start : err.end]
            raise OutputError(
                f"standard output's encoding ({self._inner.encoding}) cannot show {bad!r}, "
                "which is part of the output (a path?): set PYTHONIOENCODING=utf-8 or use a "
                "UTF-8 locale",
                unencodable=True,
            ) from None
        except OSError as err:
            raise self._failed(err) from None

    def flush(self) -> None:
        try:
            self._inner.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise self._failed(err) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def guard_stdout() -> None:
    if not isinstance(sys.stdout, _GuardedStdout) and sys.stdout is not None:
        sys.stdout = cast(TextIO, _GuardedStdout(sys.stdout))


def silence() -> None:
    """Point fd 1 at /dev/null, so the interpreter's last flush of a failed stdout is quiet."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass
