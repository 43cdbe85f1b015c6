"""What PyTorch ships: releases, backends, index URLs, driver floors, GPU arch gates.

The facts live in bundled JSON files under ``data/`` with a source next to every fact; this module
loads them (once, lazily) and answers questions about them. Nothing here probes the machine.

API contract (used by torch_wizard.plan.resolve, the UI and the CLI):

- ``load() -> Catalog``: the bundled catalog, cached.
- ``Catalog.releases(channel) -> tuple[Release, ...]``: newest first. "stable" lists every final
  release from 1.13 on; "test" holds the release candidate (if any) on /whl/test; "nightly" one
  entry for the current nightly (version like "2.17.0.dev", ``pre=True``).
- ``Catalog.release(version, channel="stable") -> Release | None``.
- ``Release.variants(platform_key) -> tuple[str, ...]``: index variants offered on that platform
  ("cpu", "cu126", "rocm6.4", "xpu"), newest CUDA first; "pypi" where plain PyPI is the
  official route (macOS). Empty when no wheels exist for that platform.
- ``Release.pypi_default(platform_key) -> str``: what a bare ``pip install torch`` from PyPI gives
  there ("cu128", "cpu", "mps"), "" when PyPI has no wheel.
- ``Release.supports_python(minor) -> bool`` and ``Release.pythons``.
- ``Release.companions -> dict[str, str]``: {"torchvision": "0.24.1", "torchaudio": "2.9.1"}
  (torchaudio 2.11.1, pure Python, pairs with torch 2.12 and newer).
- ``Catalog.driver_floor(cuda, os_name) -> str``: the minimum NVIDIA driver for wheels built with
  CUDA ``cuda`` ("12.6") under NVIDIA's minor-version compatibility ("525.60.13" on Linux).
- ``Catalog.cuda_archs(variant, torch_version) -> tuple[str, ...]``: the compute capabilities
  compiled into that build ("5.0", "6.0", ... "9.0"), and ``Catalog.covers_cc(variant,
  torch_version, cc) -> bool``.
- ``Catalog.rocm_gfx(variant) -> frozenset[str]``: gfx targets a ROCm build supports.
- ``Catalog.jetson(jetpack) -> JetsonRoute | None``: the Jetson AI Lab index for a JetPack.
- ``index_url(base, channel, variant) -> str``: ``{base}/{variant}``, ``{base}/test/{variant}`` or
  ``{base}/nightly/{variant}``.

Additions (all additive; the calls above keep working):

- ``Release.python_range -> (oldest, newest)`` minor with wheels; ``Release.pythons_ft``
  (free-threaded, "3.14t"); ``Release.platforms``; ``Release.offers(platform_key, variant)``;
  ``Release.os_floor(platform_key)`` (glibc for Linux keys, macOS for macOS keys, from
  ``Release.min_os``); ``Release.date``; ``Release.note`` (test/nightly caveats).
- ``Catalog.newest_supporting(platform_key, python_minor="", channel="stable", variant="")
  -> Release | None``: the newest release with wheels there (for that Python, offering that
  variant).
- ``Catalog.cuda_archs`` / ``covers_cc`` take an optional ``platform_key`` (default
  "linux-x86_64"; Linux aarch64 builds carry other archs); ``Catalog.arch_rule(...)`` gives the
  rule with its ``ptx`` archs and ``source``; ``Catalog.cuda_variants_for_cc(release, cc,
  platform_key)`` lists the CUDA variants that run on a GPU, newest first.
- ``Catalog.rocm_variants_for_gfx(release, gfx)``; ``Catalog.jetson_routes()``;
  ``Catalog.jetson_note(jetpack)`` says why JetPack 5 and older have no route.
- ``variant_kind(v)`` ("cuda", "rocm", "xpu", "cpu", "pypi", "jetson", ""), ``cuda_version("cu126")
  -> "12.6"``, ``rocm_version("rocm6.2.4") -> "6.2.4"``, ``variant_order`` (sort key: newest CUDA,
  newest ROCm compared as versions, xpu, cpu, pypi), ``PLATFORM_KEYS``.
- ``Release.pythons_for(platform_key)`` (the wheel tags recorded per platform in
  ``platform_pythons``: Windows ARM64 has 3.11 to 3.13 only), ``Release.supports_python(minor,
  platform_key="", free_threaded=False)`` (free-threaded: the "3.13t" tags of ``pythons_ft``),
  ``Release.index_unconfirmed`` (companions PyPI has that PyTorch's indexes are not confirmed to).
- ``Catalog.jetson(jetpack, l4t="")`` picks by L4T major first (R36 JetPack 6: Jetson AI Lab
  index; R38 / R39 JetPack 7 / 7.2: ``kind == "pytorch"``, PyTorch's own aarch64 CUDA builds up
  to the route's ``cuda``); ``JetsonRoute.companions`` per torch as seen on that index.
- ``Catalog.xpu_integrated(pci_id)``: the family of an Intel integrated GPU on PyTorch's XPU list
  (Core Ultra Arc graphics), "" otherwise; ``Catalog.rocm_confirmed(variant)``.
- ``torch_wizard.catalog.index``: the live PEP 691/503 reader (``list_versions``, ``list_files``,
  ``refresh``, ``platform_tags_for``); imported on demand only.

- ``Catalog.updated``: when the release data was last brought up to date (releases.json's
  ``updated``); ``core.staleness(updated, today)`` and ``core.age_note()``: the note shown past
  ``core.STALE_DAYS`` (120) days.

The data is checked against PyPI or an index by ``torch_wizard.catalog.check`` (``torch-wizard catalog
check``; ``scripts/check_catalog.py`` from a checkout, with ``--write``; see its docstring).
"""

from __future__ import annotations

from torch_wizard.catalog.core import (
    PLATFORM_KEYS,
    ArchRule,
    Catalog,
    JetsonRoute,
    Release,
    cuda_version,
    index_url,
    load,
    rocm_version,
    variant_kind,
    variant_order,
)

__all__ = [
    "PLATFORM_KEYS",
    "ArchRule",
    "Catalog",
    "JetsonRoute",
    "Release",
    "cuda_version",
    "index_url",
    "load",
    "rocm_version",
    "variant_kind",
    "variant_order",
]
