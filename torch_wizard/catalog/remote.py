"""Read parts of a remote file through HTTP range requests: a wheel's METADATA or its zip
directory, without downloading the whole wheel (used by scripts/check_catalog.py and bench/)."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Mapping
from typing import Any


class RemoteFile(io.RawIOBase):
    """A read-only, seekable view of a URL that fetches what is read in 256 KiB blocks.

    Wrap it in ``io.BufferedReader`` for ``zipfile.ZipFile``. A server that ignores ``Range``
    (answers 200 with the whole file) still works, only slower."""

    BLOCK = 256 * 1024

    def __init__(
        self, url: str, size: int, timeout: float = 60, headers: Mapping[str, str] | None = None
    ) -> None:
        self.url, self.size, self.timeout, self.pos = url, size, timeout, 0
        self.headers = dict(headers or {})
        self.blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _block(self, n: int) -> bytes:
        if n not in self.blocks:
            start = n * self.BLOCK
            end = min(self.size, start + self.BLOCK) - 1
            headers = {**self.headers, "Range": f"bytes={start}-{end}"}
            req = urllib.request.Request(self.url, headers=headers)  # noqa: S310
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                data = resp.read()
            if resp.status != 206 and len(data) != end - start + 1:
                data = data[start : end + 1]
            self.blocks[n] = data
        return self.blocks[n]

    def readinto(self, buf: Any) -> int:
        view = memoryview(buf).cast("B")
        want = min(len(view), self.size - self.pos)
        done = 0
        while done < want:
            n, off = divmod(self.pos, self.BLOCK)
            chunk = self._block(n)[off : off + want - done]
            if not chunk:
                break
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self.pos += len(chunk)
        return done
