"""Answers files and the user config: the CHOICES options written down as TOML.

An answers file (``--config FILE``) and the user config (``config_path()``) hold the same keys:
the long names of the CHOICES options without the dashes in front (``channel``, ``backend``,
``torch``, ``packages`` as an array of strings, ``build``, ``installer``, ``venv``, ``cache-dir``,
``no-cache``, ``index-base``, ``allow-insecure-index``, the source-build ones ...). The keys come
from the parser itself (``torch_wizard.cli.add_choice_options``), so an option added there is a key here
at once, with its type: a flag (``--develop``) is a boolean, ``--max-jobs`` an integer, the rest
strings.

Precedence (``torch_wizard.commands.common.choices_from_args``): a command-line flag, then the answers
file, then the user config, then ``VIRTUAL_ENV`` (for ``venv`` only), then the built-in default.
Answers are not a plan: ``backend = "auto"`` is resolved again on every machine.

Every problem with a file is one ``UsageError`` line (exit 2) naming the file, the line where it
can be found and the key: an unknown key, a value of the wrong type, TOML that does not parse, a
value the command line would refuse, a missing file. Nothing is written before the files are read.

TOML is read with ``tomllib`` (Python 3.11+) or, on Python 3.10, with ``tomli``, the same parser
published on PyPI (a conditional dependency). Writing needs only the few value types above, so it
is done here (``dump_answers``) rather than with another dependency.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch_wizard.errors import UsageError
from torch_wizard.venvcheck import is_own_environment

APP = "torch-wizard"
CONFIG_ENV = "TORCH_WIZARD_CONFIG"
CONFIG_NAME = "config.toml"
# Keys of the parser's CHOICES group that are not answers: --config names the file itself.
NOT_ANSWERS = frozenset({"config"})
# Options that decide one thing together: a layer that gives one of them decides the group, so a
# flag's --cache-dir is not contradicted by a user config's no-cache = true.
GROUPS = ({"cache_dir", "no_cache"},)


@dataclass(frozen=True)
class Key:
    name: str  # the TOML key: "cache-dir"
    dest: str  # the argparse dest: "cache_dir"
    kind: str  # "str", "bool", "int", "float" or "list" (an array of strings)
    flag: str  # "--cache-dir"


def keys() -> dict[str, Key]:
    """Every answers key, from the parser's CHOICES options (never out of step with them)."""
    from torch_wizard.cli import add_choice_options

    probe = argparse.ArgumentParser(add_help=False)
    add_choice_options(probe)
    found: dict[str, Key] = {}
    for action in probe._actions:
        if not action.option_strings or action.dest in NOT_ANSWERS:
            continue
        flag = next(s for s in action.option_strings if s.startswith("--"))
        kind = "str"
        if action.nargs == 0:
            kind = "bool"
        elif action.type is int:
            kind = "int"
        elif action.type is float:
            kind = "float"
        elif action.dest == "packages":
            kind = "list"
        found[flag[2:]] = Key(flag[2:], action.dest, kind, flag)
    # Not a choice of the plan but of the run (``install``, the wizard): the runner's limit for a
    # step without one of its own.
    found["step-timeout"] = Key("step-timeout", "step_timeout", "float", "--step-timeout")
    return found


# --------------------------------------------------------------------------------------- reading


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # type: ignore[import-not-found, unused-ignore]  # Python 3.10: the dependency

    return tomli


def _line_of(text: str, key: str) -> int:
    """The line (1-based) where ``key = ...`` is written, 0 when not found."""
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for n, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return n
    return 0


def _where(path: str, text: str, key: str) -> str:
    line = _line_of(text, key)
    return f"{path} line {line}" if line else path


_TYPE_NAMES = {
    "str": "a string",
    "bool": "true or false",
    "int": "an integer",
    "float": "a number",
    "list": 'an array of strings, e.g. ["torch", "torchvision"]',
}


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _converted(key: Key, value: object) -> Any:
    """The value as argparse would give it for the flag, or None when its type is wrong."""
    if key.kind == "bool":
        return value if isinstance(value, bool) else None
    if key.kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if key.kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return float(value) if ok else None  # type: ignore[arg-type]
    if key.kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None
        return ",".join(value)
    return value if isinstance(value, str) else None


