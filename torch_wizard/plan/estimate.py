"""Size estimates of an install (download and installed bytes) per backend."""

from __future__ import annotations

from torch_wizard.catalog.core import variant_kind

# Sizes from shared/facts.md (torch 2.15.0, Linux): the CPU build is about 192 MB to download and
# 0.9 GB installed; PyPI's default CUDA build about 3.0 GB and 5.4 GB. Other backends: not measured,
# so 0 ("unknown") rather than a guess.
SIZE_ESTIMATES = {"cpu": (192_000_000, 900_000_000), "cuda": (3_000_000_000, 5_400_000_000)}


def estimate_size(variant: str) -> tuple[int, int]:
    return SIZE_ESTIMATES.get(variant_kind(variant), (0, 0))
