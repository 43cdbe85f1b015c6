"""Render a plan as text, a POSIX shell script, a PowerShell script or JSON.

The rendered commands are the argv lists the runner executes: POSIX lines are ``shlex.join`` of the
argv (with ``NAME=value`` prefixes for the step's environment), so ``shlex.split`` gives them back.
"""

from __future__ import annotations

import json
import shlex

from wizard.plan.model import Plan, Step
from wizard.serial import to_json

FORMATS = ("text", "sh", "ps1", "json")


def command_line(step: Step) -> str:
    """One copyable POSIX shell line: env assignments, then the argv."""
    env = [f"{k}={shlex.quote(v)}" for k, v in step.env.items()]
    line = " ".join([*env, shlex.join(step.argv)])
    if step.cwd:
        line = f"(cd {shlex.quote(step.cwd)} && {line})"
    return line


def ps_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ps_lines(step: Step) -> list[str]:
    lines = [f"$env:{k} = {ps_quote(v)}" for k, v in step.env.items()]
    call = "& " + " ".join(ps_quote(a) for a in step.argv)
    if step.cwd:
        lines.append(f"Push-Location {ps_quote(step.cwd)}")
    lines.append(call)
    lines.append("if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }")
    if step.cwd:
        lines.append("Pop-Location")
    lines.extend(f"Remove-Item Env:{k}" for k in step.env)
    return lines


def summary(plan: Plan) -> str:
    c = plan.choice
    pkgs = ", ".join(f"{n} {v}".strip() for n, v in c.packages.items())
    if c.build == "source":
        return f"{pkgs} [{c.backend}] built from source into {c.venv}"
    index = c.index_url or "PyPI"
    return f"{pkgs} [{c.backend}] from {index} into {c.venv} with {c.installer}"


def render_text(plan: Plan) -> str:
    out = [f"Plan: {summary(plan)}", ""]
    if plan.reasons:
        out.append("Why:")
        out.extend(f"  - {r}" for r in plan.reasons)
        out.append("")
    if plan.warnings:
        out.append("Warnings:")
        out.extend(f"  ! {w}" for w in plan.warnings)
        out.append("")
    if plan.blockers:
        out.append("Blockers (fix these before running the plan):")
        out.extend(f"  x {b}" for b in plan.blockers)
        out.append("")
    est = plan.estimate
    if est.download or est.disk:
        out.append(f"Estimated download {est.download / 1e9:.1f} GB, disk {est.disk / 1e9:.1f} GB.")
        out.append("")
    out.append("Commands:")
    for n, step in enumerate(plan.steps, 1):
        out.append(f"  # {n}. {step.title}")
        out.append(f"  {command_line(step)}")
    return "\n".join(out) + "\n"


def render_sh(plan: Plan) -> str:
    out = [
        "#!/usr/bin/env bash",
        f"# torch-wizard plan: {summary(plan)}",
        "set -euo pipefail",
        "",
    ]
    for n, step in enumerate(plan.steps, 1):
        out.append(f"# {n}. {step.title}")
        out.append(command_line(step))
        out.append("")
    return "\n".join(out)


def render_ps1(plan: Plan) -> str:
    out = [
        f"# torch-wizard plan: {summary(plan)}",
        "$ErrorActionPreference = 'Stop'",
        "",
    ]
    for n, step in enumerate(plan.steps, 1):
        out.append(f"# {n}. {step.title}")
        out.extend(ps_lines(step))
        out.append("")
    return "\r\n".join(out)


def plan_json(plan: Plan) -> dict[str, object]:
    data = to_json(plan)
    if not isinstance(data, dict):
        raise TypeError("a plan serialises to an object")
    ordered = {"schema_version": data.pop("schema_version")}
    ordered.update(data)
    return ordered


def render_json(plan: Plan) -> str:
    return json.dumps(plan_json(plan), indent=2) + "\n"


def render(plan: Plan, fmt: str) -> str:
    return {"text": render_text, "sh": render_sh, "ps1": render_ps1, "json": render_json}[fmt](plan)
