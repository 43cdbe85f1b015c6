"""4. Installing torch 2.13.0 CPU into a fresh venv from a local PEP 503 index on 127.0.0.1.

Variants, each from a fresh scratch directory with empty pip/uv caches and no host pip config:
- by hand: the exact steps of ``torch-wizard plan --format json`` run one after another with
  ``subprocess.run`` (output into a log file), for ``--installer pip`` and ``--installer uv``;
- the wizard: ``torch-wizard install --yes`` with the same choices;
- the plain official recipe: ``python -m venv V`` + ``V/bin/pip install torch --index-url .../cpu``;
- warm: each of the default and the official recipe installs once (untimed) and then again into a
  second venv with the same caches: what a lab admin's second venv on a machine costs. The wizard's
  figure includes its verify step (import torch, a matmul), which the recipe does not do; its
  install steps alone (from its log) are reported too.
Plus venv creation alone: ``python -m venv``, ``virtualenv``, ``uv venv``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    PY,
    REPO,
    VENV,
    Context,
    NotAvailable,
    Row,
    check,
    fmt_ratio,
    fmt_s,
    interleaved,
    median,
    run_timed,
    scratch,
    wizard_argv,
)
from tests.support.torchindex import clean_pip_env

SECTION = "4. Install torch 2.13.0 CPU from a local index"
TORCH = "2.13.0"
TARGET_RATIO = 1.05
COLD_TARGET = 2.5  # the default against the official recipe, empty caches (issue #9)
WARM_TARGET = 10.0  # and with warm caches
LAST_VENV: dict[str, Any] = {}  # what the disk benchmark measures afterwards


@contextlib.contextmanager
def local_index() -> Iterator[str]:
    """The URL of a served copy of tests/support/torchindex's index (``<url>/whl``)."""
    try:
        from tests.support import torchindex
        from tests.support.httpserver import serve_directory
    except ImportError as err:
        raise NotAvailable(f"tests/support/torchindex.py: {err}") from err
    root = torchindex.build_index()
    if root is None:
        raise NotAvailable(f"local torch index: {torchindex.last_error}")
    with serve_directory(root) as url:
        yield url + "/whl"


def choice_flags(installer: str | None, venv: Path, index_base: str) -> list[str]:
    flags = [
        "--backend",
        "cpu",
        "--torch",
        TORCH,
        "--packages",
        "torch",
        "--venv",
        str(venv),
        "--index-base",
        index_base,
    ]
    return flags + (["--installer", installer] if installer else [])


