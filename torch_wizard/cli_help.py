"""What ``--help`` says, in one table: a description and examples for every subcommand, as pip
and uv print them, and the ``-q``/``-v`` options every command takes.

``finish(parser)`` walks the finished parser (the subcommands modules register included) and
gives each subcommand its description, an ``examples:`` epilog kept as written
(``RawDescriptionHelpFormatter``) and the verbosity options. A test checks that every
subcommand has both and every option has help, so a new subcommand is documented here.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

# (subcommand path) -> (description, examples). The examples are real commands; "#" lines say
# what each does.
DOCS: dict[tuple[str, ...], tuple[str, str]] = {
    (): (
        "Get PyTorch installed right the first time: detect the machine, pick the PyTorch build "
        "that runs there and say why, show the exact commands, run them in a virtual "
        "environment and verify the result. Without a command: the guided wizard (Textual).",
        """\
torch-wizard                         # the guided wizard
torch-wizard --dry-run               # the wizard, ending at the preview (copy or save)
torch-wizard plan                    # the plan for this machine, as text
torch-wizard install --yes           # plan, run and verify, headless
torch-wizard plan --help             # the options of one command""",
    ),
    ("detect",): (
        "Show what torch-wizard finds on this machine (or a captured one): OS, Python, CPU, RAM, "
        "disk, GPUs and drivers, boards, build tools. The JSON form is a profile that "
        "'--profile FILE' plans for elsewhere.",
        """\
torch-wizard detect
torch-wizard detect --json > lab-pc-07.json      # a profile to plan for on another machine""",
    ),
    ("plan",): (
        "Print the install plan: the recommended (or chosen) torch build with the reasons, the "
        "warnings, and the exact commands that 'install' would run. Nothing is run or written.",
        """\
torch-wizard plan
torch-wizard plan --backend cpu --venv ~/venvs/torch
torch-wizard plan --nvidia-driver 580.82.07 --compute-capability 6.1   # another GPU
torch-wizard plan --profile lab-pc-07.json --format json > plan.json
torch-wizard plan --format sh > install-torch.sh""",
    ),
    ("install",): (
        "Plan and run the install on this machine: create the venv, install the packages, verify "
        "them with a real tensor operation, write a log and a receipt. Without --yes the plan "
        "is shown and, on a terminal, confirmed first.",
        """\
torch-wizard install --yes
torch-wizard install --venv /opt/torch --installer pip --yes
torch-wizard install --plan plan.json --yes      # a plan saved with plan --format json""",
    ),
    ("doctor",): (
        "Check an existing environment against this machine: the installed torch build, its "
        "receipt's pins, the driver floor and compute capability, the device torch sees; and "
        "print the command that fixes a mismatch.",
        """\
torch-wizard doctor
torch-wizard doctor --venv /opt/torch --json""",
    ),
    ("wheelhouse",): (
        "Download the wheels that the plans of one or more machines install into OUTDIR, laid "
        "out as an index that '--index-base file://OUTDIR' (or any web server) serves to "
        "machines without internet.",
        """\
torch-wizard wheelhouse ./wheels
torch-wizard wheelhouse ./wheels --profile pc-01.json --profile pc-02.json
torch-wizard install --index-base file://$PWD/wheels --yes   # then, offline""",
    ),
    ("report",): (
        "Summarise the receipts and doctor reports fetched from a lab's machines (the reports/ "
        "folder the exported playbook fills) in one table.",
        """\
torch-wizard report reports/
torch-wizard report reports/ --json""",
    ),
    ("config",): (
        "The user config: a TOML file of personal defaults with the keys of an answers file "
        "(--config FILE), read by every command that plans.",
        """\
torch-wizard config path             # where it is read from (it need not exist)""",
    ),
    ("export",): (
        "Write the plan in another tool's terms: a requirements file, [tool.uv] tables for a "
        "pyproject.toml, or an Ansible playbook for a lab.",
        """\
torch-wizard export requirements -o requirements-torch.txt
torch-wizard export pyproject --help
torch-wizard export ansible --help""",
    ),
    ("export", "requirements"): (
        "A requirements file for one machine: its index line (--index-url) and exact pins, for "
        "'pip install -r' or 'uv pip install -r'.",
        """\
torch-wizard export requirements
torch-wizard export requirements --backend cpu -o requirements-torch.txt""",
    ),
    ("export", "pyproject"): (
        "[tool.uv] index and sources tables that make a uv project install these PyTorch builds, "
        "for one machine or several (--profile repeated).",
        """\
torch-wizard export pyproject
torch-wizard export pyproject --profile linux.json --profile windows.json""",
    ),
    ("export", "ansible"): (
        "An Ansible playbook (ansible.builtin modules only) that installs with these answers on "
        "every host of an inventory and fetches each host's receipt and doctor report.",
        """\
torch-wizard export ansible -o torch.yml
ansible-playbook -i hosts.ini torch.yml     # then: torch-wizard report reports/""",
    ),
    ("catalog",): (
        "The PyTorch release data torch-wizard ships with (releases, backends, Pythons, driver "
        "floors), checked against its source.",
        """\
torch-wizard catalog check
torch-wizard catalog check --index-base https://mirror.lab/pytorch/whl""",
    ),
    ("completion",): (
        "Print a shell completion script made from this parser (every command, option and "
        "choice). Load it in the shell's startup file.",
        """\
# bash (~/.bashrc)
eval "$(torch-wizard completion bash)"
# zsh (~/.zshrc)
eval "$(torch-wizard completion zsh)"
# fish
torch-wizard completion fish > ~/.config/fish/completions/torch-wizard.fish""",
    ),
}


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions wrap to the terminal as usual; an ``examples:`` epilog keeps its lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


def walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under ``parser`` (itself first) with its subcommand path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))


def add_verbosity(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-q``/``-v`` (each may be repeated), counted as pip counts them. The top-level parser
    starts them at 0; subcommands leave them alone unless given, so ``torch-wizard -q plan``
    and ``torch-wizard plan -q`` mean the same."""
    default = 0 if top else argparse.SUPPRESS
    parser.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=default,
        help="less output: no notes on stderr; install prints each step's header and the "
        "outcome but not its output (the log keeps everything)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="more output: install shows each step's whole command line (with its variables, "
        "folder and inline script)",
    )


def finish(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand its description, examples and ``-q``/``-v``."""
    for path, sub in walk(parser):
        doc = DOCS.get(path)
        if doc is not None:
            sub.description, examples = doc
            sub.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples.splitlines())
        sub.formatter_class = Formatter
        if "--quiet" not in sub._option_string_actions:
            add_verbosity(sub, top=not path)


def verbosity(args: argparse.Namespace) -> int:
    """``-v`` count minus ``-q`` count: below 0 quiet, 0 normal, above 0 verbose."""
    return int(getattr(args, "verbose", 0) or 0) - int(getattr(args, "quiet", 0) or 0)
