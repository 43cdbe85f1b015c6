"""The published package: a real wheel built from this tree by pip (through the build backend in
pyproject.toml) carries the license, the project URLs and classifiers, the one version that
torch_wizard/__init__.py holds, and a README whose links work on PyPI (absolute, to files that exist)."""

from __future__ import annotations

import email.parser
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from torch_wizard import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
RAW = "https://raw.githubusercontent.com/torch-wizard/torch-wizard/main/"
BLOB = "https://github.com/torch-wizard/torch-wizard/blob/main/"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = out.glob("torch_wizard-*.whl")
    return found


def _metadata(wheel: Path) -> tuple[email.message.Message, list[str]]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(meta).decode("utf-8")), names


def test_the_version_has_one_source() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_wheel_carries_version_license_urls_and_classifiers(wheel: Path) -> None:
    msg, names = _metadata(wheel)
    assert msg["Version"] == __version__
    assert wheel.name.startswith(f"torch_wizard-{__version__}-")
    assert msg["License-Expression"] == "BSD-3-Clause"
    license_name = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(license_name).decode("utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, the torch-wizard authors" in text
    assert text == (REPO / "LICENSE").read_text("utf-8")
    urls = dict(u.split(", ", 1) for u in msg.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = msg.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Topic :: System :: Installation/Setup" in classifiers
    requires = msg["Requires-Python"]
    minors = [c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)]
    assert minors and all(f"3.{int(m.split('.')[1])}" == m for m in minors)
    assert requires == ">=3.10" and min(minors, key=lambda m: int(m.split(".")[1])) == "3.10"
    assert "pytorch" in (msg["Keywords"] or "").split(",")


def test_the_readme_on_pypi_has_only_absolute_links_to_real_files(wheel: Path) -> None:
    msg, _ = _metadata(wheel)
    description = msg.get_payload()
    assert isinstance(description, str) and "# torch-wizard" in description
    links = LINK.findall(description)
    assert any(link.endswith(".svg") for link in links)  # the screenshots are there
    for link in links:
        if link.startswith("#"):
            continue
        assert link.startswith("https://"), f"relative link {link!r} breaks on PyPI"
        for prefix in (RAW, BLOB):
            if link.startswith(prefix):
                assert (REPO / link[len(prefix) :]).is_file(), f"{link} names no file here"


def test_the_wheel_installs_as_import_torch_wizard(wheel: Path, tmp_path: Path) -> None:
    """The import name matches the PyPI name: the wheel holds one top-level package,
    ``torch_wizard`` (no generic ``wizard`` to collide with), and a venv with it installed imports
    it and runs its console script's module."""
    with zipfile.ZipFile(wheel) as zf:
        tops = {
            n.split("/", 1)[0]
            for n in zf.namelist()
            if not n.split("/", 1)[0].endswith(".dist-info")
        }
    assert tops == {"torch_wizard"}
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    # --no-deps: the dependencies are this venv's own (site-packages of the test interpreter)
    site = next(p for p in sys.path if p.endswith("site-packages"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--isolated",
         "--target", str(tmp_path / "t"), str(wheel)],
        check=True,
    )  # fmt: skip
    code = "import torch_wizard, torch_wizard.cli; print(torch_wizard.__version__, torch_wizard.__file__)"
    r = subprocess.run(
        [str(py), "-I", "-c", f"import sys; sys.path[:0] = [{str(tmp_path / 't')!r}, {site!r}]; {code}"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    version, where = r.stdout.split()
    assert version == __version__ and Path(where).is_relative_to(tmp_path / "t")
    assert not (tmp_path / "t" / "wizard").exists()
