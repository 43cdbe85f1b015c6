"""A Linux driver that survives its terminal closing (POSIX only; imports termios).

Textual 8.2.8's ``LinuxDriver`` (``drivers/linux_driver.py``, ``drivers/_writer_thread.py``) was
never meant to outlive its terminal, but the wizard must: closing the window mid-install has to
cancel the run and reap its children, which takes a few seconds of a working event loop. Three
things go wrong when the terminal hangs up, and this subclass fixes each:

- The kernel sends SIGHUP *and* SIGCONT. The driver restarts its application mode on every
  SIGCONT, not only after its own SIGTSTP: a second writer and input thread start inside whatever
  the main thread was doing, and the app deadlocks on the writer's queue. Here SIGCONT is passed
  on only after a SIGTSTP (a real Ctrl+Z suspend).
- Every write to the gone terminal fails with EIO, which ends the writer thread; the next 30
  writes fill its queue and block the event loop for good. Here the writer's file drops writes
  that fail (nobody can see them).
- The input thread's read fails with EIO, and the driver turns that into ``App.panic`` (exit 1,
  children stopped in a hurry). Here it calls the app's ``terminal_closed`` instead, the same path
  as SIGHUP.
"""

from __future__ import annotations

import errno
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver


class DroppingWriter:
    """A text stream that forwards to ``stream`` and drops what fails to be written (EIO)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError:
            self.failed = True
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError:
            self.failed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class HangupSafeDriver(LinuxDriver):
    """``LinuxDriver`` with the three fixes of the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = DroppingWriter(self._file)  # type: ignore[assignment,arg-type]
        self._suspended = False

    def _sigtstp_application(self, *args: Any) -> None:
        self._suspended = True
        super()._sigtstp_application(*args)

    def _sigcont_application(self, *args: Any) -> None:
        if not self._suspended:
            return  # not after a suspend: a hangup's SIGCONT, or a stray kill -CONT
        self._suspended = False
        super()._sigcont_application(*args)

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        except OSError as err:
            closed = getattr(self._app, "terminal_closed", None)
            if err.errno != errno.EIO or not callable(closed):
                raise
            self._app.call_later(closed)  # thread-safe: it posts a message
