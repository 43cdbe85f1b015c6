"""``export pyproject --write``: merging into a real project's pyproject.toml changes only the
``[[tool.uv.index]]`` entries of the same name and the family's ``[tool.uv.sources]`` entries;
every other byte stays (comments, odd spacing, quoting, order, other tools' tables), a second
run changes nothing, and the file keeps its permissions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import tomlkit

from tests.conftest import REPO, run_cli

# A pyproject with the quirks people's files have: comments everywhere, single quotes, a key
# with odd spacing, CRLF-free but tab-indented arrays, other tools' tables, a [tool.uv] with
# settings of its own, a user's own source and index, and a stale torch source to be replaced.
BEFORE_UV = """\
# demo project -- hand written
[build-system]
requires = ['hatchling']   # single quotes
build-backend = "hatchling.build"

[project]
name    =    "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
\t"numpy>=2",  # tabs
\t"torch==2.13.0",
]

[tool.ruff]
line-length = 99
"""

UV_PART = """\
[tool.uv]
# my settings
dev-dependencies = ["pytest"]

[tool.uv.sources]
mylib = { path = "../mylib", editable = true }   # a local package
torch = { index = "old-mirror" }

[[tool.uv.index]]
name = "company"   # our own mirror
url = "https://pypi.example.com/simple"

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://old.example.com/whl/cpu"
"""

AFTER_UV = """\

[tool.mypy]
strict = true   # keep me
[tool.other."quoted key"]
x = 1
"""

ARGS = ["--os", "linux", "--arch", "x86_64", "--backend", "cpu", "--packages", "torch"]


def write(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("export", "pyproject", *ARGS, *extra, "--write", str(path), cwd=REPO)


def test_merge_keeps_every_other_byte(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    original = BEFORE_UV + "\n" + UV_PART + AFTER_UV
    path.write_text(original)
    os.chmod(path, 0o640)
    r = write(path)
    assert r.returncode == 0, r.stderr
    merged = path.read_text()
    assert merged != original
    # Everything before [tool.uv] and after the uv tables is byte for byte the same.
    assert merged.startswith(BEFORE_UV + "\n")
    assert merged.endswith(AFTER_UV)
    # Inside [tool.uv]: the user's own lines stay verbatim, in order.
    middle = merged[len(BEFORE_UV) + 1 : len(merged) - len(AFTER_UV)]
    kept = [
        "[tool.uv]",
        "# my settings",
        'dev-dependencies = ["pytest"]',
        "[tool.uv.sources]",
        'mylib = { path = "../mylib", editable = true }   # a local package',
        "[[tool.uv.index]]",
        'name = "company"   # our own mirror',
        'url = "https://pypi.example.com/simple"',
    ]
    lines = middle.splitlines()
    positions = [lines.index(k) for k in kept]
    assert positions == sorted(positions)
    # What changed is exactly the tool's: the stale torch source and the same-named index.
    data = tomlkit.parse(merged).unwrap()
    uv = data["tool"]["uv"]
    assert uv["sources"]["torch"] == [
        {
            "index": "pytorch-cpu",
            "marker": "sys_platform == 'linux' and platform_machine == 'x86_64'",
        }
    ]
    assert uv["sources"]["mylib"] == {"path": "../mylib", "editable": True}
    assert uv["index"] == [
        {"name": "company", "url": "https://pypi.example.com/simple"},
        {"name": "pytorch-cpu", "url": "https://download.pytorch.org/whl/cpu", "explicit": True},
    ]
    assert data["tool"]["mypy"] == {"strict": True}
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]  # no temp left


def test_second_write_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(BEFORE_UV + "\n" + UV_PART + AFTER_UV)
    assert write(path).returncode == 0
    once = path.read_bytes()
    r = write(path)
    assert r.returncode == 0, r.stderr
    assert "already up to date" in r.stdout
    assert path.read_bytes() == once


def test_merge_into_a_file_without_tool_tables_appends(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(BEFORE_UV)
    r = write(path)
    assert r.returncode == 0, r.stderr
    merged = path.read_text()
    assert merged.startswith(BEFORE_UV)
    data = tomlkit.parse(merged).unwrap()
    assert data["tool"]["ruff"] == {"line-length": 99}
    assert data["tool"]["uv"]["index"][0]["explicit"] is True
    # the dependency is there already, so nothing to add
    assert "Add to [project] dependencies" not in r.stdout


def test_missing_dependencies_are_named(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\nversion = "0"\ndependencies = []\n')
    r = write(path)
    assert r.returncode == 0, r.stderr
    assert "Add to [project] dependencies" in r.stdout
    assert '  "torch==' in r.stdout
    # the [project] table itself is not touched
    assert path.read_text().startswith('[project]\nname = "x"\nversion = "0"\ndependencies = []\n')


def test_tool_uv_that_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool]\nuv = "nope"\n')
    r = write(path)
    assert r.returncode == 2
    assert "[tool.uv] is not a table" in r.stderr
    assert path.read_text() == '[tool]\nuv = "nope"\n'


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    original = (BEFORE_UV + "\n" + UV_PART + AFTER_UV).replace("\n", "\r\n").encode()
    path.write_bytes(original)
    r = write(path)
    assert r.returncode == 0, r.stderr
    merged = path.read_bytes()
    assert merged.startswith((BEFORE_UV + "\n").replace("\n", "\r\n").encode())
    assert merged.endswith(AFTER_UV.replace("\n", "\r\n").encode())
    assert b"\n" not in merged.replace(b"\r\n", b"")
    assert tomlkit.parse(merged.decode()).unwrap()["tool"]["uv"]["index"][1]["explicit"] is True


def test_file_without_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"')
    r = write(path)
    assert r.returncode == 0, r.stderr
    merged = path.read_text()
    assert merged.startswith('[project]\nname = "x"')
    assert tomlkit.parse(merged).unwrap()["project"] == {"name": "x"}


def test_write_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real" / "pyproject.toml"
    real.parent.mkdir()
    real.write_text(BEFORE_UV)
    link = tmp_path / "pyproject.toml"
    link.symlink_to(real)
    assert write(link).returncode == 0
    assert link.is_symlink()
    assert "[tool.uv.sources]" in real.read_text()


def test_inline_index_and_sources_stay_inline(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    head = '[project]\nname = "x"\n\n[tool.uv]\n'
    path.write_text(
        head + 'index = [{ name = "co", url = "https://co.example/simple" }]\n'
        'sources = { mylib = { path = "." } }\n'
    )
    assert write(path).returncode == 0
    merged = path.read_text()
    assert merged.startswith(head + 'index = [{ name = "co", url = "https://co.example/simple" }, ')
    sources_line = next(x for x in merged.splitlines() if x.startswith("sources = "))
    assert sources_line.startswith('sources = { mylib = { path = "." }, torch = [')
    assert sources_line.endswith("]}")  # still one line: an inline table may not span lines
    uv = tomlkit.parse(merged).unwrap()["tool"]["uv"]
    assert [i["name"] for i in uv["index"]] == ["co", "pytorch-cpu"]
    assert uv["sources"]["torch"][0]["index"] == "pytorch-cpu"
