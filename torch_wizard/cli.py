"""The command line: argparse, the shared TARGET and CHOICES options, and dispatch.

Subcommands live in ``torch_wizard.commands.<name>`` and are imported only when used, so ``detect`` and
``plan`` never pay for Textual. Every expected error is a ``WizardError``: one line on stderr, the
error's exit code, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from torch_wizard import __version__
from torch_wizard.errors import UsageError, WizardError

PROG = "torch-wizard"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line naming the fix, exit 2, and no abbreviations:
    ``--config x`` must not be taken for ``--configure-only``, nor ``--ye`` for ``--yes``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds (``--step-timeout 600``, ``--timeout 30``)."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds: give one greater than 0, e.g. 600"
        )
    return value


def add_target_options(p: argparse.ArgumentParser, *, many: bool = False) -> None:
    """``many``: --profile may be given more than once (one target each: wheelhouse)."""
    g = p.add_argument_group("target machine (default: this one)")
    g.add_argument(
        "--root",
        metavar="DIR",
        help="read another machine captured under DIR instead of this one (DIR/proc, DIR/sys, "
        "DIR/etc; its tools' recorded output in DIR/bin)",
    )
    if many:
        g.add_argument(
            "--profile",
            metavar="FILE",
            action="append",
            help="a profile saved by 'detect --json' (repeat for more machines)",
        )
    else:
        g.add_argument("--profile", metavar="FILE", help="a profile saved by 'detect --json'")
    g.add_argument(
        "--os",
        choices=("linux", "windows", "macos"),
        dest="target_os",
        help="plan for this operating system",
    )
    g.add_argument(
        "--arch",
        choices=("x86_64", "aarch64", "arm64", "armv7l", "i686"),
        help="plan for this CPU architecture",
    )
    g.add_argument(
        "--python",
        metavar="X.Y",
        dest="target_python",
        help="plan for this Python, e.g. 3.12 (3.14t: free-threaded, where torch has such wheels)",
    )
    g.add_argument(
        "--nvidia-driver", metavar="VER", help="plan for this NVIDIA driver, e.g. 580.82.07"
    )
    g.add_argument(
        "--compute-capability",
        metavar="X.Y",
        help="plan for an NVIDIA GPU of this compute capability, e.g. 8.9 (RTX 4090)",
    )
    g.add_argument(
        "--amd-arch", metavar="gfxNNNN", help="plan for an AMD GPU of this target, e.g. gfx1100"
    )


def add_choice_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("choices (default: recommended)")
    g.add_argument(
        "--config",
        metavar="FILE",
        help="an answers file (TOML) whose keys are these options' names; flags win over it",
    )
    g.add_argument(
        "--channel", metavar="{stable,test,nightly}", help="release channel (default stable)"
    )
    g.add_argument(
        "--backend",
        metavar="BACKEND",
        help="auto (default: what fits this machine), cpu, cuXYZ (cu126), rocmX.Y (rocm6.4), xpu",
    )
    g.add_argument("--torch", metavar="VERSION", help="torch version (default: newest that fits)")
    g.add_argument(
        "--packages",
        metavar="LIST",
        help="comma-separated, from torch,torchvision,torchaudio,torchao,torchcodec "
        "(default: torch with its companions torchvision and torchaudio)",
    )
    g.add_argument(
        "--build", metavar="{wheel,source}", help="install a wheel (default) or build from source"
    )
    g.add_argument(
        "--installer",
        metavar="{auto,pip,uv}",
        help="auto (default): uv where the target has it, else pip",
    )
    g.add_argument("--venv", metavar="PATH", help="target virtual environment (default .venv)")
    g.add_argument(
        "--cache-dir",
        metavar="PATH",
        help="the installer's download cache (UV_CACHE_DIR / pip --cache-dir), e.g. one a lab shares",
    )
    g.add_argument(
        "--no-cache",
        action="store_true",
        help="keep no download cache (uv --no-cache, pip --no-cache-dir)",
    )
    g.add_argument(
        "--index-base", metavar="URL", help="a mirror of https://download.pytorch.org/whl"
    )
    g.add_argument(
        "--allow-insecure-index",
        action="store_true",
        help="allow an http:// index base that is not on this machine",
    )
    s = p.add_argument_group("source builds (--build source)")
    s.add_argument(
        "--source-url",
        metavar="URL|PATH",
        help="the PyTorch repository to clone (default https://github.com/pytorch/pytorch)",
    )
    s.add_argument(
        "--source-ref",
        metavar="REF",
        help="the tag, branch or commit to build (default: the version's tag vX.Y.Z, main for "
        "nightly)",
    )
    s.add_argument("--source-dir", metavar="PATH", help="where to clone")
    s.add_argument(
        "--source-profile",
        metavar="{release,lean,debug,relwithdebinfo}",
        help="build settings (default release; lean: CPU-only, fewest features)",
    )
    s.add_argument("--develop", action="store_true", help="editable install (pip install -e .)")
    s.add_argument(
        "--max-jobs",
        type=int,
        metavar="N",
        help="parallel compile jobs (default: from RAM and cores)",
    )
    s.add_argument(
        "--cuda-arch-list",
        metavar="LIST",
        help="TORCH_CUDA_ARCH_LIST, e.g. '8.6;8.9' (default: the detected GPU's)",
    )
    s.add_argument(
        "--configure-only", action="store_true", help="show the equivalent cmake configure"
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Get PyTorch installed right the first time.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    p.add_argument("--dry-run", action="store_true", help="the wizard, ending at the preview")
    p.add_argument(
        "--step-timeout",
        metavar="SECONDS",
        type=seconds,
        help="the wizard's runs stop a step that runs longer than this",
    )
    add_target_options(p)
    add_choice_options(p)
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    # Options given before the subcommand must survive it: subparsers only set what they are given.
    quiet = argparse.SUPPRESS
    quiet_kw: dict[str, Any] = {"argument_default": quiet}

    d = sub.add_parser("detect", help="show the machine profile", argument_default=quiet)
    d.add_argument(
        "--json",
        action="store_true",
        default=False,
        help="print the profile as JSON (docs/json.md), for --profile FILE elsewhere",
    )
    add_target_options(d)

    pl = sub.add_parser("plan", help="print the install plan", argument_default=quiet)
    pl.add_argument(
        "--format",
        choices=("text", "sh", "ps1", "json"),
        default="text",
        help="text (default) for reading, a POSIX sh or PowerShell script, or JSON "
        "(docs/json.md) for 'install --plan'",
    )
    add_target_options(pl)
    add_choice_options(pl)

    ins = sub.add_parser("install", help="plan and run the install", argument_default=quiet)
    ins.add_argument(
        "--plan", metavar="FILE", dest="plan_file", default=None, help="run a saved JSON plan"
    )
    ins.add_argument("--yes", "-y", action="store_true", default=False, help="run without asking")
    ins.add_argument("--log", metavar="FILE", default=None, help="where to write the log")
    ins.add_argument(
        "--step-timeout",
        metavar="SECONDS",
        type=seconds,
        default=None,
        help="stop a step (a stalled download) that runs longer than this",
    )
    add_target_options(ins)
    add_choice_options(ins)

    wh = sub.add_parser(
        "wheelhouse", help="download the wheels of the plans into an offline index", **quiet_kw
    )
    wh.add_argument("outdir", metavar="OUTDIR", help="where the index goes (made if missing)")
    add_target_options(wh, many=True)
    add_choice_options(wh)

    rep = sub.add_parser("report", help="one table over fetched lab reports", **quiet_kw)
    rep.add_argument("report_dir", metavar="DIR", help="reports/ of the lab playbook")
    rep.add_argument(
        "--json", action="store_true", default=False, help="print the table as JSON (docs/json.md)"
    )

    cfg = sub.add_parser("config", help="the user config", **quiet_kw)
    cfg.add_argument(
        "config_command",
        choices=("path",),
        metavar="path",
        help="print where the user config is read from",
    )

    from torch_wizard.commands import catalog  # argparse only at import: cheap

    catalog.add_parser(sub, quiet)

    from torch_wizard.commands import export  # argparse only at import: cheap

    export.add_parser(sub, quiet)

    doc = sub.add_parser("doctor", help="check an existing environment", argument_default=quiet)
    doc.add_argument(
        "--json", action="store_true", default=False, help="print the report as JSON (docs/json.md)"
    )
    doc.add_argument("--venv", metavar="PATH", help="the environment to check (default: .venv)")
    doc.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=seconds,
        help="how long the venv's python may take to check torch (default 120)",
    )
    add_target_options(doc)

    comp = sub.add_parser("completion", help="print a shell completion script", **quiet_kw)
    comp.add_argument(
        "shell", choices=("bash", "zsh", "fish"), help="the shell to complete torch-wizard in"
    )
    from torch_wizard import cli_help

    cli_help.finish(p)
    return p


def _unknown_option(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str:
    """An unknown option given before the subcommand, else "".

    argparse would report the value after it as an invalid COMMAND (``--config x``: "invalid
    choice: 'x'"), which names the wrong word; this names the option."""
    actions = parser._option_string_actions
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            return ""  # the subcommand (or a positional): its parser takes it from here
        name = arg.split("=", 1)[0]
        action = actions.get(name)
        if action is None:
            return name
        if "=" not in arg and action.nargs != 0:
            i += 1  # its value
        i += 1
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    unknown = _unknown_option(parser, given)
    if unknown:
        parser.error(f"unknown option {unknown}")
    from torch_wizard import streams

    closed = streams.prepare()  # closed stdin/stderr get /dev/null; a closed stdout is refused
    if closed:
        print(f"{PROG}: {closed}", file=sys.stderr)
        return 2
    args = parser.parse_args(given)
    from torch_wizard.cli_help import verbosity

    args.verbosity = verbosity(args)
    command = args.command or "ui"
    if command != "ui":  # the wizard draws through Textual's own driver
        streams.guard_stdout()
    try:
        module = importlib.import_module(f"torch_wizard.commands.{command}")
        return int(module.run(args))
    except WizardError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        streams.silence()
        return 0


def usage(message: str) -> UsageError:
    return UsageError(message)
