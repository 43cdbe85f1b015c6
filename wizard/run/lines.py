"""Turn a child's raw output into display lines and progress readings. Pure; no I/O.

- ``LineSplitter`` takes byte chunks of any size (a 1 MB line without a newline is fine), decodes
  UTF-8 incrementally, splits lines, keeps only the last segment of carriage-return progress
  redraws, strips ANSI escapes, and bounds memory: a line longer than ``max_line`` is cut.
- ``ProgressParser`` reads pip's ``--progress-bar raw`` lines (pip >= 24.1: ``Progress N of M`` on
  stdout, at most every 0.25 s, for downloads over 512 KiB; pip/_internal/cli/progress_bars.py),
  naming the file from the preceding ``Downloading <url> (<size>)`` line, and ninja's ``[N/M]``
  counters.
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
_UV_DOWNLOAD = re.compile(r"^\s*Downloading (\S+) \(([^)]+)\)$")


def _file_label(url: str) -> str:
    path = urllib.parse.urlsplit(url).path or url
    return urllib.parse.unquote(posixpath.basename(path)) or url


class ProgressParser:
    """Per-step progress reader. ``read(line)`` -> (reading or None, whether to hide the line)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.label = ""

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
            m = _UV_DOWNLOAD.match(line)
            if m:
                self.label = m.group(1)
                return Reading(0, 0, self.label), False
        elif self.kind == "ninja":
            m = _NINJA.match(line)
            if m:
                return Reading(int(m.group(1)), int(m.group(2)), "build"), False
        return None, False
