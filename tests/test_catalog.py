"""The bundled catalog: internal consistency of the data (offline) and the public API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from torch_wizard import catalog
from torch_wizard.catalog import core
from torch_wizard.catalog.core import PLATFORM_KEYS, variant_kind, variant_order

DATA = Path(core.__file__).parent / "data"
RELEASES = json.loads((DATA / "releases.json").read_text("utf-8"))
CUDA = json.loads((DATA / "cuda.json").read_text("utf-8"))
ROCM = json.loads((DATA / "rocm.json").read_text("utf-8"))
JETSON = json.loads((DATA / "jetson.json").read_text("utf-8"))
VARIANT = re.compile(r"^(cu\d{3}|rocm\d+\.\d+(\.\d+)?|xpu|cpu|pypi)$")
ALL = [(ch, r) for ch in core.CHANNELS for r in RELEASES[ch]]
IDS = [f"{ch}-{r['version']}" for ch, r in ALL]


@pytest.fixture(scope="module")
def cat() -> catalog.Catalog:
    return catalog.load()


# --------------------------------------------------------------------------------------------------
# The data


def test_stable_covers_every_release_from_1_13_newest_first() -> None:
    versions = [r["version"] for r in RELEASES["stable"]]
    assert versions == sorted(versions, key=Version, reverse=True)
    assert versions[-2:] == ["1.13.1", "1.13.0"]
    assert "2.15.0" in versions
    assert len(versions) == len(set(versions))
    for v in versions:
        assert not Version(v).is_prerelease and not Version(v).local


def test_test_and_nightly_channels_hold_one_entry_each() -> None:
    (test,) = RELEASES["test"]
    (nightly,) = RELEASES["nightly"]
    newest = Version(RELEASES["stable"][0]["version"])
    assert Version(test["version"]) > newest
    assert Version(nightly["version"]).is_devrelease
    assert Version(nightly["version"]) > newest


@pytest.mark.parametrize(("channel", "rel"), ALL, ids=IDS)
def test_release_is_sourced_and_well_formed(channel: str, rel: dict[str, Any]) -> None:
    assert rel["sources"], "every release names where its facts come from"
    assert all(isinstance(s, str) and len(s) > 10 for s in rel["sources"])
    SpecifierSet(rel["requires_python"])  # parses
    assert rel["pythons"] == sorted(rel["pythons"], key=Version)
    for minor in rel["pythons"]:
        assert Version(minor + ".0") in SpecifierSet(rel["requires_python"]), minor
    assert set(rel["variants"]) <= set(PLATFORM_KEYS)
    for key, variants in rel["variants"].items():
        assert variants, f"{key}: list no platform without variants"
        for v in variants:
            assert VARIANT.match(v), f"{key}: malformed variant {v!r}"
        assert len(set(variants)) == len(variants)
        assert variants == sorted(variants, key=variant_order), f"{key}: {variants} out of order"
        if key.startswith("windows") or key.startswith("macos"):
            assert not any(variant_kind(v) == "rocm" for v in variants), "ROCm is Linux only"
        if key.startswith("macos"):
            assert not any(variant_kind(v) in ("cuda", "xpu") for v in variants)
    if channel != "stable":
        assert all("pypi" not in v for v in rel["variants"].values()), "pre-releases: no PyPI"
    assert re.fullmatch(r"2\.\d+", rel["glibc_min"]) or rel["glibc_min"] == ""
    assert re.fullmatch(r"\d+\.\d+", rel["macos_min"])


@pytest.mark.parametrize("rel", RELEASES["stable"], ids=[r["version"] for r in RELEASES["stable"]])
def test_stable_release_pypi_facts_hang_together(rel: dict[str, Any]) -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rel["date"])
    # What a bare `pip install torch` gives is one of the offered builds (Linux) or CPU/MPS.
    for key, default in rel["pypi_default"].items():
        if key.startswith("linux"):
            assert default == "cpu" or default in rel["variants"][key], (key, default)
        elif key == "macos-arm64":
            assert default == "mps"
        else:
            assert default == "cpu"
        assert key in rel["variants"], f"PyPI has {key} wheels but the catalog offers nothing"
    for key in ("macos-arm64", "macos-x86_64"):
        if key in rel["variants"]:
            assert rel["variants"][key] == ["pypi"] and key in rel["pypi_default"]
    assert rel["companions"].get("torchvision"), "every release since 1.13 has a torchvision"
    for name, version in rel["companions"].items():
        assert name in ("torchvision", "torchaudio")
        Version(version)
    if Version(rel["version"]) > Version("2.11.0"):
        # torchaudio 2.11.1 (pure Python, torch>=2.11) serves every torch from 2.12 on.
        assert rel["companions"]["torchaudio"] == "2.11.1"
    else:
        assert rel["companions"]["torchaudio"]


def test_companions_increase_with_torch() -> None:
    for name in ("torchvision", "torchaudio"):
        seq = [r["companions"][name] for r in RELEASES["stable"] if name in r["companions"]]
        assert seq == sorted(seq, key=Version, reverse=True), name
        # Only torchaudio 2.11.1 serves several torch releases (its floor, torch>=2.11, admits
        # them all; see scripts/check_catalog.py).
        shared = {v for v in seq if seq.count(v) > 1}
        assert shared <= ({"2.11.1"} if name == "torchaudio" else set()), name


def test_known_facts(cat: catalog.Catalog) -> None:
    """Spot checks against facts.md and the sources named in the data."""
    newest = cat.release("2.15.0")
    assert newest is not None
    assert newest.requires_python == ">=3.11" and not newest.supports_python("3.10")
    assert newest.pypi_default("linux-x86_64") == "cu132"
    assert cat.release("2.9.1").pypi_default("linux-x86_64") == "cu128"  # type: ignore[union-attr]
    assert cat.release("2.9.1").companions == {"torchvision": "0.24.1", "torchaudio": "2.9.1"}  # type: ignore[union-attr]
    assert cat.release("2.11.0").pypi_default("linux-aarch64") == "cu130"  # type: ignore[union-attr]
    assert cat.release("2.10.0").pypi_default("linux-aarch64") == "cpu"  # type: ignore[union-attr]
    assert cat.release("2.12.0").macos_min == "14.0"  # type: ignore[union-attr]
    assert cat.release("2.11.0").macos_min == "11.0"  # type: ignore[union-attr]
    assert cat.release("2.7.0").glibc_min == "2.28"  # type: ignore[union-attr]
    intel_mac = [r.version for r in cat.releases() if r.variants("macos-x86_64")]
    assert intel_mac[0] == "2.2.2"
    assert cat.newest_supporting("macos-x86_64", "3.12").version == "2.2.2"  # type: ignore[union-attr]
    assert cat.release("2.15.0").variants("windows-arm64") == ("cpu",)  # type: ignore[union-attr]
    assert "pypi" not in cat.release("2.15.0").variants("windows-arm64")  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------
# CUDA, ROCm, Jetson data


def test_driver_floors(cat: catalog.Catalog) -> None:
    assert cat.driver_floor("11.8", "linux") == "450.80.02"
    assert cat.driver_floor("11.8", "windows") == "452.39"
    assert cat.driver_floor("12.6", "linux") == "525.60.13"
    assert cat.driver_floor("12.8", "windows") == "528.33"
    # NVIDIA's minor-version compatibility floor for 13.x is the R580 branch (">= 580"), not the
    # 580.65.06 driver the 13.0 toolkit shipped with.
    assert cat.driver_floor("13.0", "linux") == "580"
    assert cat.driver_floor("13.2", "windows") == "580"
    for floor in CUDA["driver_floors"].values():
        assert floor["source"]


def test_every_offered_cuda_variant_has_archs(cat: catalog.Catalog) -> None:
    for channel in core.CHANNELS:
        for rel in cat.releases(channel):
            for key in ("linux-x86_64", "windows-x86_64", "linux-aarch64"):
                for v in rel.variants(key):
                    if variant_kind(v) == "cuda":
                        archs = cat.cuda_archs(v, rel.version, key)
                        assert archs, f"{rel.version} {key} {v}: no arch rule"
                        assert list(archs) == sorted(archs, key=Version)
    for rule in CUDA["arch_rules"]:
        assert rule["source"]
        assert set(rule.get("ptx", [])) <= set(rule["archs"])


def test_arch_gates(cat: catalog.Catalog) -> None:
    # A GTX 1080 (6.1) runs cu126, not CUDA 13 builds; Blackwell (12.0) needs cu128+.
    assert cat.covers_cc("cu126", "2.15.0", "6.1")
    assert not cat.covers_cc("cu130", "2.15.0", "6.1")
    assert not cat.covers_cc("cu132", "2.15.0", "7.0")
    assert cat.covers_cc("cu130", "2.15.0", "7.5")
    assert not cat.covers_cc("cu126", "2.9.1", "12.0")
    assert cat.covers_cc("cu128", "2.9.1", "12.0")
    assert cat.covers_cc("cu128", "2.9.1", "12.1")  # same major, higher minor: sm_120 cubin runs
    assert cat.covers_cc("cu128", "2.8.0", "7.0") and not cat.covers_cc("cu128", "2.7.0", "7.0")
    assert cat.covers_cc("cu118", "2.7.0", "3.7")
    assert not cat.covers_cc("cu126", "2.15.0", "")
    assert not cat.covers_cc("cu126", "2.15.0", "garbage")
    # aarch64 builds leave out consumer archs and add Thor (11.0) with CUDA 13.
    assert cat.covers_cc("cu130", "2.15.0", "11.0", "linux-aarch64")
    assert not cat.covers_cc("cu130", "2.15.0", "11.0", "linux-x86_64")
    assert cat.covers_cc("cu126", "2.15.0", "8.6", "linux-aarch64")  # sm_80 cubin runs on 8.6
    assert not cat.covers_cc("cu126", "2.15.0", "7.5", "linux-aarch64")
    rel = cat.release("2.15.0")
    assert rel is not None
    assert cat.cuda_variants_for_cc(rel, "6.1") == ("cu126",)
    assert cat.cuda_variants_for_cc(rel, "12.0") == ("cu132", "cu130")
    assert cat.arch_rule("cu130", "2.15.0").ptx == ("12.0",)  # type: ignore[union-attr]


def test_rocm_data(cat: catalog.Catalog) -> None:
    offered = {
        v
        for ch in core.CHANNELS
        for r in cat.releases(ch)
        for v in r.variants("linux-x86_64")
        if variant_kind(v) == "rocm"
    }
    assert offered <= set(ROCM["variants"]), offered - set(ROCM["variants"])
    for name, entry in ROCM["variants"].items():
        assert entry["source"] and entry["gfx"]
        assert all(re.fullmatch(r"gfx[0-9a-f]{3,4}", g) for g in entry["gfx"]), name
        assert "gfx000" not in entry["gfx"]
    assert "gfx1151" in cat.rocm_gfx("rocm7.2") and "gfx1151" not in cat.rocm_gfx("rocm7.1")
    assert "gfx950" in cat.rocm_gfx("rocm7.0") and "gfx950" not in cat.rocm_gfx("rocm6.4")
    assert "gfx1100" in cat.rocm_gfx("rocm6.0")
    assert cat.rocm_gfx("rocm9.9") == frozenset()
    assert cat.rocm_variants_for_gfx(cat.release("2.8.0"), "gfx1201") == ("rocm6.4", "rocm6.3")  # type: ignore[arg-type]


def test_rocm_compared_as_versions() -> None:
    shuffled = ["cpu", "rocm7.2", "xpu", "rocm7.14", "cu126", "rocm6.2.4", "cu130", "rocm6.2"]
    assert sorted(shuffled, key=variant_order) == [
        "cu130", "cu126", "rocm7.14", "rocm7.2", "rocm6.2.4", "rocm6.2", "xpu", "cpu",
    ]  # fmt: skip
    assert core.rocm_version("rocm6.2.4") == "6.2.4"
    assert core.cuda_version("cu118") == "11.8" and core.cuda_version("cu132") == "13.2"
    assert core.cuda_version("rocm7.2") == "" and variant_kind("cu12") == ""


def test_jetson(cat: catalog.Catalog) -> None:
    jp6 = cat.jetson("6.2")
    assert jp6 is not None and jp6.index_url == "https://pypi.jetson-ai-lab.io/jp6/cu126"
    assert jp6.cuda == "12.6" and jp6.source
    assert (
        jp6.torch[:2] == ("2.10.0", "2.9.1") and jp6.companions["2.9.1"]["torchvision"] == "0.24.1"
    )
    # JetPack 7 (L4T R38, Thor) and 7.2 (L4T R39, Orin too) use PyTorch's own aarch64 builds.
    thor = cat.jetson("7", "38.2.2")
    assert thor is not None and thor.kind == "pytorch" and thor.cuda == "13.0"
    assert thor.alternative == "https://pypi.jetson-ai-lab.io/sbsa/cu130"
    orin7 = cat.jetson("7", "39.2.0")
    assert orin7 is not None and orin7.kind == "pytorch" and orin7.cuda == "13.2"
    assert cat.jetson("7.2") is orin7
    assert cat.jetson("5.1") is None and "JetPack 5" in cat.jetson_note("5.1.2")
    assert cat.jetson_note("6") == ""
    for route in JETSON["routes"]:
        assert route["source"]
        if route["kind"] == "jetson-ai-lab":
            assert route["index_url"].startswith("https://")
        else:
            assert route["index_url"] == "" and route["cuda"].startswith("13.")


# --------------------------------------------------------------------------------------------------
# The API


def test_api_basics(cat: catalog.Catalog) -> None:
    assert catalog.load() is cat  # cached
    rel = cat.releases()[0]
    assert rel.channel == "stable" and not rel.pre
    assert rel.python_range == (rel.pythons[0], rel.pythons[-1])
    assert rel.os_floor("linux-x86_64") == rel.glibc_min
    assert rel.os_floor("macos-arm64") == rel.macos_min
    assert rel.os_floor("windows-x86_64") == ""
    assert rel.offers("linux-x86_64", "cpu") and not rel.offers("macos-arm64", "cpu")
    assert "linux-x86_64" in rel.platforms
    nightly = cat.releases("nightly")[0]
    assert nightly.pre and nightly.channel == "nightly"
    assert cat.release("2.9.1", "nightly") is None
    assert cat.releases("bogus") == ()
    assert catalog.index_url("https://download.pytorch.org/whl/", "stable", "cu126") == (
        "https://download.pytorch.org/whl/cu126"
    )
    assert catalog.index_url("https://m.example/whl", "nightly", "cpu") == (
        "https://m.example/whl/nightly/cpu"
    )


def test_newest_supporting(cat: catalog.Catalog) -> None:
    assert cat.newest_supporting("linux-x86_64", "3.10").version == "2.14.1"  # type: ignore[union-attr]
    assert cat.newest_supporting("linux-x86_64", "3.12").version == "2.15.0"  # type: ignore[union-attr]
    assert cat.newest_supporting("linux-x86_64", "3.7").version == "1.13.1"  # type: ignore[union-attr]
    assert cat.newest_supporting("linux-x86_64", "3.6") is None
    assert cat.newest_supporting("linux-x86_64", "3.12", variant="cu118").version == "2.7.1"  # type: ignore[union-attr]
    assert cat.newest_supporting("linux-riscv64") is None
    assert cat.newest_supporting("linux-x86_64", channel="nightly").pre  # type: ignore[union-attr]


def test_catalog_from_dicts_for_tests() -> None:
    c = catalog.Catalog(
        {"stable": [{"version": "2.0.0"}, {"version": "2.10.0"}, {"version": "2.9.0"}]},
        {"driver_floors": {"12": {"linux": "1"}}, "arch_rules": []},
        {"variants": {}},
        {"routes": []},
    )
    assert [r.version for r in c.releases()] == ["2.10.0", "2.9.0", "2.0.0"]
    assert c.driver_floor("12.1", "linux") == "1" and c.driver_floor("12.1", "windows") == ""
    assert c.cuda_archs("cu126", "2.9.0") == () and c.jetson("6") is None


def test_load_is_light() -> None:
    """Loading the catalog pulls neither textual nor packaging.tags (its speed is a benchmark's
    business, bench/b_cli.py, not a timed test's: a loaded CI machine made this one flaky)."""
    code = (
        "import sys; from torch_wizard import catalog; c = catalog.load(); c.releases();"
        "print('textual' in sys.modules, 'packaging.tags' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]