def parse_answers(text: str, path: str) -> dict[str, Any]:
    """dest -> value (as argparse gives it) for the answers ``text`` read from ``path``."""
    toml = _toml()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as err:
        raise UsageError(
            f"{path}: not valid TOML: {err}; write one 'key = value' per line, e.g. "
            'backend = "auto"'
        ) from None
    known = keys()
    values: dict[str, Any] = {}
    for name, raw in data.items():
        where = _where(path, text, name)
        key = known.get(name)
        if key is None:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the keys are {', '.join(known)}"
            raise UsageError(f"{where}: unknown key '{name}': {hint}")
        value = _converted(key, raw)
        if value is None:
            raise UsageError(
                f"{where}: '{name}' is {_toml_type(raw)}, but it takes {_TYPE_NAMES[key.kind]} "
                f"(as {key.flag} does)"
            )
        values[key.dest] = value
    for dest, value in values.items():
        key = next(k for k in known.values() if k.dest == dest)
        problem = value_problem(dest, value, values)
        if problem:
            raise UsageError(f"{_where(path, text, key.name)}: '{key.name}': {problem}")
    from torch_wizard.commands.common import build_choices

    try:  # values that are fine alone but not together (cache-dir with no-cache)
        build_choices(argparse.Namespace(**values))
    except UsageError as err:
        raise UsageError(f"{path}: {err}") from None
    return values


def value_problem(dest: str, value: Any, others: Mapping[str, Any]) -> str:
    """Why the command line would refuse ``value`` for ``dest`` on any machine, else "".

    The same checks as the CLI's (``choices_from_args``, the planner's basic checks, the index base
    and the backend's name, the torch version against the catalog), run on this one value."""
    from torch_wizard.commands.common import build_choices
    from torch_wizard.plan.validate import _check_basic, check_index_base

    if dest == "step_timeout":
        ok = 0 < value < float("inf")
        return (
            "" if ok else f"{value!r} is not a number of seconds: give one greater than 0, e.g. 600"
        )
    one = argparse.Namespace(**{dest: value})
    try:
        choices = build_choices(one)
        _check_basic(choices)
        if dest == "index_base":
            check_index_base(value, bool(others.get("allow_insecure_index", False)))
        if dest == "backend":
            from torch_wizard.catalog.core import variant_kind

            if value not in ("auto", "jetson", "cuda", "rocm") and not variant_kind(value):
                return (
                    f"unknown backend {value!r}: use auto, cpu, cuXYZ (e.g. cu126), rocmX.Y or xpu"
                )
        if dest == "torch" and value:
            from torch_wizard import catalog

            channel = str(others.get("channel") or "stable")
            cat = catalog.load()
            if channel in ("stable", "test") and cat.release(value, channel) is None:
                known = ", ".join(r.version for r in cat.releases(channel)[:6])
                return (
                    f"unknown torch version {value!r} on the {channel} channel: known versions "
                    f"include {known}"
                )
    except UsageError as err:
        return str(err)
    return ""


def load_answers(path: str, what: str = "--config") -> dict[str, Any]:
    """dest -> value from the answers file ``path``; UsageError (exit 2) for any problem."""
    from torch_wizard.files import read_small_text

    text = read_small_text(
        path, what, "give an answers file (TOML), e.g. one saved by the wizard's preview"
    )
    return parse_answers(text, path)


