"""1. Whole-process time of ``torch-wizard detect --json`` and ``plan --format json`` (< 0.4 s)."""

from __future__ import annotations

import json
import re
import subprocess
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
    interleaved,
    median,
    wizard_argv,
)

SECTION = "1. CLI start-up (whole process)"
TARGET_S = 0.4


def _target_args() -> tuple[list[str], str]:
    root = fixture_root()
    if root is not None:
        return ["--root", str(root.relative_to(REPO))], "fixture cpu-server"
    return [], "this machine (fixture cpu-server not there yet)"


def _works(argv: list[str]) -> str:
    """ "" when the command runs and prints JSON, else why not."""
    p = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False, timeout=60)
    if p.returncode != 0:
        return (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1][:120]
    try:
        json.loads(p.stdout)
    except ValueError:
        return "did not print JSON"
    return ""


def import_profile(argv: list[str], top: int = 6) -> str:
    """The heaviest imports of one run (``python -X importtime``), as one line."""
    p = subprocess.run(
        [PY, "-X", "importtime", *argv], cwd=REPO, capture_output=True, text=True, check=False
    )
    entries: list[tuple[int, int, str]] = []  # cumulative us, depth, name
    for line in p.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            entries.append((int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    total = sum(c for c, d, _ in entries if d == 0)
    shallow = sorted((e for e in entries if e[1] <= 1), reverse=True)[:top]
    parts = [f"{name} {c / 1000:.0f} ms" for c, _, name in shallow]
    return f"imports {total / 1000:.0f} ms in all; heaviest: " + ", ".join(parts)


def run(ctx: Context) -> list[Row]:
    wiz = wizard_argv()
    target, where = _target_args()
    detect = [*wiz, "detect", "--json", *target]
    plan = [*wiz, "plan", "--format", "json", *target]
    rows: list[Row] = []
    cmds: dict[str, list[str]] = {
        "python -c pass (floor)": [PY, "-c", "pass"],
        'python -c "import torch_wizard"': [PY, "-c", "import torch_wizard"],
        'python -c "import torch_wizard.cli"': [PY, "-c", "import torch_wizard.cli"],
    }
    missing: dict[str, str] = {}
    why = _works(detect)
    if why:
        missing["torch-wizard detect --json"] = why
    else:
        cmds["torch-wizard detect --json"] = detect
    # A driverless GPU machine: detection reads the GPU table and the plan gives driver advice
    # (issue 11); the table must keep detect under the target too.
    gpu_root = REPO / "tests" / "fixtures" / "machines" / "rtx4090-nouveau"
    gpu_detect = [*wiz, "detect", "--json", "--root", str(gpu_root.relative_to(REPO))]
    if gpu_root.is_dir() and not _works(gpu_detect):
        cmds["torch-wizard detect --json (fixture rtx4090-nouveau: GPU table read)"] = gpu_detect
    why = _works(plan)
    if why:
        missing["torch-wizard plan --format json"] = why
    else:
        cmds["torch-wizard plan --format json"] = plan
        profile = ctx.tmp / "twbench-profile.json"
        out = subprocess.run(detect, cwd=REPO, capture_output=True, text=True, check=False)
        if out.returncode == 0:
            profile.write_text(out.stdout)
            cmds["torch-wizard plan --format json --profile FILE"] = [
                *wiz,
                "plan",
                "--format",
                "json",
                "--profile",
                str(profile),
            ]
    times = interleaved(cmds, ctx.reps_fast)
    floor = median(times["python -c pass (floor)"])
    imp = median(times['python -c "import torch_wizard"'])
    for name, ts in times.items():
        m = median(ts)
        is_cmd = name.startswith("torch-wizard")
        rows.append(
            Row(
                SECTION,
                name
                + (f" ({where})" if is_cmd and "--profile" not in name and "(" not in name else ""),
                fmt_s(m),
                "python -c pass" if name != "python -c pass (floor)" else "",
                fmt_ratio(m / floor) if name != "python -c pass (floor)" else "1.00x",
                f"< {TARGET_S:g} s" if is_cmd else "",
                check(m < TARGET_S) if is_cmd else "",
            )
        )
        if is_cmd:
            ctx.note(
                f"- `{name}`: {fmt_s(m)} = floor {fmt_s(floor)} + `import torch_wizard` "
                f"{fmt_s(max(0.0, imp - floor))} + the command {fmt_s(max(0.0, m - imp))}; "
                + import_profile(_as_module(cmds[name], wiz))
            )
    for name, why in missing.items():
        rows.append(
            Row(SECTION, name, target=f"< {TARGET_S:g} s", status=f"not available yet: {why}")
        )
    return rows


def _as_module(argv: list[str], wiz: list[str]) -> list[str]:
    """The same command as ``-m torch_wizard ...`` so ``python -X importtime`` can run it."""
    return ["-m", "torch_wizard", *argv[len(wiz) :]]


if __name__ == "__main__":
    c = Context(quick=True, reps_fast=5, reps_slow=1, tmp=Path("/tmp"))
    for r in run(c):
        print(r)
    if not c.notes:
        raise NotAvailable("nothing measured")
