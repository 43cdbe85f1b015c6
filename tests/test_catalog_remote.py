"""RemoteFile: a wheel's zip directory and METADATA read over HTTP from a real local server."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tests.support.httpserver import serve_directory
from torch_wizard.catalog.remote import RemoteFile


def test_zip_members_read_through_http(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    payload = bytes(range(256)) * 4000  # spans several 256 KiB blocks
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("demo/data.bin", payload)
        zf.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\n")
    size = wheel.stat().st_size
    with serve_directory(tmp_path) as url:
        raw = RemoteFile(f"{url}/{wheel.name}", size)
        with zipfile.ZipFile(io.BufferedReader(raw, 64 * 1024)) as zf:
            assert zf.read("demo-1.0.dist-info/METADATA").startswith(b"Metadata-Version")
            assert zf.read("demo/data.bin") == payload
            sizes = {i.filename: i.file_size for i in zf.infolist()}
    assert sizes["demo/data.bin"] == len(payload)
    assert len(raw.blocks) >= 2
