"""The live index reader against real HTTP servers on 127.0.0.1 (PEP 691 JSON and PEP 503 HTML)."""

from __future__ import annotations

import contextlib
import http.server
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import serve, serve_directory
from torch_wizard.catalog import Catalog, index
from torch_wizard.catalog.index import IndexReadError, list_files, list_versions, platform_tags_for

# Names shaped like real wheels: local labels, a PyPI build tag, free-threaded and macOS builds.
WHEELS = [
    "torch-2.9.1+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
    "torch-2.9.1+cu126-cp312-cp312-manylinux_2_28_x86_64.whl",
    "torch-2.9.1+cu126-cp311-cp311-win_amd64.whl",
    "torch-2.9.1+cu126-cp313-cp313t-manylinux_2_28_x86_64.whl",
    "torch-2.8.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
    "torch-2.8.0+cu126-cp39-cp39-manylinux_2_28_x86_64.whl",
    "torch-2.10.0-2-cp311-cp311-manylinux_2_28_x86_64.whl",
    "torch-2.10.0-3-cp311-cp311-manylinux_2_28_x86_64.whl",
    "torch-2.10.0-cp311-none-macosx_11_0_arm64.whl",
    "torch-1.13.1+cu117-cp311-cp311-linux_x86_64.whl",
    "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl",
]
LINUX = platform_tags_for("linux-x86_64", glibc="2.31")


def _make_tree(root: Path) -> None:
    """/simple/torch/index.html (PEP 503) plus the (empty) wheel files it links to."""
    files = root / "files"
    files.mkdir(parents=True)
    links = []
    for name in WHEELS:
        (files / name).write_bytes(b"")
        href = "../../files/" + name.replace("+", "%2B")
        extra = ' data-requires-python="&gt;=3.10"' if "2.9.1" in name else ""
        links.append(f'<a href="{href}#sha256=00"{extra}>{name}</a><br/>')
    links.append('<a href="../../files/torch-2.9.1.tar.gz">torch-2.9.1.tar.gz</a>')
    page = root / "simple" / "torch"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n", "utf-8"
    )
    garbage = root / "garbage" / "torch"
    garbage.mkdir(parents=True)
    (garbage / "index.html").write_bytes(b"\x00\x01 this is not an index \xff")


def _json_page() -> bytes:
    files = [
        {
            "filename": name,
            "url": "../../files/" + name.replace("+", "%2B"),
            "hashes": {"sha256": "00"},
            "size": 1000 + i,
            "requires-python": ">=3.10" if "2.9.1" in name else None,
            "upload-time": "2025-11-12T15:19:56.480860Z",
            "yanked": name.startswith("torch-2.8.0"),
        }
        for i, name in enumerate(WHEELS)
    ]
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": "torch", "versions": [], "files": files}
    ).encode()


