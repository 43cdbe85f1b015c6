"""Shared helpers for the benchmarks: timing, medians, clean environments, the results table.

Nothing here imports the wizard: every benchmark measures it from the outside (a whole process)
or in a helper subprocess, so one missing piece never stops the others.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
VENV = REPO / ".venv"
PY = str(VENV / "bin" / "python") if (VENV / "bin" / "python").exists() else sys.executable
FIXTURES = REPO / "tests" / "fixtures" / "machines"


class NotAvailable(Exception):
    """The piece this benchmark measures does not exist (yet); the message says which."""


@dataclass
class Row:
    """One line of the results table."""

    section: str
    name: str
    value: str = ""  # the measured median, formatted
    baseline: str = ""  # what it is compared with
    ratio: str = ""  # value / baseline (or a speedup), formatted
    target: str = ""
    status: str = ""  # "met", "MISSED", "" (informational), "not available yet: ...", "error: ..."


@dataclass
class Context:
    quick: bool
    reps_fast: int  # repetitions for sub-second benchmarks
    reps_slow: int  # repetitions for installs
    notes: list[str] = field(default_factory=list)  # details printed under the table
    tmp: Path = Path(tempfile.gettempdir())

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(text, file=sys.stderr, flush=True)


def wizard_argv() -> list[str]:
    """The ``torch-wizard`` console script of the dev venv, else ``python -m torch_wizard``."""
    script = VENV / "bin" / "torch-wizard"
    if script.exists():
        return [str(script)]
    return [PY, "-m", "torch_wizard"]


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def fmt_s(x: float) -> str:
    if x < 1.0:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}x"


def fmt_mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def check(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run_timed(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str = REPO,
    stdout: int | object = subprocess.DEVNULL,
    timeout: float = 1800,
) -> float:
    """Wall seconds of one whole process; raises with its stderr tail when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{Path(argv[0]).name} exited {proc.returncode}: {' | '.join(tail)}")
    return dt


def interleaved(
    cmds: Mapping[str, Sequence[str]],
    reps: int,
    *,
    env: Mapping[str, str] | None = None,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Time every command ``reps`` times, round-robin, so background noise hits all alike."""
    for _ in range(warmup):
        for argv in cmds.values():
            run_timed(argv, env=env)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(reps):
        for name, argv in cmds.items():
            times[name].append(run_timed(argv, env=env))
    return times


@contextlib.contextmanager
def scratch(ctx: Context, prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"twbench-{prefix}-", dir=ctx.tmp))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fixture_root(name: str = "cpu-server") -> Path | None:
    root = FIXTURES / name
    return root if root.is_dir() else None


def machine_info() -> dict[str, str]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    py = subprocess.run([PY, "-VV"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "CPU": model,
        "cores (logical)": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": py.replace("\n", " "),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def markdown_table(rows: Sequence[Row]) -> str:
    head = "| Benchmark | Median | Compared with | Ratio | Target | Status |"
    sep = "|---|---:|---|---:|---|---|"
    out = [head, sep]
    section = ""
    for r in rows:
        if r.section != section:
            section = r.section
            out.append(f"| **{section}** | | | | | |")
        cells = [r.name, r.value, r.baseline, r.ratio, r.target, r.status]
        out.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(out)
