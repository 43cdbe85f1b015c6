"""Render a plan as text, a POSIX shell script, a PowerShell script or JSON.

The rendered commands are the argv lists the runner executes: POSIX lines are ``shlex.join`` of the
argv (with ``NAME=value`` prefixes for the step's environment), so ``shlex.split`` gives them back.
"""

from __future__ import annotations

import json
import shlex

from torch_wizard.plan.isolation import NOTE as ISOLATION_NOTE
from torch_wizard.plan.isolation import ps1_preamble, sh_preamble
from torch_wizard.plan.model import Plan, Step
from torch_wizard.serial import to_json

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


def _ps_call(argv: tuple[str, ...]) -> str:
    return "& " + " ".join(ps_quote(a) for a in argv)


def ps_lines(step: Step) -> list[str]:
    lines = [f"$env:{k} = {ps_quote(v)}" for k, v in step.env.items()]
    if step.cwd:
        lines.append(f"Push-Location {ps_quote(step.cwd)}")
    if step.fallback:
        lines.append(f"if ($twOptionalFailed) {{ {_ps_call(step.fallback)} }}")
        lines.append(f"else {{ {_ps_call(step.argv)} }}")
    else:
        lines.append(_ps_call(step.argv))
    if step.optional:
        lines.append("if ($LASTEXITCODE -ne 0) { $twOptionalFailed = $true }")
    else:
        lines.append("if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }")
    if step.cwd:
        lines.append("Pop-Location")
    lines.extend(f"Remove-Item Env:{k}" for k in step.env)
    return lines


def _title(n: int, step: Step) -> str:
    return f"# {n}. {step.title}"


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
    out.append("Environment:")
    out.append(f"  {ISOLATION_NOTE}")
    out.append("")
    out.append("Commands:")
    for n, step in enumerate(plan.steps, 1):
        out.append(f"  {_title(n, step)}")
        out.append(f"  {command_line(step)}")
        if step.fallback:
            out.append(
                f"  # ... or, when an optional step before failed: {command_line(_fallback(step))}"
            )
    return "\n".join(out) + "\n"


def _fallback(step: Step) -> Step:
    return Step(step.id, step.title, step.fallback, env=step.env, cwd=step.cwd)


UV_NAMES = ("uv", "uv.exe")
UV_INSTALL_URL = "https://docs.astral.sh/uv/getting-started/installation/"


def uv_program(plan: Plan) -> str:
    """The uv the plan's steps run ("" when none does)."""
    for step in plan.steps:
        for argv in (step.argv, step.fallback):
            if argv and argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower() in UV_NAMES:
                return argv[0]
    return ""


def needs_lines(plan: Plan) -> list[str]:
    """Comment text naming what the commands need beyond the target's Python: uv, when they run
    it (the plan names it by the path it was found at, on the machine the plan was made for)."""
    uv = uv_program(plan)
    if not uv:
        return []
    from torch_wizard.machine.toolchain import MIN_UV

    least = ".".join(map(str, MIN_UV))
    where = f"at {uv}" if ("/" in uv or "\\" in uv) else "on PATH"
    return [
        f"Needs uv {least} or newer {where}: 'pip install uv' (or {UV_INSTALL_URL}) gets it; "
        "or make the plan with --installer pip."
    ]


def render_sh(plan: Plan) -> str:
    """A POSIX sh script (dash, bash, zsh; run as a file or piped to sh) that does what the runner
    does: the same isolation, a private TMPDIR removed at the end, the same steps."""
    out = [
        "#!/bin/sh",
        f"# torch-wizard plan: {summary(plan)}",
        "# POSIX sh: 'sh plan.sh' or piped to sh. Stops at the first failing step.",
        *(f"# {line}" for line in needs_lines(plan)),
        "set -eu",
        *sh_preamble(),
        "# A private temporary directory for the steps, removed at the end.",
        'TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/torch-wizard.XXXXXX")',
        "export TMPDIR",
        "trap 'rm -rf \"$TMPDIR\"' EXIT",
        "trap 'exit 130' INT TERM",
        "tw_optional_failed=0",
        "",
    ]
    for n, step in enumerate(plan.steps, 1):
        out.append(_title(n, step))
        if step.optional:
            out.append(f"{command_line(step)} || tw_optional_failed=1")
        elif step.fallback:
            out.append('if [ "$tw_optional_failed" = 0 ]; then')
            out.append(f"  {command_line(step)}")
            out.append("else")
            out.append(f"  {command_line(_fallback(step))}")
            out.append("fi")
        else:
            out.append(command_line(step))
        out.append("")
    return "\n".join(out)


def render_ps1(plan: Plan) -> str:
    out = [
        f"# torch-wizard plan: {summary(plan)}",
        *(f"# {line}" for line in needs_lines(plan)),
        "$ErrorActionPreference = 'Stop'",
        *ps1_preamble(),
        "# A private temporary directory for the steps, removed at the end.",
        '$twTemp = Join-Path ([IO.Path]::GetTempPath()) ("torch-wizard-" + [guid]::NewGuid())',
        "New-Item -ItemType Directory -Path $twTemp | Out-Null",
        "$env:TEMP = $twTemp",
        "$env:TMP = $twTemp",
        "$twOptionalFailed = $false",
        "try {",
        "",
    ]
    for n, step in enumerate(plan.steps, 1):
        out.append(_title(n, step))
        out.extend(ps_lines(step))
        out.append("")
    out.append("} finally { Remove-Item -Recurse -Force $twTemp -ErrorAction SilentlyContinue }")
    return "\r\n".join(out) + "\r\n"


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