def plan_json(
    installer: str | None, venv: Path, index_base: str, env: dict[str, str]
) -> dict[str, Any]:
    p = subprocess.run(
        [*wizard_argv(), "plan", "--format", "json", *choice_flags(installer, venv, index_base)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if p.returncode != 0:
        raise RuntimeError(f"plan failed: {p.stderr.strip()[-200:]}")
    return dict(json.loads(p.stdout))


def by_hand(plan: dict[str, Any], env: dict[str, str], log: Path) -> float:
    """Run the plan's steps in order, as a person pasting them would; the total wall time."""
    total = 0.0
    with open(log, "wb") as fh:
        for step in plan["steps"]:
            total += run_timed(
                step["argv"],
                env={**env, **step.get("env", {})},
                cwd=step.get("cwd") or REPO,
                stdout=fh,
            )
    return total


def wizard_install(
    installer: str | None, venv: Path, index_base: str, env: dict[str, str], log: Path
) -> float:
    argv = [
        *wizard_argv(),
        "install",
        "--yes",
        *choice_flags(installer, venv, index_base),
        "--log",
        str(log),
    ]
    return run_timed(argv, env=env)


def steps_seconds(log: Path, skip: tuple[str, ...] = ()) -> float:
    """The sum of the step durations the runner wrote into its log (``<== id: exit N after X s``),
    without the steps named in ``skip``."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = re.findall(r"^<== (\S+): exit -?\d+ after ([\d.]+) s", text, re.M)
    return sum(float(x) for step, x in found if step not in skip)


def official(venv: Path, index_base: str, env: dict[str, str]) -> float:
    t = run_timed([PY, "-m", "venv", str(venv)], env=env)
    t += run_timed(
        [
            str(venv / "bin" / "pip"),
            "install",
            f"torch=={TORCH}",
            "--index-url",
            f"{index_base}/cpu",
        ],
        env=env,
    )
    return t


def _fresh_env(tmp: Path) -> dict[str, str]:
    env = clean_pip_env(cache=tmp / "cache")
    env["XDG_STATE_HOME"] = str(tmp / "state")
    # uv is installed where the wizard's own tools are (the dev venv); plans call it by name.
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(ctx: Context) -> list[Row]:
    if not (REPO / "torch_wizard" / "commands" / "install.py").exists():
        return [
            Row(
                SECTION,
                "torch-wizard install",
                status="not available yet: torch_wizard/commands/install.py missing",
            )
        ]
    rows: list[Row] = []
    reps = ctx.reps_slow
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "hand-pip",
            "wizard-pip",
            "hand-uv",
            "wizard-uv",
            "official",
            "wizard-default",
            "official-warm",
            "wizard-default-warm",
        )
    }
    warm_steps: list[float] = []  # the warm default's steps without verify, from its log
    default_installer = ""
    overhead: dict[str, list[float]] = {}  # wizard wall time minus its steps' own durations
    with local_index() as index_base:
        names = list(times)
        for rep in range(reps):
            # Rotate the order each repetition, and flush the previous variant's writes (a 750 MB
            # venv, then its removal) before timing the next: otherwise whoever runs second pays.
            for variant in names[rep % len(names) :] + names[: rep % len(names)]:
                os.sync()
                with scratch(ctx, f"inst-{variant}") as tmp:
                    env = _fresh_env(tmp)
                    venv = tmp / "venv"
                    kind = variant.split("-", 1)[-1]
                    if variant == "official":
                        t = official(venv, index_base, env)
                    elif variant == "official-warm":
                        official(tmp / "first", index_base, env)  # fills pip's cache
                        t = official(venv, index_base, env)
                    elif variant == "wizard-default-warm":
                        wizard_install(None, tmp / "first", index_base, env, tmp / "first.log")
                        t = wizard_install(None, venv, index_base, env, tmp / "wizard.log")
                        warm_steps.append(steps_seconds(tmp / "wizard.log", skip=("verify",)))
                    elif variant.startswith("hand-"):
                        t = by_hand(plan_json(kind, venv, index_base, env), env, tmp / "hand.log")
                    elif variant == "wizard-default":
                        plan = plan_json(None, venv, index_base, env)
                        default_installer = plan["choice"]["installer"]
                        t = wizard_install(None, venv, index_base, env, tmp / "wizard.log")
                    else:
                        t = wizard_install(kind, venv, index_base, env, tmp / "wizard.log")
                    times[variant].append(t)
                    if variant.startswith("wizard-") and not variant.endswith("-warm"):
                        overhead.setdefault(variant, []).append(
                            t - steps_seconds(tmp / "wizard.log")
                        )
                    ctx.note(f"  install rep {rep + 1}/{reps} {variant}: {fmt_s(t)}")
                    if variant == "wizard-default" and rep == reps - 1:
                        from bench.b_disk import installed_dists, venv_bytes

                        LAST_VENV.update(
                            bytes=venv_bytes(venv),
                            dists=installed_dists(venv),
                            installer=default_installer,
                        )
    m = {k: median(v) for k, v in times.items()}
    for kind in ("pip", "uv"):
        hand, wiz = m[f"hand-{kind}"], m[f"wizard-{kind}"]
        rows.append(Row(SECTION, f"{kind}: the plan's commands by hand", fmt_s(hand)))
        rows.append(
            Row(
                SECTION,
                f"{kind}: torch-wizard install --installer {kind}",
                fmt_s(wiz),
                f"{kind} by hand",
                fmt_ratio(wiz / hand),
                f"< {TARGET_RATIO:g}x",
                check(wiz / hand < TARGET_RATIO),
            )
        )
        own = median(overhead[f"wizard-{kind}"])
        rows.append(
            Row(
                SECTION,
                f"{kind}: the wizard's own time (its wall time minus its steps, from its log)",
                fmt_s(own),
                f"{kind} by hand",
                f"+{own / hand * 100:.1f}%",
                f"< +{(TARGET_RATIO - 1) * 100:.0f}%",
                check(own / hand < TARGET_RATIO - 1),
            )
        )
    rows.append(
        Row(
            SECTION,
            "official recipe: python -m venv + pip install torch --index-url",
            fmt_s(m["official"]),
        )
    )
    speed = m["official"] / m["wizard-default"]
    rows.append(
        Row(
            SECTION,
            f"torch-wizard install (default: {default_installer}, verify included)",
            fmt_s(m["wizard-default"]),
            "official recipe",
            f"{speed:.2f}x faster" if speed >= 1 else f"{1 / speed:.2f}x slower",
            f">= {COLD_TARGET:g}x",
            check(speed >= COLD_TARGET),
        )
    )
    rows.append(
        Row(
            SECTION,
            "torch-wizard install --installer uv vs official recipe",
            fmt_s(m["wizard-uv"]),
            "official recipe",
            f"{m['official'] / m['wizard-uv']:.2f}x faster",
        )
    )
    hand = m[f"hand-{default_installer}"] if default_installer in ("pip", "uv") else 0.0
    if hand:
        ratio = m["wizard-default"] / hand
        rows.append(
            Row(
                SECTION,
                f"default vs the same {default_installer} commands by hand",
                fmt_s(m["wizard-default"]),
                f"{default_installer} by hand",
                fmt_ratio(ratio),
                f"< {TARGET_RATIO:g}x",
                check(ratio < TARGET_RATIO),
            )
        )
    rows.append(
        Row(
            SECTION,
            "warm: official recipe again (pip's cache filled by a first run)",
            fmt_s(m["official-warm"]),
        )
    )
    warm = m["official-warm"] / m["wizard-default-warm"]
    rows.append(
        Row(
            SECTION,
            f"warm: torch-wizard install again (default: {default_installer}, verify included)",
            fmt_s(m["wizard-default-warm"]),
            "official recipe, warm",
            f"{warm:.2f}x faster",
            f">= {WARM_TARGET:g}x",
            check(warm >= WARM_TARGET),
        )
    )
    steps = median(warm_steps)
    rows.append(
        Row(
            SECTION,
            "warm: its install steps alone (create-venv + install-torch, from its log)",
            fmt_s(steps),
            "official recipe, warm",
            f"{m['official-warm'] / steps:.1f}x faster",
        )
    )
    rows.extend(venv_creation(ctx))
    return rows


def venv_creation(ctx: Context) -> list[Row]:
    section = "4b. Venv creation"
    with scratch(ctx, "venvs") as tmp:
        env = clean_pip_env(cache=tmp / "cache")
        env["VIRTUALENV_OVERRIDE_APP_DATA"] = str(tmp / "vapp")
        n = 0

        def target() -> str:
            nonlocal n
            n += 1
            return str(tmp / f"v{n}")

        virtualenv = VENV / "bin" / "virtualenv"
        uv = VENV / "bin" / "uv"

        class Fresh(list[str]):
            """An argv whose last item is a new directory each time it is iterated."""

            def __iter__(self) -> Iterator[str]:
                yield from list.__iter__(self)
                yield target()

        cmds: dict[str, list[str]] = {
            "python -m venv (with pip)": Fresh([PY, "-m", "venv"]),
            "python -m venv --without-pip": Fresh([PY, "-m", "venv", "--without-pip"]),
        }
        if virtualenv.exists():
            cmds["virtualenv (seeds pip, setuptools)"] = Fresh(
                [str(virtualenv), "--no-periodic-update", "--python", PY, "-q"]
            )
        if uv.exists():
            cmds["uv venv (no pip)"] = Fresh([str(uv), "venv", "-q", "--python", PY])
            cmds["uv venv --seed (with pip)"] = Fresh(
                [str(uv), "venv", "-q", "--seed", "--python", PY]
            )
        times = interleaved(cmds, max(3, ctx.reps_fast // 2), env=env)
    base = median(times["python -m venv (with pip)"])
    rows = []
    for name, ts in times.items():
        med = median(ts)
        rows.append(
            Row(
                section,
                name,
                fmt_s(med),
                "python -m venv",
                f"{base / med:.1f}x faster" if name != "python -m venv (with pip)" else "1.00x",
            )
        )
    return rows


if __name__ == "__main__":
    c = Context(quick=True, reps_fast=4, reps_slow=1, tmp=Path("/tmp"))
    for r in venv_creation(c):
        print(r)
