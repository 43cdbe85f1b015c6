"""``torch-wizard export ansible``: a playbook that sets up PyTorch across a lab.

The playbook (the template ``site.yml`` beside this module) uses only ``ansible.builtin`` modules
(ansible-core 2.15 or newer, no collections). It carries the answers, not a plan: each host runs
``torch-wizard install --config answers.toml --yes``, which detects that host and resolves the
answers for it, so one playbook serves a GTX 1080, an RTX 4090, an AMD workstation and CPU-only
nodes. The answers come from ``--config FILE``, the CHOICES flags and the user config, in that
order of precedence (``torch_wizard.answers.layered``), and are checked here as ``plan`` checks them, so
a bad answer is refused before any host sees it. ``venv`` becomes the playbook's default
``torch_wizard_venv`` rather than an answer: every command on the host names it with ``--venv``.
"""

from __future__ import annotations

import argparse
import os
import re
from importlib import resources
from typing import Any

from torch_wizard.errors import UsageError

# A venv path that goes into the playbook as a Jinja string literal inside YAML.
_PLAIN_PATH = re.compile(r"^[^'\"\\{}%#\n\r\t]+$")


def answers_for_export(args: argparse.Namespace) -> dict[str, Any]:
    """answers key -> value: flags over ``--config`` over the user config (not ``VIRTUAL_ENV``:
    the control node's active venv means nothing on a lab host), checked as ``plan`` checks them."""
    from torch_wizard.answers import answers_of_args, layered
    from torch_wizard.commands.common import build_choices
    from torch_wizard.plan.validate import check_index_base

    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    merged = layered(args, env)
    choices = build_choices(merged)
    from torch_wizard.plan.validate import _check_basic

    _check_basic(choices)
    check_index_base(choices.index_base, choices.allow_insecure_index)
    return answers_of_args(merged)


def playbook(answers: dict[str, Any]) -> str:
    """The playbook's text for ``answers`` (answers key -> value)."""
    from torch_wizard import __version__
    from torch_wizard.answers import dump_answers

    answers = dict(answers)
    venv = answers.pop("venv", "")
    if venv:
        if not _PLAIN_PATH.match(venv) or not venv.startswith("/"):
            raise UsageError(
                f"venv {venv!r}: a lab playbook needs an absolute POSIX path without quotes, "
                "backslashes, braces or '#', e.g. venv = \"/opt/torch\""
            )
        venv_expr, venv_doc = f"'{venv}'", venv
    else:
        venv_expr, venv_doc = "tw_home ~ '/torch'", "torch_wizard_home/torch"
    text = dump_answers(answers, header="answers for torch-wizard (the venv is torch_wizard_venv)")
    block = "\n".join(f"      {line}" if line else "" for line in text.splitlines())
    template = (
        resources.files("torch_wizard.fleet").joinpath("site.yml").read_text(encoding="utf-8")
    )
    return (
        template.replace("__VERSION__", f"torch-wizard {__version__}")
        .replace("__VENV_EXPR__", venv_expr)
        .replace("__VENV__", venv_doc)
        .replace("__ANSWERS__", block)
    )


def configure(p: argparse.ArgumentParser) -> None:
    """The options of ``export ansible`` beyond TARGET and CHOICES."""
    p.add_argument("-o", "--output", metavar="FILE", help="write the playbook to FILE")


def run(args: argparse.Namespace) -> int:
    from torch_wizard.commands.install import _option_flags

    for name in ("root", "profile", "target_os", "arch", "target_python", "nvidia_driver",
                 "compute_capability", "amd_arch"):  # fmt: skip
        flag = _option_flags().get(name, name)
        if getattr(args, name, None):
            raise UsageError(
                f"a lab playbook resolves the answers on each host, so {flag} has no say: drop it "
                "(use 'torch-wizard plan' to see what one machine gets)"
            )
    text = playbook(answers_for_export(args))
    from torch_wizard.commands.export import _emit  # -o checked and written as the other kinds do

    return _emit(args, text)