# ----------------------------------------------------------------------------------- user config


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user config is read from: ``$TORCH_WIZARD_CONFIG``, else ``config.toml`` in
    platformdirs' ``user_config_dir("torch-wizard")``: ``$XDG_CONFIG_HOME/torch-wizard`` (an
    absolute one; default ``~/.config``) on Linux and other Unixes, ``~/Library/Application
    Support/torch-wizard`` on macOS (or an absolute ``$XDG_CONFIG_HOME``), the roaming
    ``%APPDATA%\\torch-wizard`` on Windows. The folder follows the process environment."""
    env = os.environ if env is None else env
    given = env.get(CONFIG_ENV, "")
    if given:
        return Path(given).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False, roaming=True) / CONFIG_NAME


def load_user_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """dest -> value from the user config; {} when there is none at the default place. A file
    named by ``TORCH_WIZARD_CONFIG`` must exist."""
    env = os.environ if env is None else env
    path = config_path(env)
    if not env.get(CONFIG_ENV) and not path.exists():
        return {}
    what = f"the user config ({CONFIG_ENV})" if env.get(CONFIG_ENV) else "the user config"
    from torch_wizard.files import read_small_text

    text = read_small_text(
        path,
        what,
        f"fix it, or point {CONFIG_ENV} at another file (see 'torch-wizard config path')",
    )
    return parse_answers(text, str(path))


def given(args: argparse.Namespace, dest: str) -> bool:
    """Was ``dest`` given on the command line? (None: not given; False: a flag not given.)"""
    return getattr(args, dest, None) not in (None, False)


def layered(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> argparse.Namespace:
    """``args`` with every CHOICES option that was not given filled from the answers file, then
    the user config, then (``venv`` only) ``VIRTUAL_ENV``. Reads the files; UsageError on any
    problem with them."""
    env = os.environ if env is None else env
    layers: list[dict[str, Any]] = []
    answers_file = getattr(args, "config", None)
    if answers_file is not None:
        if not str(answers_file).strip():
            raise UsageError("--config is empty: give an answers file, e.g. --config lab.toml")
        layers.append(load_answers(answers_file))
    layers.append(load_user_config(env))
    merged = argparse.Namespace(**vars(args))
    decided = {dest for dest in vars(args) if given(args, dest)}
    for layer in layers:
        taken = set()
        for dest, value in layer.items():
            group = next((g for g in GROUPS if dest in g), {dest})
            if group & decided:
                continue
            setattr(merged, dest, value)
            taken |= group
        decided |= taken
    active = env.get("VIRTUAL_ENV", "")
    if not given(merged, "venv") and active and not is_own_environment(active):
        merged.venv = active  # an activated venv, unless it is torch-wizard's own
    return merged


# --------------------------------------------------------------------------------------- writing


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def dump_answers(values: Mapping[str, Any], header: str = "") -> str:
    """TOML text for ``values`` (answers key -> value, in the parser's order of keys)."""
    known = keys()
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    for name in known:
        if name in values:
            lines.append(f"{name} = {_toml_value(values[name])}")
    for name in values:
        if name not in known:
            raise ValueError(f"not an answers key: {name}")
    return "\n".join(lines) + "\n"


def answers_of_args(args: argparse.Namespace) -> dict[str, Any]:
    """answers key -> value for every CHOICES option ``args`` sets (after ``layered``)."""
    out: dict[str, Any] = {}
    for key in keys().values():
        value = getattr(args, key.dest, None)
        if value is None or (key.kind == "bool" and value is False):
            continue
        if key.kind == "list":
            value = [p.strip() for p in str(value).split(",") if p.strip()]
        out[key.name] = value
    return out


def answers_of_choices(choices: Any) -> dict[str, Any]:
    """answers key -> value for ``choices`` (a ``Choices``): what differs from the built-in
    defaults, so what was left alone stays open (``backend`` "auto" is resolved per machine, and a
    user config still applies), plus ``venv`` always: where it goes is the point of the file."""
    from torch_wizard.plan.model import Choices, SourceOptions

    default, src, dsrc = Choices(), choices.source, SourceOptions()
    pairs: list[tuple[str, Any, Any]] = [
        ("channel", choices.channel, default.channel),
        ("backend", choices.backend, default.backend),
        ("torch", choices.torch, default.torch),
        ("packages", list(choices.packages), list(default.packages)),
        ("build", choices.build, default.build),
        ("installer", choices.installer, default.installer),
        ("venv", choices.venv, None),
        ("cache-dir", choices.cache_dir, default.cache_dir),
        ("no-cache", choices.cache == "off", False),
        ("index-base", choices.index_base, default.index_base),
        ("allow-insecure-index", choices.allow_insecure_index, default.allow_insecure_index),
    ]
    if choices.build == "source":
        pairs += [
            ("source-url", src.url, dsrc.url),
            ("source-ref", src.ref, dsrc.ref),
            ("source-dir", src.checkout, dsrc.checkout),
            ("source-profile", src.profile, dsrc.profile),
            ("develop", src.develop, dsrc.develop),
            ("max-jobs", src.max_jobs, dsrc.max_jobs),
            ("cuda-arch-list", src.cuda_arch_list, dsrc.cuda_arch_list),
            ("configure-only", src.configure_only, dsrc.configure_only),
        ]
    return {name: value for name, value, base in pairs if value != base}
