"""``torch-wizard catalog check``: the bundled catalog against PyPI, or a PyTorch index or mirror.

The same check (and output) as ``scripts/check_catalog.py``, installed with the package
(``torch_wizard.catalog.check``): without ``--index-base`` it reads PyPI's metadata for every torch
release and prints each field the catalog records differently; with ``--index-base URL`` it lists,
per backend of the newest release, whether that index has it; ``--missing-builds`` names every
build the index has and the catalog lacks. Exit 0 when all agree, 1 on a mismatch or an index that
cannot be read, 2 for bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from torch_wizard.errors import UsageError

EXAMPLES = """\
examples:
  torch-wizard catalog check
      every torch release on PyPI against the bundled catalog (reads metadata, no wheel
      downloaded whole)
  torch-wizard catalog check --index-base https://mirror.lab/pytorch/whl
      does the lab's mirror have the newest release for each backend?
  torch-wizard catalog check --index-base https://download.pytorch.org/whl --missing-builds
      builds PyTorch's index has that this catalog does not know yet
"""


# torch_wizard.catalog.core.PLATFORM_KEYS, written out so that building the parser imports no catalog
# (a test keeps the two equal).
PLATFORM_KEYS = (
    "linux-x86_64",
    "linux-aarch64",
    "windows-x86_64",
    "windows-arm64",
    "macos-arm64",
    "macos-x86_64",
)


def add_parser(sub: Any, quiet: Any) -> None:
    """Register ``catalog check`` under the top-level subparsers ``sub``."""
    cat = sub.add_parser(
        "catalog",
        help="check the bundled PyTorch catalog against PyPI or a mirror",
        description="The PyTorch release data torch-wizard ships with, checked against the source.",
        argument_default=quiet,
    )
    what = cat.add_subparsers(dest="catalog_command", metavar="check", required=True)
    chk = what.add_parser(
        "check",
        help="compare the bundled catalog with PyPI, or with a PyTorch index or mirror",
        description=(
            "Compare the PyTorch release data bundled with torch-wizard with its source. Without "
            "--index-base: every torch release's metadata on PyPI (Pythons, OS floors, what a bare "
            "'pip install torch' pulls, the paired torchvision and torchaudio), one line per "
            "difference. With --index-base URL: per backend of the newest release, whether that "
            "index (a mirror, say) has it. Exit 0 when all agree, 1 on a difference or an index "
            "that cannot be read."
        ),
        epilog=EXAMPLES,
        argument_default=quiet,
    )
    chk.add_argument(
        "--index-base",
        metavar="URL",
        help="a PyTorch index base (https://download.pytorch.org/whl or a mirror of it) instead "
        "of PyPI",
    )
    chk.add_argument(
        "--missing-builds",
        action="store_true",
        help="with --index-base: list the builds (version, variant, platform) the index has and "
        "the catalog lacks, from its all-variants page (URL/torch/)",
    )
    chk.add_argument(
        "--platform",
        choices=PLATFORM_KEYS,
        metavar="KEY",
        help="with --index-base: the platform whose wheels count, one of "
        + ", ".join(PLATFORM_KEYS)
        + " (default linux-x86_64)",
    )
    chk.add_argument(
        "--python",
        metavar="X.Y",
        dest="check_python",
        help="with --index-base: the Python whose wheels count (default 3.12)",
    )
    chk.add_argument(
        "--cache",
        metavar="DIR",
        help="keep the wheel metadata read from PyPI in DIR, so a second check is fast",
    )


def run(args: argparse.Namespace) -> int:
    from torch_wizard.catalog import check

    index_base = getattr(args, "index_base", None)
    missing = bool(getattr(args, "missing_builds", False))
    if missing and not index_base:
        raise UsageError(
            "--missing-builds needs --index-base URL (e.g. https://download.pytorch.org/whl)"
        )
    if index_base is not None and not index_base.strip():
        raise UsageError(
            "--index-base is empty: give an index URL, e.g. https://download.pytorch.org/whl"
        )
    cache = getattr(args, "cache", None)
    return check.run(
        index_base=index_base,
        missing=missing,
        platform=getattr(args, "platform", "linux-x86_64"),
        python=getattr(args, "check_python", "3.12"),
        cache=Path(cache) if cache else None,
    )
