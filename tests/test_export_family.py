"""torchao and torchcodec in --packages: each pinned to the release its own project pairs with
the plan's torch (torch_wizard/catalog/data/family.json, sources there), only where its build
workflows publish it, with one exit-2 line otherwise; the pins reach the install and verify
steps. The data is checked against PyPI when TORCH_WIZARD_NETWORK_TESTS=1."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import FIXTURES, REPO, run_cli
from torch_wizard.catalog import family
from torch_wizard.catalog import load as load_catalog

MACHINES = FIXTURES / "machines"


def pin(
    name: str, torch: str, key: str = "linux-x86_64", variant: str = "cpu", py: str = ""
) -> str:
    found = family.companion(family.load()[name], torch, key, variant, py)
    return found.version or f"none: {found.why}"


# From torchao/__init__.py at v0.16.0 (exact pairs), v0.17.0/v0.18.0 (torch >= 2.11.0) and
# pytorch/ao issue #2919 (0.12.0).
@pytest.mark.parametrize(
    ("torch", "torchao"),
    [
        ("2.15.0", "0.18.0"),
        ("2.12.1", "0.18.0"),
        ("2.11.0", "0.18.0"),
        ("2.10.0", "0.16.0"),
        ("2.9.1", "0.15.0"),
        ("2.9.0", "0.14.1"),
        ("2.8.0", "0.14.0"),
        ("2.7.1", "0.12.0"),
        ("2.6.0", "0.12.0"),
    ],
)
def test_torchao_pairs(torch: str, torchao: str) -> None:
    assert pin("torchao", torch) == torchao


def test_torchao_has_no_release_for_torch_2_7_0() -> None:
    assert pin("torchao", "2.7.0") == "none: there is no torchao release paired with torch 2.7.0"


# From the torchcodec README's compatibility table (meta-pytorch/torchcodec, 2026-08-21).
@pytest.mark.parametrize(
    ("torch", "torchcodec"),
    [
        ("2.15.0", "0.16.0"),
        ("2.11.0", "0.16.0"),
        ("2.10.0", "0.10.0"),
        ("2.9.1", "0.9.1"),
        ("2.8.0", "0.7.0"),
        ("2.7.1", "0.5"),
        ("2.6.0", "0.2.1"),
        ("2.5.1", "0.1.1"),
        ("2.4.1", "0.0.3"),
    ],
)
def test_torchcodec_pairs(torch: str, torchcodec: str) -> None:
    assert pin("torchcodec", torch) == torchcodec


@pytest.mark.parametrize(
    ("name", "key", "variant", "ok"),
    [
        ("torchao", "linux-x86_64", "cu130", True),
        ("torchao", "linux-x86_64", "rocm7.14", True),
        ("torchao", "linux-x86_64", "xpu", True),
        ("torchao", "linux-aarch64", "cpu", True),
        ("torchao", "linux-aarch64", "cu130", False),  # aarch64 workflow: with-cuda disable
        ("torchao", "windows-x86_64", "cpu", False),  # no Windows workflow
        ("torchao", "macos-arm64", "pypi", True),  # PyPI's py3-none-any
        ("torchcodec", "linux-x86_64", "rocm7.14", False),  # every workflow: with-rocm disable
        ("torchcodec", "linux-x86_64", "xpu", True),  # the CPU wheel, also uploaded to xpu
        ("torchcodec", "windows-x86_64", "xpu", False),
        ("torchcodec", "windows-x86_64", "cu130", True),
        ("torchcodec", "linux-aarch64", "cu130", True),
        ("torchcodec", "macos-arm64", "pypi", True),
        ("torchcodec", "windows-arm64", "cpu", False),
    ],
)
def test_where_each_is_published(name: str, key: str, variant: str, ok: bool) -> None:
    got = pin(name, "2.15.0", key, variant)
    assert (not got.startswith("none")) is ok, got


def test_python_without_a_torchcodec_wheel() -> None:
    assert pin("torchcodec", "2.15.0", py="3.15").startswith(
        "none: torchcodec 0.16.0 (paired with torch 2.15.0) has no wheel for Python 3.15"
    )
    assert pin("torchcodec", "2.15.0", py="3.14") == "0.16.0"


def test_every_release_has_sources_and_parses() -> None:
    for name, package in family.load().items():
        assert package.sources, name
        assert list(package.releases) == sorted(
            package.releases,
            key=lambda r: tuple(int(x) for x in r.version.split(".")),
            reverse=True,
        )
        for release in package.releases:
            assert release.torch and release.date and release.platforms, (name, release)
    # every stable torch of the catalog from 2.8 on gets a pin of each on Linux x86_64 CPU
    for torch in load_catalog().releases("stable"):
        if tuple(int(x) for x in torch.version.split(".")[:2]) >= (2, 8):
            for name in family.names():
                assert not pin(name, torch.version).startswith("none"), (name, torch.version)


def test_plan_pins_reach_install_and_verify() -> None:
    args = ["--root", str(MACHINES / "cpu-server"), "--torch", "2.10.0", "--installer", "pip"]
    r = run_cli(
        "plan", *args, "--packages", "torch,torchao,torchcodec", "--format", "json", cwd=REPO
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["choice"]["packages"] == {
        "torch": "2.10.0",
        "torchao": "0.16.0",
        "torchcodec": "0.10.0",
    }
    steps = {s["id"]: s for s in plan["steps"]}
    assert {"torchao==0.16.0", "torchcodec==0.10.0"} <= set(steps["install-torch"]["argv"])
    assert steps["verify"]["argv"][-2:] == ["torchao==0.16.0", "torchcodec==0.10.0"]
    assert any("FFmpeg" in w for w in plan["warnings"])
    assert any("torchao's own pairing table" in x for x in plan["reasons"])


def test_default_set_is_unchanged() -> None:
    r = run_cli("plan", "--root", str(MACHINES / "cpu-server"), "--format", "json", cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert not {"torchao", "torchcodec"} & set(json.loads(r.stdout)["choice"]["packages"])


def test_nightly_family_is_unpinned() -> None:
    r = run_cli(
        "plan",
        "--os",
        "linux",
        "--backend",
        "cpu",
        "--channel",
        "nightly",
        "--packages",
        "torch,torchao",
        "--format",
        "json",
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["choice"]["packages"] == {"torch": "", "torchao": ""}


@pytest.mark.network
@pytest.mark.skipif(
    os.environ.get("TORCH_WIZARD_NETWORK_TESTS") != "1",
    reason="talks to pypi.org; set TORCH_WIZARD_NETWORK_TESTS=1",
)
def test_family_data_matches_pypi() -> None:
    """Every recorded release is on PyPI with that first-upload date, those Pythons and
    platforms (the fields family.json took from PyPI)."""
    from torch_wizard.catalog.index import list_files

    keys = {"x86_64": "linux-x86_64", "aarch64": "linux-aarch64", "win_amd64": "windows-x86_64"}
    for name, package in family.load().items():
        files = [f for f in list_files("https://pypi.org/simple", name, 60) if f.version]
        for release in package.releases:
            mine = [f for f in files if f.filename.split("-")[1] == release.version]
            assert mine, (name, release.version)
            assert min(f.upload_time for f in mine)[:10] == release.date, (name, release.version)
            plats, pys = set(), set()
            for f in mine:
                for tag in f.tags:
                    if tag.platform == "any":
                        plats.add("any")
                    elif tag.platform.startswith("macosx") and tag.platform.endswith("arm64"):
                        plats.add("macos-arm64")
                    elif "linux" in tag.platform or tag.platform.startswith("win"):
                        plats.add(next(v for k, v in keys.items() if tag.platform.endswith(k)))
                    if tag.interpreter.startswith("cp") and not tag.abi.endswith("t"):
                        pys.add(f"3.{tag.interpreter[3:]}")
            assert set(release.platforms) == plats, (name, release.version, plats)
            if release.pythons:
                assert set(release.pythons) == pys, (name, release.version, pys)


def test_jetson_route_refuses_family_packages() -> None:
    r = run_cli(
        "plan",
        "--root",
        str(MACHINES / "jetson-orin-jp62"),
        "--packages",
        "torch,torchao",
        "--venv",
        "/tmp/torch-wizard-jetson-venv",
        cwd=REPO,
    )
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "torch-wizard: torch-wizard knows of no torchao build on the Jetson AI Lab index: "
        "drop it from --packages"
    ]
