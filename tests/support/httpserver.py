"""Serve a directory over HTTP on 127.0.0.1 from a background thread (a PEP 503 index, say)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Yield the base URL ("http://127.0.0.1:PORT") of a server for ``handler``; stops on exit."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Yield the base URL of a server for the files under ``root``; stops on exit."""
    with serve(functools.partial(_QuietHandler, directory=str(root))) as url:
        yield url
