"""Input checks that need no catalog: known choices, index URL, venv and cache paths."""

from __future__ import annotations

import ntpath
import os
import posixpath
from pathlib import Path

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import KNOWN_PACKAGES, Choices

CHANNELS = ("stable", "test", "nightly")
BUILDS = ("wheel", "source")
INSTALLERS = ("auto", "pip", "uv")
CACHES = ("auto", "keep", "off")


# --------------------------------------------------------------------------------------------------
# Validation of input that does not depend on the catalog


LOOPBACK_HOSTS = ("localhost", "127.", "::1", "[::1]")


def _is_loopback(host: str) -> bool:
    """This machine: ``localhost`` by name, else an IP address that is loopback (127.0.0.0/8,
    ::1). Decided from the parsed address: ``127.attacker.example`` is a name, not 127.x."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_index_base(base: str, allow_insecure: bool) -> str:
    """Return the base without a trailing slash, or raise UsageError for an unsafe/unknown URL."""
    from urllib.parse import urlsplit

    def refuse(why: str) -> UsageError:
        return UsageError(
            f"--index-base {base!r} is not a usable URL ({why}): give a mirror of "
            "https://download.pytorch.org/whl, e.g. https://mirror.example.org/pytorch/whl"
        )

    if not base.isprintable() or any(c.isspace() for c in base):
        raise refuse("it holds a space or a control character")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError as err:
        raise refuse(str(err)) from None
    if parts.query or parts.fragment or base.rstrip("/").endswith(("?", "#")):
        raise UsageError(
            f"--index-base {base} has a query or fragment (?... or #...), which would end up inside "
            "every index URL: give the mirror's base URL alone, e.g. https://mirror.example.org/whl"
        )
    if parts.scheme == "https" and parts.netloc:
        return base.rstrip("/")
    if parts.scheme == "file":
        return base.rstrip("/")
    if parts.scheme == "http" and parts.netloc:
        if allow_insecure or _is_loopback(parts.hostname or ""):
            return base.rstrip("/")
        raise UsageError(
            f"--index-base {base} is plain http on another machine, so packages could be swapped "
            "in transit: use an https:// mirror, or pass --allow-insecure-index if you trust the "
            "network"
        )
    raise UsageError(
        f"--index-base {base!r} is not an http(s) or file URL: give a mirror of "
        "https://download.pytorch.org/whl, e.g. https://mirror.example.org/pytorch/whl"
    )


def _foreign_paths(machine: Machine) -> bool:
    """Are the target's paths of the other kind than this host's (Windows against POSIX)?"""
    return (machine.os.name == "windows") != (os.path is ntpath)


def target_venv(venv: str, machine: Machine, *, here: bool = True) -> str:
    """The venv path as the target machine will see it.

    ``here``: the path is on this host (not a profile of another machine), so it is made absolute
    against this host's working directory and ``~``. A Windows target planned on a POSIX host (or
    the reverse) cannot be: its paths follow the target's rules (``ntpath`` for Windows), an
    absolute one (``C:\\torch``) is kept (normalised), and a relative one stays relative, to be
    taken from the folder the plan is run in there (a reason says so); a POSIX cwd is never
    joined to a Windows path.
    """
    venv = venv or ".venv"
    flavour = ntpath if machine.os.name == "windows" else posixpath
    if here and not _foreign_paths(machine):
        return os.path.abspath(os.path.expanduser(venv))
    if flavour is ntpath and ntpath.isabs(venv):
        return ntpath.normpath(venv)
    return venv


def relative_venv_reason(venv: str, machine: Machine) -> str:
    """A sentence when a Windows (or other foreign-path) target's venv stays relative, else ""."""
    flavour = ntpath if machine.os.name == "windows" else posixpath
    if not _foreign_paths(machine) or flavour.isabs(venv):
        return ""
    return (
        f"The venv path {venv} is relative and this plan is for a {machine.os.name} machine, so it "
        "is left relative: the commands take it from the folder they are run in there."
    )


def check_venv_path(path: str, machine: Machine) -> None:
    """A target venv must be creatable or an existing venv; checked only for this machine (the
    same check the runner's pre-flight makes, so the plan and the run never disagree). A path on
    another machine (a profile) or in the other family of paths (a Windows target planned here on
    Linux, say) is not judged by this host's rules."""
    if machine.source.startswith("profile:") or _foreign_paths(machine):
        return  # a path on another machine: nothing to check here
    from torch_wizard.venvcheck import (
        path_problem,
        system_prefixes,
        venv_problem,
        venv_python_problem,
    )

    where = Path(os.path.expanduser(path))
    problem = (
        path_problem(path)
        # torch-wizard's own environment is refused when a plan is run (pre-flight), not here: a
        # plan or a wheelhouse made in the tool's folder only shows the default
        or venv_problem(where, creates=True, prefixes=system_prefixes(), own=False)
        or venv_python_problem(where, machine.python.minor)
    )
    if problem:
        raise UsageError(problem)


def _platform_blocker(machine: Machine) -> str:
    """A sentence when no PyTorch wheel can exist for this interpreter/platform, else ""."""
    if machine.os.libc == "musl":
        return (
            "PyTorch publishes no wheels for musl libc (Alpine Linux): use a glibc-based distribution "
            "or image (e.g. Debian or python:3.11-slim), or build from source with --build source"
        )
    arch = machine.cpu.arch
    if machine.python.bits == 32 or machine.cpu.pointer_bits == 32 or arch in ("armv7l", "i686"):
        if machine.cpu.machine in ("aarch64", "arm64", "x86_64"):
            return (
                f"this Python is 32-bit ({arch}) on a 64-bit kernel ({machine.cpu.machine}), and "
                "PyTorch publishes no 32-bit wheels: install a 64-bit Python (on a Raspberry Pi, "
                "the 64-bit Raspberry Pi OS) and run the wizard with it"
            )
        return (
            f"PyTorch publishes no wheels for 32-bit {arch}: use a 64-bit OS and Python "
            "(on a Raspberry Pi, the 64-bit Raspberry Pi OS), or build from source with --build source"
        )
    if arch == "other":
        return (
            f"PyTorch publishes no wheels for this CPU architecture ({machine.cpu.machine}): "
            "build from source with --build source"
        )
    return ""


def _check_basic(choices: Choices) -> None:
    if choices.channel not in CHANNELS:
        raise UsageError(
            f"unknown channel {choices.channel!r}: use --channel stable, test or nightly"
        )
    if choices.build not in BUILDS:
        raise UsageError(f"unknown build {choices.build!r}: use --build wheel or source")
    if choices.installer not in INSTALLERS:
        raise UsageError(
            f"unknown installer {choices.installer!r}: use --installer auto, pip or uv"
        )
    if choices.cache not in CACHES:
        raise UsageError(f"unknown cache mode {choices.cache!r}: use auto, keep or off")
    for name in choices.packages:
        if name not in KNOWN_PACKAGES:
            raise UsageError(
                f"unknown package {name!r}: --packages takes {', '.join(KNOWN_PACKAGES)}"
            )


def check_cache_dir(path: str) -> None:
    """A ``--cache-dir`` on this host must be a folder (or creatable) we can write to."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(
            f"--cache-dir {path} is a file, not a folder: choose a folder for the cache"
        )
    from torch_wizard.plan.cache import existing_parent

    parent = existing_parent(p)
    if not os.access(parent, os.W_OK):
        raise UsageError(
            f"--cache-dir {path} is not writable ({parent} is not): choose a folder you can write to"
        )
