"""Helper processes for the benchmarks; each mode prints one JSON object on its last stdout line.

python -m bench.probe lines N              the child: print N lines (print(), like pip does)
python -m bench.probe runner N LOG         Runner(plan) running `lines N` into LOG, events drained
python -m bench.probe ui N LOG             the real WizardApp, headless, driven to its Run screen
                                           running `lines N`: longest gap between timer ticks,
                                           peak RSS
python -m bench.probe pilot ROOT           time until the Machine screen shows ROOT's profile
python -m bench.probe floor-pilot          the same for a minimal Textual app (the floor)
python -m bench.probe floor-app            a minimal Textual app for the tmux floor
"""

from __future__ import annotations

import asyncio
import itertools
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
LINE = "Collecting example-package==1.0.0 (from -r requirements.txt (line 12)) 0123456789"


def emit(obj: dict[str, Any]) -> None:
    """Print ``obj`` as JSON; ``at_*`` marks are wall-clock (epoch) times for the parent."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    obj["maxrss_mb"] = me.ru_maxrss / 1024
    obj["cpu_s"] = me.ru_utime + me.ru_stime  # this process (the runner / the app)
    obj["child_cpu_s"] = kids.ru_utime + kids.ru_stime
    sys.stdout.write("\n" + json.dumps(obj) + "\n")
    sys.stdout.flush()


def lines(n: int) -> None:
    for i in range(n):
        print(i, LINE)


def _line_plan(n: int, log_dir: Path) -> Any:
    """A real plan (fixture or host machine) whose only step is `python -m bench.probe lines N`."""
    from torch_wizard.machine import detect
    from torch_wizard.plan import make_plan
    from torch_wizard.plan.model import Choices, Step

    root = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "machines" / "cpu-server"
    machine = detect(root=root if root.is_dir() else None)
    plan = make_plan(machine, Choices(backend="cpu", venv=str(log_dir / "venv")))
    step = Step(
        id="lines",
        title=f"Print {n:,} lines",
        argv=(sys.executable, "-m", "bench.probe", "lines", str(n)),
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    return replace(plan, steps=(step,))


async def _drain_runner(n: int, log: Path) -> dict[str, Any]:
    from torch_wizard.run.events import Finished, Output
    from torch_wizard.run.runner import Runner

    plan = _line_plan(n, log.parent)
    runner = Runner(plan, log_path=log, preflight=False, write_receipt=False)
    got = events = 0
    t0 = time.perf_counter()
    fin = None
    async for ev in runner.events():
        events += 1
        if isinstance(ev, Output):
            got += len(ev.lines)
        elif isinstance(ev, Finished):
            fin = ev
    dt = time.perf_counter() - t0
    assert fin is not None
    return {
        "seconds": dt,
        "lines": got,
        "events": events,
        "outcome": fin.outcome,
        "log_bytes": log.stat().st_size,
    }


def runner(n: int, log: Path) -> None:
    emit(asyncio.run(_drain_runner(n, log)))


def ui(n: int, log: Path) -> None:
    from torch_wizard.run.runner import Runner
    from torch_wizard.ui.app import WizardApp

    plan = _line_plan(n, log.parent)
    app = WizardApp(
        machine=plan.target,
        planner=lambda machine, choices: plan,
        runner_factory=lambda p: Runner(p, log_path=log, preflight=False, write_receipt=False),
        save_dir=log.parent,
    )
    out: dict[str, Any] = {}

    async def drive() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            for key in ("enter", "enter"):  # machine -> choices -> preview
                for _ in range(1000):
                    await pilot.pause(0.01)
                    screen = app.screen
                    if getattr(screen, "step_name", "") in ("machine", "choices") and not (
                        screen.query("#next").first().disabled
                    ):
                        break
                await pilot.press(key)
            for _ in range(1000):
                if type(app.screen).__name__ == "PreviewScreen":
                    break
                await pilot.pause(0.01)
            else:
                raise RuntimeError(
                    f"never reached the Preview screen ({type(app.screen).__name__})"
                )
            ticks: list[float] = []
            app.set_interval(0.02, lambda: ticks.append(time.perf_counter()))
            await pilot.pause(0.1)
            t0 = time.perf_counter()
            await pilot.press("r")
            while app.result is None:
                await asyncio.sleep(0.02)
                if time.perf_counter() - t0 > 600:
                    raise RuntimeError("the run did not finish in 600 s")
            dt = time.perf_counter() - t0
            ticks = [t for t in ticks if t >= t0]
            gaps = sorted(b - a for a, b in itertools.pairwise(ticks))
            out.update(
                seconds=dt,
                outcome=app.result.finished.outcome,
                max_gap=gaps[-1] if gaps else dt,
                p99_gap=gaps[int(len(gaps) * 0.99)] if gaps else dt,
                ticks=len(ticks),
            )

    asyncio.run(drive())
    emit(out)


def _profile_shown(app: Any) -> bool:
    screen = app.screen
    if getattr(screen, "step_name", "") != "machine" or getattr(screen, "machine", None) is None:
        return False
    nxt = screen.query("#next")
    return bool(nxt) and not nxt.first().disabled


def pilot(root: str) -> None:
    from torch_wizard.machine import detect
    from torch_wizard.ui.app import WizardApp

    imported = time.perf_counter()
    app = WizardApp(lambda: detect(root=root), dry_run=True)
    marks: dict[str, float] = {"imported": imported - T0}

    async def drive() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            while True:
                screen = app.screen
                if "at_mounted" not in marks and getattr(screen, "step_name", "") == "machine":
                    if screen.is_mounted:
                        marks["at_mounted"] = time.time()
                if _profile_shown(app):
                    marks["at_ready"] = time.time()
                    break
                if time.perf_counter() - T0 > 60:
                    raise RuntimeError("the Machine screen never showed the profile")
                await pilot.pause(0.005)

    asyncio.run(drive())
    emit(marks)


class _Floor:
    @staticmethod
    def make() -> Any:
        from textual.app import App, ComposeResult
        from textual.widgets import Footer, Static

        class FloorApp(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("FLOOR READY: a minimal Textual app", id="label")
                yield Footer()

        return FloorApp()


def floor_pilot() -> None:
    app = _Floor.make()
    marks: dict[str, float] = {"imported": time.perf_counter() - T0}

    async def drive() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            while not app.screen.query("#label"):
                await pilot.pause(0.005)
            marks["at_mounted"] = marks["at_ready"] = time.time()

    asyncio.run(drive())
    emit(marks)


def floor_app() -> None:
    _Floor.make().run()


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "lines":
        lines(int(argv[1]))
    elif mode == "runner":
        runner(int(argv[1]), Path(argv[2]))
    elif mode == "ui":
        ui(int(argv[1]), Path(argv[2]))
    elif mode == "pilot":
        pilot(argv[1])
    elif mode == "floor-pilot":
        floor_pilot()
    elif mode == "floor-app":
        floor_app()
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
