"""``torch-wizard export KIND``: the plan's choices in another tool's format.

Each kind is one entry of ``KINDS``: its help line, a function that adds its own options to its
parser, and the function that runs it. Adding a kind (``ansible``, say) is one more entry; the
command line picks it up from the table. This module imports only argparse at the top, so
building the parser costs nothing; the core is imported when a kind runs.

- ``requirements``: a requirements file for one machine (the plan's ``--index-url`` and pins).
- ``pyproject``: ``[[tool.uv.index]]`` and ``[tool.uv.sources]`` for one or more machines
  (``--profile`` repeated), printed, written (``-o``), or merged into a pyproject.toml
  (``--write``) without touching anything else in it.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch_wizard.plan.project import ProjectTarget


@dataclass(frozen=True)
class Kind:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------------------------------
# Shared by the kinds


def _output_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def _targets(args: argparse.Namespace) -> list[ProjectTarget]:
    """One resolution per target machine: each --profile (repeatable), else --root or this one;
    the overrides (--os, --arch ...) apply to each. Strict: an impossible choice is exit 2."""
    from torch_wizard.commands.common import choices_from_args, target_from_args
    from torch_wizard.plan.project import ProjectTarget
    from torch_wizard.plan.resolve import resolve

    profiles: Any = getattr(args, "profile", None)
    if isinstance(profiles, str):
        profiles = [profiles]
    spaces: list[tuple[argparse.Namespace, str]] = []
    if profiles:
        for path in profiles:
            ns = copy.copy(args)
            ns.profile = path
            spaces.append((ns, Path(path).name))
    else:
        root = getattr(args, "root", None)
        spaces.append((args, f"root {Path(root).name}" if root else "this machine"))
    choices = choices_from_args(args)
    if choices.build != "wheel":
        from torch_wizard.errors import UsageError

        raise UsageError("export makes wheel installs only: drop --build source")
    out = []
    for ns, where in spaces:
        machine = target_from_args(ns)
        res = resolve(machine, choices, strict=True)
        out.append(
            ProjectTarget(
                label=f"{machine.platform_key} ({where})",
                platform_key=machine.platform_key,
                python=machine.python.minor,
                resolved=res.resolved,
            )
        )
    return out


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file beside it, then rename), so
    a failure leaves the old file as it was; the old file's permissions are kept."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_output(option: str, value: str, *, must_exist: bool) -> Path:
    from torch_wizard.errors import UsageError

    if not value or "\0" in value:
        raise UsageError(f"{option} needs a file name, e.g. {option} requirements.txt")
    path = Path(os.path.expanduser(value))
    if path.is_dir():
        raise UsageError(f"{option} {value} is a folder: give a file inside it")
    if must_exist and not path.is_file():
        raise UsageError(
            f"{option} {value}: no such file: give an existing pyproject.toml (uv init makes one)"
        )
    if not path.parent.is_dir():
        raise UsageError(
            f"{option} {value}: the folder {path.parent} does not exist: make it first"
        )
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {value}: not writable here: pick another place")
    return path


def _emit(args: argparse.Namespace, text: str) -> int:
    output = getattr(args, "output", None)
    if output is None:
        sys.stdout.write(text)
        return 0
    path = _check_output("-o", output, must_exist=False)
    _write_atomically(path, text)
    print(f"wrote {path}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------------
# requirements


def _configure_requirements(p: argparse.ArgumentParser) -> None:
    _output_option(p)


def _run_requirements(args: argparse.Namespace) -> int:
    from torch_wizard.errors import UsageError
    from torch_wizard.plan.project import requirements_text

    profiles = getattr(args, "profile", None)
    if isinstance(profiles, list) and len(profiles) > 1:
        raise UsageError(
            "a requirements file has one index, so it is for one machine: give one --profile "
            "(export pyproject covers several)"
        )
    targets = _targets(args)
    return _emit(args, requirements_text(targets[0]))


# --------------------------------------------------------------------------------------------------
# pyproject


def _configure_pyproject(p: argparse.ArgumentParser) -> None:
    _output_option(p)
    p.add_argument(
        "--write",
        metavar="PATH",
        help="merge into this pyproject.toml (only tool.uv.index / tool.uv.sources entries change)",
    )


def _missing_dependencies(text: str, wanted: tuple[str, ...]) -> list[str]:
    """The fragment's dependency lines whose package the file's [project] dependencies lack."""
    import tomlkit
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from tomlkit.exceptions import TOMLKitError

    try:
        project = tomlkit.parse(text).unwrap().get("project", {})
    except TOMLKitError:
        return list(wanted)
    deps = project.get("dependencies", []) if isinstance(project, dict) else []
    have = set()
    for line in deps if isinstance(deps, list) else []:
        try:
            have.add(canonicalize_name(Requirement(str(line)).name))
        except InvalidRequirement:
            continue
    out = []
    for line in wanted:
        if canonicalize_name(Requirement(line).name) not in have:
            out.append(line)
    return out


def _run_pyproject(args: argparse.Namespace) -> int:
    from torch_wizard.errors import UsageError
    from torch_wizard.plan.project import build_fragment, fragment_text, merge_pyproject

    write = getattr(args, "write", None)
    if write is not None and getattr(args, "output", None) is not None:
        raise UsageError("--write merges into a file and -o writes a new one: give only one")
    if write is not None:
        # checked before resolving; a symlink is written through, not replaced
        path = Path(os.path.realpath(_check_output("--write", write, must_exist=True)))
    fragment = build_fragment(_targets(args))
    if write is None:
        return _emit(args, fragment_text(fragment))
    try:
        old = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{write} is not UTF-8 text: give a pyproject.toml") from None
    except OSError as err:
        raise UsageError(f"{write} cannot be read ({err.strerror}): fix its permissions") from None
    new = merge_pyproject(old, fragment, str(path))
    if new != old:
        _write_atomically(path, new)
    names = ", ".join(i.name for i in fragment.indexes) or "none"
    packages = ", ".join(fragment.sources) or "none"
    state = "updated" if new != old else "already up to date"
    print(f"{path}: {state} ([[tool.uv.index]] {names}; [tool.uv.sources] {packages})")
    missing = _missing_dependencies(new, fragment.dependencies)
    if missing:
        print("Add to [project] dependencies (the sources apply to direct dependencies only):")
        for line in missing:
            print(f'  "{line}",')
    for note in fragment.notes:
        print(f"Note: {note}")
    return 0


# --------------------------------------------------------------------------------------------------
# The table: one entry per kind

KINDS: dict[str, Kind] = {
    "requirements": Kind(
        "a requirements file for one machine: its index line and exact pins",
        _configure_requirements,
        _run_requirements,
    ),
    "pyproject": Kind(
        "[tool.uv] index and sources tables for a uv project, one or more machines",
        _configure_pyproject,
        _run_pyproject,
    ),
    "ansible": Kind(
        "a playbook that installs with these answers on every host of a lab",
        lambda p: _lazy_ansible().configure(p),
        lambda args: _lazy_ansible().run(args),
    ),
}


def _lazy_ansible() -> Any:
    """``torch_wizard.fleet.ansible``, imported only when its kind is used."""
    import importlib

    return importlib.import_module("torch_wizard.fleet.ansible")


def add_parser(sub: Any, quiet: Any) -> None:
    """Register ``export`` and one sub-parser per entry of ``KINDS`` on ``sub`` (argparse's
    subparsers of the main parser); each kind gets the target and choice options."""
    from torch_wizard.cli import _Parser, add_choice_options, add_target_options

    ex = sub.add_parser(
        "export",
        help="the plan as a requirements file, pyproject tables or a lab playbook",
        argument_default=quiet,
    )
    metavar = "{" + ",".join(KINDS) + "}"
    kinds = ex.add_subparsers(dest="export_kind", metavar=metavar, parser_class=_Parser)
    kinds.required = True
    for name, kind in KINDS.items():
        p = kinds.add_parser(name, help=kind.help, argument_default=quiet)
        kind.configure(p)
        add_target_options(p, many=True)
        add_choice_options(p)


def run(args: argparse.Namespace) -> int:
    return KINDS[args.export_kind].run(args)
