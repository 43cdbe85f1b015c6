"""Shared by the commands: the target machine and the choices, from parsed arguments."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import DEFAULT_INDEX_BASE, Choices, Network, SourceOptions

SOURCE_PROFILES = ("release", "lean", "debug", "relwithdebinfo")
# Options that only a source build reads: given with a wheel build they would be silently ignored.
SOURCE_ONLY = (
    ("source_url", "--source-url"),
    ("source_ref", "--source-ref"),
    ("source_dir", "--source-dir"),
    ("source_profile", "--source-profile"),
    ("develop", "--develop"),
    ("max_jobs", "--max-jobs"),
    ("cuda_arch_list", "--cuda-arch-list"),
    ("configure_only", "--configure-only"),
)


def _get(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


def target_from_args(args: argparse.Namespace) -> Machine:
    """The machine to plan for: --profile FILE, --root DIR or this one, then the overrides."""
    from torch_wizard.machine import target_from_args as machine_target

    return machine_target(args)


def choices_from_args(args: argparse.Namespace) -> Choices:
    """The choices: each option from its flag, else the answers file (``--config``), else the user
    config, else the default (``torch_wizard.answers.layered``); then the host's network settings when
    the plan is for this machine."""
    from torch_wizard.answers import layered

    merged = layered(args)
    choices = build_choices(merged)
    refuse_source_only(merged)
    if not any(_get(merged, name) for name in ("root", "profile", "target_os")):
        from torch_wizard.plan.isolation import host_network

        # this machine: its network and trust settings travel along
        choices = replace(choices, network=host_network())
    return choices


def refuse_source_only(args: argparse.Namespace) -> None:
    """Options that only a source build reads, given (by flag or answers file) for a wheel
    build, would be silently ignored: one line, exit 2, naming the option."""
    if _get(args, "build", "wheel") != "wheel":
        return
    for dest, flag in SOURCE_ONLY:
        if _get(args, dest) not in (None, False, "", 0):
            raise UsageError(
                f"{flag} is an option of source builds, and this is a wheel install, which it "
                f"would not change: drop {flag}, or add --build source"
            )


def build_choices(args: argparse.Namespace) -> Choices:
    """``Choices`` from option values alone (no files, no network settings); UsageError for a value
    the command line refuses."""
    packages: tuple[str, ...] = ()
    raw = _get(args, "packages", "")
    if raw:
        packages = tuple(p.strip() for p in raw.split(",") if p.strip())
        if not packages:
            raise UsageError("--packages is empty: give e.g. --packages torch,torchvision")
    profile = _get(args, "source_profile", "release")
    if profile not in SOURCE_PROFILES:
        raise UsageError(
            f"unknown --source-profile {profile!r}: use release, lean, debug or relwithdebinfo"
        )
    max_jobs = _get(args, "max_jobs", 0)
    if max_jobs < 0:
        raise UsageError(
            f"--max-jobs {max_jobs} is negative: give a positive number or leave it out"
        )
    source = SourceOptions(
        profile=profile,
        develop=bool(_get(args, "develop", False)),
        max_jobs=max_jobs,
        cuda_arch_list=_get(args, "cuda_arch_list", ""),
        configure_only=bool(_get(args, "configure_only", False)),
        ref=_get(args, "source_ref", ""),
        checkout=_get(args, "source_dir", ""),
    )
    if _get(args, "source_url"):
        source = replace(source, url=args.source_url)
    cache_dir = _get(args, "cache_dir", "")
    if _get(args, "cache_dir") is not None and not cache_dir.strip():
        raise UsageError("--cache-dir is empty: give a folder, e.g. --cache-dir /srv/uv-cache")
    if cache_dir and _get(args, "no_cache", False):
        raise UsageError(
            "--cache-dir and --no-cache contradict each other: give one (a cache there, or none)"
        )
    return Choices(
        network=Network(),
        channel=_get(args, "channel", "stable"),
        backend=_get(args, "backend", "auto"),
        torch=_get(args, "torch", ""),
        packages=packages,
        build=_get(args, "build", "wheel"),
        installer=_get(args, "installer", "auto"),
        venv=_get(args, "venv", ".venv"),
        cache_dir=cache_dir,
        cache="off" if _get(args, "no_cache", False) else "auto",
        index_base=_get(args, "index_base", DEFAULT_INDEX_BASE),
        allow_insecure_index=bool(_get(args, "allow_insecure_index", False)),
        source=source,
    )


def target_and_choices(args: argparse.Namespace) -> tuple[Machine, Choices]:
    choices = choices_from_args(args)
    return target_from_args(args), choices
