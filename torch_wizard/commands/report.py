"""``torch-wizard report DIR [--json]``: one table over the reports a lab playbook fetched.

DIR holds one folder per host (``reports/<inventory_hostname>/`` of ``export ansible``'s
playbook) with ``receipt.json`` (the receipt of the host's last install) and ``doctor.json``
(``torch-wizard doctor --json`` there), and ``failure.txt`` when the host failed (the
playbook writes torch-wizard's one-line message there). Each host is one row: torch, backend, device, GFLOP/s of
the verification matmul and the doctor's verdict. A host folder without either file, or with a
file that is not torch-wizard's, is a row saying so, not a crash.

Exit codes: 0 every host is healthy, 1 at least one is not (failed install, doctor problems, a
missing report), 2 bad input (DIR missing or holding no host folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from torch_wizard.errors import UsageError


@dataclass(frozen=True)
class HostRow:
    host: str
    torch: str = ""
    backend: str = ""
    device: str = ""
    gflops: float = 0.0
    ok: bool = False
    verdict: str = ""  # "ok", or what is wrong, in a few words
    problems: tuple[str, ...] = ()
    installed: str = ""  # when the receipt was written


def _read(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(the JSON object, "") or (None, why not)."""
    if not path.is_file():
        return None, f"no {path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"{path.name} is unreadable ({type(err).__name__})"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a torch-wizard report"
    return data, ""


def _text(data: dict[str, Any] | None, *keys: str) -> str:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return str(value) if isinstance(value, (str, int, float)) and value != "" else ""


def host_row(folder: Path) -> HostRow:
    receipt, receipt_why = _read(folder / "receipt.json")
    doctor, doctor_why = _read(folder / "doctor.json")
    torch = _text(doctor, "torch") or _text(receipt, "torch")
    backend = _text(receipt, "plan", "choice", "backend") or _text(doctor, "variant")
    device = _text(doctor, "device") or _text(receipt, "verify", "device")
    gflops_raw = (doctor or {}).get("gflops") or (receipt or {}).get("verify", {}).get("gflops")
    gflops = float(gflops_raw) if isinstance(gflops_raw, (int, float)) else 0.0
    raw_problems = (doctor or {}).get("problems", [])
    problems = tuple(str(p) for p in raw_problems) if isinstance(raw_problems, list) else ()
    outcome = _text(receipt, "outcome")
    failure = folder / "failure.txt"
    failed = (
        failure.read_text(encoding="utf-8", errors="replace").strip() if failure.is_file() else ""
    )
    if failed:
        verdict = f"failed: {failed.removeprefix('torch-wizard: ')}"
    elif receipt is not None and outcome != "ok":
        message = _text(receipt, "message")
        verdict = f"install {outcome or 'unknown'}" + (f": {message}" if message else "")
    elif doctor is None:
        verdict = doctor_why
    elif problems:
        verdict = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}: {problems[0]}"
    elif not torch:
        verdict = "torch does not work"
    elif receipt is None:
        verdict = f"ok ({receipt_why})"
    else:
        verdict = "ok"
    ok = verdict.startswith("ok")
    return HostRow(
        host=folder.name,
        torch=torch,
        backend=backend,
        device=device,
        gflops=gflops,
        ok=ok,
        verdict=verdict,
        problems=problems,
        installed=_text(receipt, "created"),
    )


def rows_of(directory: Path) -> list[HostRow]:
    if not directory.is_dir():
        raise UsageError(
            f"{directory}: no such folder; give the reports/ folder the lab playbook fetched into"
        )
    hosts = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not hosts:
        raise UsageError(
            f"{directory} holds no host folder: give the reports/ folder of the lab playbook "
            "(one folder per host, each with receipt.json and doctor.json)"
        )
    return [host_row(h) for h in hosts]


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def render_table(rows: list[HostRow]) -> str:
    head = ("host", "torch", "backend", "device", "GFLOP/s", "doctor")
    body = [
        (
            r.host,
            r.torch or "-",
            r.backend or "-",
            r.device or "-",
            f"{r.gflops:,.1f}" if r.gflops else "-",
            _short(r.verdict, 100),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    right = {4}

    def line(cells: tuple[str, ...]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    healthy = sum(r.ok for r in rows)
    lines = [line(head), line(tuple("-" * w for w in widths))]
    lines += [line(row) for row in body]
    lines.append(f"{healthy} of {len(rows)} host{'s' if len(rows) != 1 else ''} ok")
    return "\n".join(lines) + "\n"


REPORT_SCHEMA = 1  # schema_version of report --json (docs/json.md)


def run(args: argparse.Namespace) -> int:
    rows = rows_of(Path(args.report_dir).expanduser())
    if getattr(args, "json", False):
        table = {"schema_version": REPORT_SCHEMA, "hosts": [asdict(r) for r in rows]}
        sys.stdout.write(json.dumps(table, indent=2) + "\n")  # docs/json.md
    else:
        sys.stdout.write(render_table(rows))
    return 0 if all(r.ok for r in rows) else 1
