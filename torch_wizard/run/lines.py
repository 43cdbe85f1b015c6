"""Turn a child's raw output into display lines and progress readings. Pure; no I/O.

- ``LineSplitter`` takes byte chunks of any size (a 1 MB line without a newline is fine), decodes
  UTF-8 incrementally, splits lines, keeps only the last segment of carriage-return progress
  redraws, strips ANSI escapes, and bounds memory: a line longer than ``max_line`` is cut.
- ``ProgressParser`` reads pip's ``--progress-bar raw`` lines (pip >= 24.1: ``Progress N of M`` on
  stdout, at most every 0.25 s, for downloads over 512 KiB; pip/_internal/cli/progress_bars.py),
  naming the file from the preceding ``Downloading <url> (<size>)`` line, uv's download lines, and
  ninja's ``[N/M]`` counters.

uv draws its progress bars only on a terminal; through a pipe it prints one line when a download
over 1 MiB (or of unknown size) starts, ``Downloading torch (182.9MiB)``, and one when it ends,
`` Downloaded torch`` (astral-sh/uv#11165), and no byte counts in between: no option or variable
turns byte progress on without a terminal (astral-sh/uv#1566 asks for machine-readable output).
So a uv step's progress counts whole downloads: ``done`` is the bytes of the downloads that
finished, ``total`` the bytes of all announced so far (a size is uv's, rounded to 0.1 of its
binary unit), the label names what is still downloading. ``Prepared N packages`` ends it.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import urllib.parse
from dataclasses import dataclass

MAX_LINE = 64 * 1024  # longest line kept in memory before it is cut
MAX_DISPLAY = 4096  # longest line shown; the log file keeps everything

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), and two-byte escapes (ESC + one char).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_ansi(text: str) -> str:
    return _CONTROL.sub("", _ANSI.sub("", text))


def display_line(raw: str) -> str:
    """One display line from one raw line: ANSI gone, only the last ``\\r`` redraw kept."""
    text = raw if raw.isprintable() else _last_redraw(strip_ansi(raw))  # most lines: no regexes
    text = text.rstrip()
    if len(text) > MAX_DISPLAY:
        text = text[:MAX_DISPLAY] + " …"
    return text


def _last_redraw(text: str) -> str:
    if "\r" not in text:
        return text
    segments = [s for s in text.split("\r") if s.strip()]
    return segments[-1] if segments else ""


class LineSplitter:
    """Feed byte chunks, get complete display lines; ``flush`` returns the unterminated rest."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._max = max_line
        self._skipping = False  # inside an over-long line whose start was already emitted

    def feed(self, data: bytes) -> list[str]:
        text = self._decoder.decode(data)
        if self._skipping:
            if "\n" not in text:
                return []
            self._skipping = False
            text = text[text.index("\n") + 1 :]
        text = self._partial + text
        if "\n" not in text:
            self._partial = self._trim(text)
            return self._cut()
        parts = text.split("\n")
        self._partial = self._trim(parts.pop())
        return [display_line(p) for p in parts] + self._cut()

    def flush(self) -> list[str]:
        rest = self._decoder.decode(b"", final=True)
        text = self._partial + ("" if self._skipping else rest)
        self._partial = ""
        self._skipping = False
        return [display_line(text)] if text.strip() else []

    @staticmethod
    def _trim(partial: str) -> str:
        """Drop redraws already overwritten by a later ``\\r`` (keep the newest segment)."""
        if "\r" not in partial:
            return partial
        body = partial.rstrip("\r")
        cut = body.rfind("\r")
        return partial[cut + 1 :] if cut >= 0 else partial

    def _cut(self) -> list[str]:
        if len(self._partial) <= self._max:
            return []
        line, self._partial = self._partial, ""
        self._skipping = True
        return [display_line(line)]


@dataclass(frozen=True)
class Reading:
    done: int
    total: int
    label: str


_PIP_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)$")
_PIP_DOWNLOAD = re.compile(r"^\s*(?:Downloading|Resuming download) (\S+)")
# pip -v indents a build backend's output by two spaces (source builds: pip install -v .)
_NINJA = re.compile(r"^\s*\[(\d+)/(\d+)\]\s")
_UV_DOWNLOAD = re.compile(r"^\s*Downloading (\S+)(?: \(([\d.]+) ?([KMGT]?i?B)\))?$")
_UV_DOWNLOADED = re.compile(r"^\s*Downloaded (\S+)$")
_UV_PREPARED = re.compile(r"^\s*Prepared \d+ packages? in ")
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def uv_size(number: str, unit: str) -> int:
    """ "182.9", "MiB" -> bytes (uv's ``human_readable_bytes``: binary units, one decimal)."""
    return round(float(number) * _UNITS.get(unit, 1))


class UvDownloads:
    """uv's download start and end lines, as whole-download progress (module docstring)."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}  # name -> bytes (0: size unknown)
        self.finished: set[str] = set()

    def reading(self) -> Reading:
        done = sum(self.sizes[n] for n in self.finished)
        total = sum(self.sizes.values())
        waiting = [
            n for n in sorted(self.sizes, key=lambda n: -self.sizes[n]) if n not in self.finished
        ]
        count = f"{len(self.finished)} of {len(self.sizes)} downloads"
        label = f"{', '.join(waiting)} ({count})" if waiting else count
        return Reading(done, total, label)

    def read(self, line: str) -> Reading | None:
        m = _UV_DOWNLOAD.match(line)
        if m:
            name, number, unit = m.groups()
            self.sizes[name] = uv_size(number, unit) if number else 0
            self.finished.discard(name)
            return self.reading()
        m = _UV_DOWNLOADED.match(line)
        if m and m.group(1) in self.sizes:
            self.finished.add(m.group(1))
            return self.reading()
        if _UV_PREPARED.match(line) and self.sizes:
            self.finished.update(self.sizes)
            return self.reading()
        return None


def _file_label(url: str) -> str:
    path = urllib.parse.urlsplit(url).path or url
    return urllib.parse.unquote(posixpath.basename(path)) or url


class ProgressParser:
    """Per-step progress reader. ``read(line)`` -> (reading or None, whether to hide the line)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.label = ""
        self.uv = UvDownloads()

    def read(self, line: str) -> tuple[Reading | None, bool]:
        if self.kind == "pip":
            m = _PIP_PROGRESS.match(line)
            if m:
                return Reading(int(m.group(1)), int(m.group(2)), self.label), True
            m = _PIP_DOWNLOAD.match(line)
            if m:
                self.label = _file_label(m.group(1))
                return Reading(0, 0, self.label), False
        elif self.kind == "uv":
            return self.uv.read(line), False
        elif self.kind == "ninja":
            m = _NINJA.match(line)
            if m:
                return Reading(int(m.group(1)), int(m.group(2)), "build"), False
        return None, False
