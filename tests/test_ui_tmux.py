"""The real program in a real terminal (tmux, 80x24): ``torch-wizard --dry-run --root cpu-server``,
Enter, Enter, and the preview shows the install command; q leaves with exit 0. And leaving in the
middle of a run (Ctrl+Q, SIGTERM, the terminal closing): the run is cancelled, no child is left,
the terminal is told what happened, exit 130."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.runplan import processes_with_marker

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "tests" / "fixtures" / "machines" / "cpu-server"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, tmp: Path) -> None:
        self.name = f"tw-{uuid.uuid4().hex[:8]}"
        self.socket = str(tmp / "tmux.sock")  # a private server: parallel tests never meet

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        subprocess.run(
            [
                "tmux",
                "-S",
                self.socket,
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
                "-s",
                self.name,
                f"env {exports} {command}",
            ],
            check=True,
            timeout=10,
        )

    def screen(self, joined: bool = False) -> str:
        """The visible pane; ``joined``: wrapped lines joined again (long paths whole)."""
        return self.tmux("capture-pane", "-p", *(["-J"] if joined else []), "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def wait_for(self, text: str, timeout: float = 20.0, joined: bool = False) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(joined)
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.02)

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=10)


def test_dry_run_in_a_real_terminal_reaches_the_preview(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    status = tmp_path / "status"
    term = Tmux(tmp_path)
    command = (
        f"sh -c '{sys.executable} -m torch_wizard --dry-run --root {ROOT} --venv {venv}; "
        f"echo $? > {status}; sleep 30'"
    )
    env = {
        "TERM": "xterm-256color",
        "PYTHONPATH": str(REPO),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    start = time.monotonic()
    term.start(command, env)
    try:
        term.wait_for("1 Machine")
        first_paint = time.monotonic() - start
        screen = term.wait_for("Toolchain")  # detection finished: the profile is shown
        assert "Ubuntu" in screen or "OS" in screen
        assert "No GPU that PyTorch can use was found" in screen  # the verdict, at the top
        assert "▐1 Machine▌ \u203a 2 Choices \u203a 3 Preview" in screen  # dry run: three steps
        term.keys("Enter")
        screen = term.wait_for("Backend")
        assert "CPU only" in screen
        term.keys("Enter")
        screen = term.wait_for("Commands (exactly what runs)")
        assert "-m venv" in screen
        # the install command: page down until it is in view (the preview scrolls)
        install = "-m pip install --isolated --disable-pip-version-check torch=="
        screen = term.screen(joined=True)

        def flat(text: str) -> str:  # the screen wraps long commands itself: read them whole
            return " ".join(text.split())

        for _ in range(30):  # a few lines at a time: a page down can skip a wrapped command
            if install in flat(screen):
                break
            term.keys("Down", "Down", "Down")
            deadline = time.monotonic() + 2  # until it redraws (slow on a loaded machine)
            while (now := term.screen(joined=True)) == screen and time.monotonic() < deadline:
                time.sleep(0.05)
            screen = now
        assert install in flat(screen)
        assert "whl/cpu" in screen
        assert " Run " not in screen  # dry-run: nothing to run
        term.keys("q")
        deadline = time.monotonic() + 10
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status.read_text().strip() == "0"
        assert not venv.exists()
    finally:
        term.kill()
    # Generous for a loaded 2-core CI machine; measured locally it is well under a second.
    print(f"first screen after {first_paint:.2f} s")
    assert first_paint < 3.0, f"first screen after {first_paint:.2f} s"


def wait_until(check: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["cancel", "quit", "SIGTERM", "SIGHUP"])
def test_leaving_mid_run_cancels_it_and_leaves_no_process(tmp_path: Path, how: str) -> None:
    """The wizard (through the ui command's own ``run_app``) runs a plan that makes a real venv,
    then sleeps for ten minutes with a unique marker in its argv. Mid-run it is cancelled with Esc
    (confirmed; the Done screen says so and q leaves), left with Ctrl+Q
    (confirmed), sent SIGTERM, or its terminal is closed (tmux kill-server: SIGHUP and SIGCONT,
    then every read and write fails). Each time: exit 130, no process with the marker left when
    it exits, the venv it made removed, the log kept; where the terminal survives it shows what
    happened, what became of the venv and the log path."""
    venv, state = tmp_path / "venv", tmp_path / "state"
    pid_file, status = tmp_path / "pid", tmp_path / "status"
    marker = f"tw-sleep-{uuid.uuid4().hex}"
    marker_file = tmp_path / "marker"
    marker_file.write_text(marker)
    term = Tmux(tmp_path)
    driver = (
        f"{sys.executable} -m tests.support.ui --venv {venv} --state {state} "
        f"--marker-file {marker_file} --pid-file {pid_file} --status-file {status}"
    )
    env = {
        "TERM": "xterm-256color",
        "PYTHONPATH": str(REPO),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    term.start(f"sh -c '{driver}; sleep 30'", env)
    try:
        term.wait_for("Toolchain")  # detection finished
        term.keys("Enter")
        term.wait_for("Backend")
        term.keys("Enter")
        term.wait_for("Commands (exactly what runs)")
        term.keys("r")
        wait_until(lambda: processes_with_marker(marker), "the sleeping step")
        assert (venv / "pyvenv.cfg").is_file()
        if how == "cancel":  # Esc on the Run screen, confirmed: the Done screen says so
            term.keys("Escape")
            term.wait_for("Cancel install (y)")
            term.keys("y")
            done = term.wait_for("The install was cancelled")
            assert "Copy activate" not in done and "activate" not in done  # the venv is gone
            assert "Back to preview" in done
            term.keys("q")
        elif how == "quit":
            term.keys("C-q")
            term.wait_for("Stop and quit")
            term.keys("y")
        elif how == "SIGTERM":
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        else:
            term.kill()  # the terminal goes away
        wait_until(status.exists, "the wizard to exit")
        assert processes_with_marker(marker) == []  # the children went before the app did
        assert status.read_text() == "130"
        assert not venv.exists()  # made by this run, stopped before torch: removed again
        (log,) = (state / "logs").glob("*.log")
        assert "== outcome: cancelled" in log.read_text()
        if how in ("quit", "SIGTERM"):
            screen = term.wait_for(f"log: {log}", timeout=10, joined=True)
            assert f"torch-wizard: Cancelled during step 'install-torch' ({how})" in screen
            assert f"torch-wizard: The new venv {venv} was removed" in screen
    finally:
        term.kill()
