"""The installer's download cache: where it is, what it costs on disk, whether to keep it.

uv keeps what it downloads unpacked in its cache and links the files into each venv (hardlinks on
Linux, clones where the filesystem can; a copy when the cache is on another filesystem), so a
second install of the same torch on the machine downloads and unpacks nothing. pip keeps the
downloaded wheels (its HTTP cache) and unpacks them again for each venv.

What a kept cache adds to the disk (``cache_bytes``):

- uv, cache on the venv's filesystem: next to nothing, the venv's files *are* the cache's
  (hardlinks share their blocks); on another filesystem: the unpacked packages again (about the
  installed size) on the cache's filesystem;
- pip: the downloaded wheels (about the download size), wherever the cache is.

The install itself needs ``install_bytes``: the installed size plus room for the download in
flight (``CACHE_MARGIN`` at least). When free disk holds the install but not the cache too, the plan
installs without keeping one (``uv --no-cache``, ``pip --no-cache-dir``) and says so; it fails only
when even that does not fit (``torch_wizard.run.preflight``). Pure functions of numbers and paths, plus
``measure`` for this host's filesystems.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from torch_wizard.plan.model import Network, Resolved

GB = 1_000_000_000
MB = 1_000_000
# Beyond the installed size: the download in flight (pip: a temporary wheel; uv --no-cache: a
# temporary unpack) and small files. At least this much, or the download size if larger.
CACHE_MARGIN = 300 * MB

# What keeps or moves a cache in the host's pip and uv settings (``Network``), replaced when the
# plan decides the cache itself (``--cache-dir`` or a cache turned off).
_PIP_CACHE_FLAGS = ("--cache-dir", "--no-cache-dir")
_UV_CACHE_VARS = ("UV_CACHE_DIR", "UV_NO_CACHE")

Fit = Literal["keep", "off", "full"]


def fmt_bytes(n: int) -> str:
    return f"{n / GB:.1f} GB" if n >= GB else f"{n / MB:.0f} MB"


def install_bytes(installed: int, download: int) -> int:
    """What the install needs on the venv's filesystem without keeping a cache."""
    return installed + max(download, CACHE_MARGIN)


def cache_bytes(installer: str, installed: int, download: int, same_fs: bool) -> int:
    """What keeping the cache adds: see the module docstring."""
    if installer == "uv":
        return 0 if same_fs else installed
    return download


def fit(
    installer: str,
    installed: int,
    download: int,
    free_venv: int,
    free_cache: int,
    same_fs: bool,
) -> Fit:
    """ "keep" when the install and the cache fit, "off" when only the install does, else
    "full". ``free_cache`` is ignored when the cache is on the venv's filesystem."""
    base = install_bytes(installed, download)
    if free_venv < base:
        return "full"
    extra = cache_bytes(installer, installed, download, same_fs)
    if same_fs:
        return "keep" if free_venv >= base + extra else "off"
    return "keep" if free_cache >= extra else "off"


# ------------------------------------------------------------------------------------------------
# Where the cache is


def default_cache_dir(installer: str, os_name: str, environ: Mapping[str, str], home: str) -> str:
    """The cache the installer uses when nothing names one (uv: ``uv cache dir``; pip:
    ``pip cache dir``), as the target's OS spells it."""
    if os_name == "windows":
        local = environ.get("LOCALAPPDATA") or ntpath.join(home, "AppData", "Local")
        return (
            ntpath.join(local, "uv", "cache")
            if installer == "uv"
            else ntpath.join(local, "pip", "Cache")
        )
    if installer == "pip" and os_name == "macos":
        return posixpath.join(home, "Library", "Caches", "pip")
    xdg = environ.get("XDG_CACHE_HOME") or posixpath.join(home, ".cache")
    return posixpath.join(xdg, "uv" if installer == "uv" else "pip")


def configured_cache_dir(installer: str, network: Network) -> str:
    """The cache the host's pip/uv settings name (carried in ``network``), or ""."""
    if installer == "uv":
        return network.uv_env.get("UV_CACHE_DIR", "")
    args = network.pip_args
    for i, arg in enumerate(args[:-1]):
        if arg == "--cache-dir":
            return args[i + 1]
    return ""


def cache_dir_of(
    resolved: Resolved, os_name: str, environ: Mapping[str, str] | None = None, home: str = ""
) -> str:
    """The cache the plan's install step will use: ``--cache-dir``, the host's setting, or the
    installer's default."""
    if resolved.cache_dir:
        return resolved.cache_dir
    configured = configured_cache_dir(resolved.installer, resolved.network)
    if configured:
        return os.path.expanduser(configured)
    environ = os.environ if environ is None else environ
    return default_cache_dir(resolved.installer, os_name, environ, home or str(Path.home()))


def cached_network(network: Network, cache_dir: str, cache: str) -> Network:
    """``network`` as the steps get it: a ``--cache-dir`` or a cache turned off replaces what the
    host's settings said about the cache (pip ``--cache-dir``/``--no-cache-dir``, uv
    ``UV_CACHE_DIR``/``UV_NO_CACHE``). uv's off switch is ``--no-cache`` on its argv."""
    if not cache_dir and cache != "off":
        return network
    pip: list[str] = []
    args = network.pip_args
    i = 0
    while i < len(args):
        if args[i] == "--cache-dir":
            i += 2
            continue
        if args[i] != "--no-cache-dir":
            pip.append(args[i])
        i += 1
    uv_env = {k: v for k, v in network.uv_env.items() if k not in _UV_CACHE_VARS}
    if cache == "off":
        pip.append("--no-cache-dir")
    else:
        pip += ["--cache-dir", cache_dir]
        uv_env["UV_CACHE_DIR"] = cache_dir
    return replace(network, pip_args=tuple(pip), uv_env=uv_env)


# ------------------------------------------------------------------------------------------------
# This host's filesystems


def existing_parent(path: Path) -> Path:
    """The nearest folder of ``path`` (itself included) that exists; a name too long to look up
    counts as absent."""
    p = path

    def exists(q: Path) -> bool:
        try:
            return q.exists()
        except OSError:
            return False

    while not exists(p) and p != p.parent:
        p = p.parent
    return p


@dataclass(frozen=True)
class Where:
    free_venv: int
    free_cache: int
    same_fs: bool
    venv_at: str  # the existing folder measured for the venv
    cache_at: str  # and for the cache


def same_filesystem(a: Path, b: Path) -> bool:
    """Are the nearest existing folders of ``a`` and ``b`` on one filesystem? True if unknown."""
    try:
        return os.stat(existing_parent(a)).st_dev == os.stat(existing_parent(b)).st_dev
    except OSError:
        return True


def measure(venv: str, cache_dir: str) -> Where:
    """Free bytes at the venv's and the cache's nearest existing folders, and whether they are
    one filesystem."""
    v = existing_parent(Path(venv).expanduser())
    c = existing_parent(Path(cache_dir).expanduser())

    def free(p: Path) -> int:
        try:
            return shutil.disk_usage(p).free
        except OSError:
            return 0

    return Where(free(v), free(c), same_filesystem(v, c), str(v), str(c))
