"""2. From ``torch-wizard`` start to the first interactive screen (< 1.0 s).

Two ways, each against a minimal Textual app as the floor:
- Pilot: a process that builds the WizardApp and runs it with ``App.run_test``; wall time from
  spawning the process until the Machine screen is mounted, and until it shows the detected
  profile with Next enabled (that is "interactive").
- tmux: ``torch-wizard --dry-run --root tests/fixtures/machines/cpu-server`` in a detached 100x30
  session on a private tmux server; ``capture-pane`` is polled until the profile's text appears.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import (
    PY,
    REPO,
    Context,
    NotAvailable,
    Row,
    check,
    fixture_root,
    fmt_ratio,
    fmt_s,
    median,
    scratch,
    wizard_argv,
)

SECTION = "2. Time to the first interactive screen"
TARGET_S = 1.0
# Text the Machine screen shows only once the profile is there (the labels of its last rows).
READY_TEXT = ("Toolchain", "torch now")
FLOOR_TEXT = ("FLOOR READY",)
FIRST_PAINT_TEXT = ("torch-wizard", "Detecting", "Machine", "machine")


def _pilot(args: list[str], env: dict[str, str]) -> dict[str, float]:
    start = time.time()
    p = subprocess.run(
        [PY, "-m", "bench.probe", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    if p.returncode != 0:
        tail = " | ".join(p.stderr.strip().splitlines()[-2:])
        raise RuntimeError(f"pilot probe failed: {tail[:300]}")
    got = json.loads(p.stdout.strip().splitlines()[-1])
    return {"mounted": got["at_mounted"] - start, "ready": got["at_ready"] - start}


class Tmux:
    """A private tmux server (its own socket), so nothing of the user's tmux is touched."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0
        self.sock = str(tmp / "tmux-0.sock")

    def __call__(self, *args: str, check: bool = True) -> str:
        p = subprocess.run(
            ["tmux", "-S", self.sock, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and p.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {p.stderr.strip()}")
        return p.stdout

    def time_to_text(
        self, argv: list[str], env: dict[str, str], want: tuple[str, ...], timeout: float = 30
    ) -> dict[str, float]:
        """Seconds from starting ``argv`` in a new 100x30 session until all ``want`` are on screen."""
        env_args: list[str] = []
        for key in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "TERM"):
            if key in env:
                env_args += ["-e", f"{key}={env[key]}"]
        marks: dict[str, float] = {}
        self.n += 1  # a fresh server per session: no race with the last one shutting down
        self.sock = str(self.tmp / f"tmux-{self.n}.sock")
        t0 = time.perf_counter()
        self(
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            "100",
            "-y",
            "30",
            *env_args,
            "-c",
            str(REPO),
            shlex.join(argv),
        )
        try:
            while True:
                screen = self("capture-pane", "-p", "-t", "bench", check=False)
                now = time.perf_counter() - t0
                if "paint" not in marks and any(t in screen for t in FIRST_PAINT_TEXT + want):
                    marks["paint"] = now
                if all(t in screen for t in want):
                    marks["ready"] = now
                    return marks
                if now > timeout:
                    raise RuntimeError(
                        f"{want} not on screen after {timeout:g} s: "
                        + " / ".join(screen.split())[-200:]
                    )
                time.sleep(0.005)
        finally:
            self("kill-server", check=False)


def run(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    root = fixture_root()
    if not (REPO / "torch_wizard" / "ui" / "app.py").exists():
        return [
            Row(
                SECTION,
                "torch-wizard first screen",
                status="not available yet: torch_wizard/ui/app.py missing",
            )
        ]
    if root is None:
        return [
            Row(
                SECTION,
                "torch-wizard first screen",
                status="not available yet: tests/fixtures/machines/cpu-server missing",
            )
        ]
    reps = ctx.reps_fast
    with scratch(ctx, "ui") as tmp:
        env = {
            **os.environ,
            "XDG_STATE_HOME": str(tmp / "state"),
            "XDG_CONFIG_HOME": str(tmp / "config"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        # Pilot
        floor_p: list[dict[str, float]] = []
        wiz_p: list[dict[str, float]] = []
        _pilot(["pilot", str(root)], env)  # warm the OS file cache
        for _ in range(reps):
            floor_p.append(_pilot(["floor-pilot"], env))
            wiz_p.append(_pilot(["pilot", str(root)], env))
        f_ready = median([m["ready"] for m in floor_p])
        w_mounted = median([m["mounted"] for m in wiz_p])
        w_ready = median([m["ready"] for m in wiz_p])
        rows.append(Row(SECTION, "Pilot: minimal Textual app mounted (floor)", fmt_s(f_ready)))
        rows.append(
            Row(
                SECTION,
                "Pilot: WizardApp, Machine screen mounted",
                fmt_s(w_mounted),
                "Textual floor",
                fmt_ratio(w_mounted / f_ready),
            )
        )
        rows.append(
            Row(
                SECTION,
                "Pilot: WizardApp, profile shown, Next enabled (cpu-server)",
                fmt_s(w_ready),
                "Textual floor",
                fmt_ratio(w_ready / f_ready),
                f"< {TARGET_S:g} s",
                check(w_ready < TARGET_S),
            )
        )
        from bench.b_cli import import_profile

        ctx.note(
            "- First screen: `import torch_wizard.ui.app` "
            + import_profile(["-c", "import torch_wizard.ui.app"])
            + "; minimal Textual app: "
            + import_profile(["-c", "import textual.app, textual.widgets"], top=3)
        )
        # tmux
        if shutil.which("tmux") is None:
            rows.append(
                Row(SECTION, "tmux: real terminal", status="not available: tmux not installed")
            )
            return rows
        tmux = Tmux(tmp)
        env["TERM"] = "xterm-256color"
        wiz = [*wizard_argv(), "--dry-run", "--root", str(root.relative_to(REPO))]
        floor = [PY, "-m", "bench.probe", "floor-app"]
        try:
            tmux.time_to_text(wiz, env, READY_TEXT)
        except RuntimeError as err:
            raise NotAvailable(f"torch-wizard --dry-run did not show the profile: {err}") from err
        floor_t: list[dict[str, float]] = []
        wiz_t: list[dict[str, float]] = []
        for _ in range(reps):
            floor_t.append(tmux.time_to_text(floor, env, FLOOR_TEXT))
            wiz_t.append(tmux.time_to_text(wiz, env, READY_TEXT))
        f = median([m["ready"] for m in floor_t])
        wp = median([m["paint"] for m in wiz_t])
        wr = median([m["ready"] for m in wiz_t])
        rows.append(Row(SECTION, "tmux 100x30: minimal Textual app on screen (floor)", fmt_s(f)))
        rows.append(
            Row(
                SECTION,
                "tmux 100x30: torch-wizard --dry-run, first paint",
                fmt_s(wp),
                "Textual floor",
                fmt_ratio(wp / f),
            )
        )
        rows.append(
            Row(
                SECTION,
                "tmux 100x30: torch-wizard --dry-run, profile on screen",
                fmt_s(wr),
                "Textual floor",
                fmt_ratio(wr / f),
                f"< {TARGET_S:g} s",
                check(wr < TARGET_S),
            )
        )
    return rows


if __name__ == "__main__":
    c = Context(quick=True, reps_fast=3, reps_slow=1, tmp=Path("/tmp"))
    for r in run(c):
        print(r)