class _Negotiating(http.server.BaseHTTPRequestHandler):
    """Answers /simple/torch/ with PEP 691 JSON when the client asks for it, else HTML."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/simple/torch":
            self.send_error(404)
            return
        if index.JSON_TYPE in self.headers.get("Accept", ""):
            body, ctype = _json_page(), index.JSON_TYPE
        else:
            body, ctype = b"<html><body>nothing</body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_json() -> contextlib.AbstractContextManager[str]:
    return serve(_Negotiating)


@pytest.fixture
def html_index(tmp_path: Path) -> Iterator[str]:
    _make_tree(tmp_path)
    with serve_directory(tmp_path) as base:
        yield base


def test_html_page_lists_every_file_with_parsed_versions(html_index: str) -> None:
    files = list_files(f"{html_index}/simple", "torch")
    by_name = {f.filename: f for f in files}
    assert set(by_name) == {*WHEELS, "torch-2.9.1.tar.gz"}
    cu = by_name["torch-2.9.1+cu126-cp311-cp311-manylinux_2_28_x86_64.whl"]
    assert (cu.version, cu.local, cu.full_version) == ("2.9.1", "cu126", "2.9.1+cu126")
    assert cu.requires_python == ">=3.10"
    assert cu.url == f"{html_index}/files/torch-2.9.1%2Bcu126-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert by_name["torch-2.10.0-3-cp311-cp311-manylinux_2_28_x86_64.whl"].build == "3"
    assert by_name["torch-2.9.1+cu126-cp313-cp313t-manylinux_2_28_x86_64.whl"].pythons == {"3.13t"}
    assert by_name["torch-2.9.1.tar.gz"].version == ""  # not a wheel: kept, but unversioned


def test_html_filter_to_python_and_platform(html_index: str) -> None:
    got = list_versions(f"{html_index}/simple", "torch", "3.11", LINUX)
    names = [f.filename for f in got]
    # Newest first; the highest build tag first within a version; no Windows, macOS, cp312, cp39.
    assert names == [
        "torch-2.10.0-3-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.10.0-2-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.9.1+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.8.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl",
        "torch-1.13.1+cu117-cp311-cp311-linux_x86_64.whl",
    ]


def test_glibc_too_old_for_manylinux_2_28(html_index: str) -> None:
    old = platform_tags_for("linux-x86_64", glibc="2.17")
    got = {f.filename for f in list_versions(f"{html_index}/simple", "torch", "3.11", old)}
    assert got == {
        "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl",
        "torch-1.13.1+cu117-cp311-cp311-linux_x86_64.whl",
    }


def test_free_threaded_and_macos_and_windows(html_index: str) -> None:
    base = f"{html_index}/simple"
    ft = list_versions(base, "torch", "3.13t", LINUX)
    assert [f.filename for f in ft] == ["torch-2.9.1+cu126-cp313-cp313t-manylinux_2_28_x86_64.whl"]
    mac = list_versions(base, "torch", "3.11", platform_tags_for("macos-arm64", macos="14.0"))
    assert [f.filename for f in mac] == ["torch-2.10.0-cp311-none-macosx_11_0_arm64.whl"]
    old_mac = platform_tags_for("macos-arm64", macos="10.15")
    assert list_versions(base, "torch", "3.11", old_mac) == []
    win = list_versions(base, "torch", "3.11", platform_tags_for("windows-x86_64"))
    assert [f.full_version for f in win] == ["2.9.1+cu126"]


def test_json_page_by_content_negotiation() -> None:
    with serve_json() as base:
        files = list_files(f"{base}/simple", "torch")
        got = list_versions(f"{base}/simple", "torch", "3.11", LINUX)
    assert len(files) == len(WHEELS)
    first = next(f for f in files if f.filename == WHEELS[0])
    assert first.size == 1000
    assert first.requires_python == ">=3.10"
    assert first.upload_time.startswith("2025-11-12")
    assert first.url == f"{base}/files/torch-2.9.1%2Bcu126-cp311-cp311-manylinux_2_28_x86_64.whl"
    # The yanked 2.8.0 wheels are not offered.
    assert [f.full_version for f in got] == [
        "2.10.0",
        "2.10.0",
        "2.9.1+cu126",
        "2.6.0",
        "1.13.1+cu117",
    ]


def test_http_404_is_one_clear_error(html_index: str) -> None:
    with pytest.raises(IndexReadError) as err:
        list_files(f"{html_index}/simple", "torchvision")
    assert "HTTP 404" in str(err.value)
    assert "/simple/torchvision/" in str(err.value)


def test_garbage_page_is_rejected(html_index: str) -> None:
    with pytest.raises(IndexReadError, match="not a PEP 503 HTML or PEP 691 JSON"):
        list_files(f"{html_index}/garbage", "torch")


def test_bad_json_is_rejected() -> None:
    with pytest.raises(IndexReadError, match="not a PEP 691 JSON"):
        index.parse_page(index.JSON_TYPE, b'{"nothing": 1}', "http://127.0.0.1/x/")


def test_unreachable_and_bad_scheme() -> None:
    with serve_json() as base:
        dead = base  # the port is closed once the server stops
    with pytest.raises(IndexReadError, match="cannot reach the index"):
        list_files(f"{dead}/simple", "torch", timeout=2)
    with pytest.raises(IndexReadError, match="not an http"):
        list_files("ftp://example.invalid/simple", "torch")


def test_refresh_reports_versions_per_variant(tmp_path: Path) -> None:
    """refresh() reads {base}/{variant}/torch/ for each variant of the newest release."""
    for variant, names in {
        "cu126": ["torch-2.9.1+cu126-cp312-cp312-manylinux_2_28_x86_64.whl"],
        "cpu": [
            "torch-2.9.1+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",
            "torch-2.9.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",
        ],
    }.items():
        page = tmp_path / variant / "torch"
        page.mkdir(parents=True)
        links = "".join(f'<a href="{n.replace("+", "%2B")}">{n}</a>' for n in names)
        (page / "index.html").write_text(f"<html><body>{links}</body></html>", "utf-8")
    cat = Catalog(
        {"stable": [{"version": "2.9.1", "variants": {"linux-x86_64": ["cu128", "cu126", "cpu"]}}]},
        {"driver_floors": {}, "arch_rules": []},
        {"variants": {}},
        {"routes": []},
    )
    with serve_directory(tmp_path) as base:
        got = index.refresh(cat, base, "stable", "linux-x86_64", "3.12", timeout=5)
    assert got == {"cu128": (), "cu126": ("2.9.1",), "cpu": ("2.9.1", "2.9.0")}
