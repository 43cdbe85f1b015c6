"""Hand-made plans of small real commands for runner tests, and process-table checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from torch_wizard.machine.model import CPUInfo, Machine, OSInfo, PythonInfo
from torch_wizard.plan.model import Estimate, Plan, Resolved, Step

PY = sys.executable


def machine(distro: str = "debian") -> Machine:
    return Machine(
        OSInfo("linux", distro_id=distro, libc="glibc"),
        CPUInfo("x86_64"),
        PythonInfo(".".join(map(str, sys.version_info[:3])), executable=PY),
    )


def py_step(step_id: str, code: str, **kw: object) -> Step:
    """A step running ``python -c code``."""
    return Step(step_id, f"Run {step_id}", (PY, "-c", code), **kw)  # type: ignore[arg-type]


def make_plan(
    venv: Path, *steps: Step, backend: str = "cpu", estimate: Estimate | None = None
) -> Plan:
    resolved = Resolved(
        channel="stable",
        backend=backend,
        torch="2.13.0",
        packages={"torch": "2.13.0"},
        build="wheel",
        installer="pip",
        venv=str(venv),
        index_url="",
    )
    return Plan(machine(), resolved, tuple(steps), estimate=estimate or Estimate())


def processes_with_marker(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state = stat[stat.rfind(")") + 2 :].split()[0]
        if marker in cmd and state != "Z":
            found.append(int(entry.name))
    return found


# A step whose child spawns a grandchild that ignores SIGTERM; both print then wait forever.
STUBBORN_TREE = r"""
import os, signal, subprocess, sys, time
marker = sys.argv[1]
code = "import signal, time, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('grandchild up', flush=True); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", code, marker])
print("child up", flush=True)
time.sleep(600)
"""
