"""3. Runner overhead: a child printing N lines through the runner (log file) vs to /dev/null;
the same through the real Textual Run screen (headless): longest gap between 20 ms timer ticks and
peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import (
    PY,
    REPO,
    Context,
    NotAvailable,
    Row,
    check,
    fmt_ratio,
    fmt_s,
    median,
    run_timed,
    scratch,
    wizard_argv,
)

SECTION = "3. Runner overhead"
TARGET_RATIO = 1.5
TARGET_GAP = 0.25  # s: longest pause between 20 ms UI timer ticks while 1M lines stream in


def _probe(args: list[str], timeout: float = 900) -> dict[str, Any]:
    p = subprocess.run(
        [PY, "-m", "bench.probe", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if p.returncode != 0:
        tail = " | ".join(p.stderr.strip().splitlines()[-2:])
        raise RuntimeError(f"probe {args[0]} failed: {tail[:300]}")
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def _available(module: str) -> None:
    path = REPO / (module.replace(".", "/") + ".py")
    if not path.exists():
        raise NotAvailable(f"{path.relative_to(REPO)} missing")


CONSOLE = """
import sys
from pathlib import Path
from torch_wizard.commands.install import ConsolePrinter
from torch_wizard.plan.model import Plan
from torch_wizard.run.runner import Runner, run_sync
from torch_wizard.serial import from_json
import json
plan = from_json(Plan, json.loads(Path(sys.argv[1]).read_text()))
runner = Runner(plan, log_path=sys.argv[2])
fin = run_sync(plan, ConsolePrinter(plan, sys.stdout, sys.stderr), runner=runner)
sys.exit(0 if fin.outcome == "ok" else 1)
"""


def console_install(tmp: Path, n: int, rep: int) -> float:
    """The console ``install``'s printer over the runner, for a one-step plan printing ``n``
    lines (``install --plan`` itself refuses a hand-made plan: it is not one torch-wizard makes)."""
    venv = tmp / f"venv-{rep}"
    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state")}
    out = subprocess.run(
        [*wizard_argv(), "plan", "--format", "json", "--backend", "cpu", "--venv", str(venv)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    plan = json.loads(out)
    plan["steps"] = [
        {
            "id": "lines",
            "title": f"Print {n:,} lines",
            "argv": [PY, "-m", "bench.probe", "lines", str(n)],
            "env": {},
            "cwd": str(REPO),
        }
    ]
    path = tmp / f"lines-{rep}.json"
    path.write_text(json.dumps(plan))
    log = tmp / f"console-{rep}.log"
    t = run_timed([PY, "-c", CONSOLE, str(path), str(log)], env=env)
    log.unlink()
    return t


def run(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    try:
        _available("torch_wizard.run.runner")
    except NotAvailable as err:
        return [Row(SECTION, "1M lines through the runner", status=f"not available yet: {err}")]
    n = 1_000_000
    reps = 2 if ctx.quick else 5
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # what the runner gives its children
    child = [PY, "-m", "bench.probe", "lines", str(n)]
    devnull: list[float] = []
    tofile: list[float] = []
    through: list[float] = []
    rss: dict[int, float] = {}
    cpu: list[tuple[float, float]] = []
    console: list[float] = []
    with scratch(ctx, "runner") as tmp:
        for rep in range(reps):
            devnull.append(run_timed(child, env=env))
            with open(tmp / f"direct-{rep}.log", "wb") as fh:
                tofile.append(run_timed(child, env=env, stdout=fh))
            (tmp / f"direct-{rep}.log").unlink()
            t0 = time.perf_counter()
            res = _probe(["runner", str(n), str(tmp / f"run-{rep}.log")])
            _ = time.perf_counter() - t0
            if res["lines"] != n or res["outcome"] != "ok":
                raise RuntimeError(
                    f"runner delivered {res['lines']} of {n} lines ({res['outcome']})"
                )
            through.append(res["seconds"])
            cpu.append((res["cpu_s"], res["child_cpu_s"]))
            rss[n] = max(rss.get(n, 0.0), res["maxrss_mb"])
            (tmp / f"run-{rep}.log").unlink()
            console.append(console_install(tmp, n, rep))
        small = _probe(["runner", "100000", str(tmp / "small.log")])
        rss[100_000] = small["maxrss_mb"]
    base, run_s, file_s = median(devnull), median(through), median(tofile)
    rows.append(Row(SECTION, "child printing 1M lines > /dev/null (baseline)", fmt_s(base)))
    rows.append(
        Row(
            SECTION,
            "same child > a file (shell redirect)",
            fmt_s(file_s),
            "/dev/null",
            fmt_ratio(file_s / base),
        )
    )
    rows.append(
        Row(
            SECTION,
            "same child through Runner (log file + events)",
            fmt_s(run_s),
            "/dev/null",
            fmt_ratio(run_s / base),
            f"< {TARGET_RATIO:g}x",
            check(run_s / base < TARGET_RATIO),
        )
    )
    con = median(console)
    rows.append(
        Row(
            SECTION,
            "same child via the console install printer (stdout > /dev/null)",
            fmt_s(con),
            "/dev/null",
            fmt_ratio(con / base),
        )
    )
    own, kid = median([c[0] for c in cpu]), median([c[1] for c in cpu])
    ctx.note(
        f"- Runner, 1M lines: the runner process used {own:.2f} s CPU (start-up and plan "
        f"included), the child {kid:.2f} s; on {os.cpu_count()} cores both compete"
    )
    rows.append(
        Row(
            SECTION,
            "Runner process peak RSS, 100k / 1M lines",
            f"{rss[100_000]:.0f} / {rss[n]:.0f} MB",
            "",
            "",
            "bounded",
            check(rss[n] < rss[100_000] * 1.5 + 20),
        )
    )
    try:
        _available("torch_wizard.ui.app")
        _available("torch_wizard.ui.screens.run")
    except NotAvailable as err:
        rows.append(Row(SECTION, "Run screen (headless)", status=f"not available yet: {err}"))
        return rows
    ui: dict[int, dict[str, Any]] = {}
    with scratch(ctx, "runui") as tmp:
        for count in (100_000, n):
            ui[count] = _probe(["ui", str(count), str(tmp / f"ui-{count}.log")])
    big = ui[n]
    rows.append(
        Row(
            SECTION,
            "1M lines through the Run screen (headless WizardApp)",
            fmt_s(big["seconds"]),
            "/dev/null",
            fmt_ratio(big["seconds"] / base),
        )
    )
    rows.append(
        Row(
            SECTION,
            "Run screen: longest gap between 20 ms ticks, 100k / 1M lines",
            f"{ui[100_000]['max_gap'] * 1000:.0f} / {big['max_gap'] * 1000:.0f} ms",
            "p99 " + f"{big['p99_gap'] * 1000:.0f} ms",
            "",
            f"< {TARGET_GAP * 1000:.0f} ms",
            check(big["max_gap"] < TARGET_GAP),
        )
    )
    rows.append(
        Row(
            SECTION,
            "Run screen process peak RSS, 100k / 1M lines",
            f"{ui[100_000]['maxrss_mb']:.0f} / {big['maxrss_mb']:.0f} MB",
            "",
            "",
            "bounded",
            check(big["maxrss_mb"] < ui[100_000]["maxrss_mb"] * 1.5 + 20),
        )
    )
    ctx.note(
        f"- Run screen, 1M lines: {big['ticks']} timer ticks in {fmt_s(big['seconds'])}, "
        f"outcome {big['outcome']}"
    )
    return rows


if __name__ == "__main__":
    c = Context(quick=True, reps_fast=5, reps_slow=1, tmp=Path("/tmp"))
    for r in run(c):
        print(r)
