"""A live reader for package indexes: PEP 691 JSON or PEP 503 HTML "simple" pages.

Used to check which torch builds really exist on an index (a PyTorch index, a mirror of it, PyPI,
the Jetson AI Lab index) rather than trusting the bundled catalog. Standard library only
(``urllib``), plus ``packaging`` to parse wheel names and tags.

- ``list_files(index_url, package, timeout) -> tuple[IndexFile, ...]``: every file on the project
  page, wheels parsed (``IndexFile.version``, ``.local``, ``.build``, ``.tags``), sdists and odd
  names kept with ``version=""``.
- ``list_versions(index_url, package="torch", python="3.11", platform_tags=None, timeout=10)
  -> list[IndexFile]``: only the wheels an interpreter of that Python on that platform could
  install, newest version first. ``platform_tags`` defaults to this machine's; pass e.g.
  ``("manylinux_2_28_x86_64", "linux_x86_64")`` or use ``platform_tags_for(platform_key)``.
- ``refresh(catalog, index_base, channel, ...) -> dict[variant, tuple[str, ...]]``: the public
  versions of torch each variant of the catalog's newest release really offers on ``index_base``.

Errors (HTTP failure, timeout, a page that is neither JSON nor HTML) raise ``IndexReadError`` with one
sentence naming the URL and the problem.
"""

from __future__ import annotations

import html.parser
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging import tags as ptags
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from torch_wizard.catalog.core import index_url as make_url
from torch_wizard.errors import WizardError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"
USER_AGENT = "torch-wizard index reader"


class IndexReadError(WizardError):
    """The index could not be read or did not look like a simple index page."""


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    version: str = ""  # the public version, "2.9.1" (no local label); "" if not a wheel
    local: str = ""  # the local label, "cu126"; "" when none
    build: str = ""  # the wheel build tag, "3" in torch-2.10.0-3-...; "" when none
    tags: frozenset[Tag] = frozenset()
    size: int | None = None
    requires_python: str = ""
    upload_time: str = ""
    yanked: bool = False

    @property
    def full_version(self) -> str:
        """``2.9.1+cu126`` (the version pip reports)."""
        return f"{self.version}+{self.local}" if self.local else self.version

    @property
    def pythons(self) -> frozenset[str]:
        """CPython minor versions this wheel is for ("3.11"); free-threaded ones as "3.13t"."""
        out = set()
        for tag in self.tags:
            if tag.interpreter.startswith("cp") and tag.interpreter[2:].isdigit():
                digits = tag.interpreter[2:]
                minor = f"{digits[0]}.{digits[1:]}"
                out.add(minor + "t" if tag.abi.endswith("t") else minor)
        return frozenset(out)

    @property
    def platforms(self) -> frozenset[str]:
        return frozenset(tag.platform for tag in self.tags)


def parse_file(filename: str, url: str, **extra: Any) -> IndexFile:
    """An ``IndexFile`` for one link; wheels get version, local label, build tag and tags."""
    if filename.endswith(".whl"):
        try:
            _, version, build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return IndexFile(filename=filename, url=url, **extra)
        return IndexFile(
            filename=filename,
            url=url,
            version=version.public,
            local=version.local or "",
            build="".join(str(part) for part in build),
            tags=frozenset(tags),
            **extra,
        )
    return IndexFile(filename=filename, url=url, **extra)


# --------------------------------------------------------------------------------------------------
# Fetching and parsing pages


def project_url(index_url: str, package: str) -> str:
    return f"{index_url.rstrip('/')}/{canonicalize_name(package)}/"


def fetch(url: str, timeout: float = 10) -> tuple[str, bytes]:
    """GET ``url`` asking for PEP 691 JSON first; returns (content type, body)."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise IndexReadError(
            f"{url}: not an http(s) or file URL; give an index URL like https://..."
        )
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": USER_AGENT})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            ctype = response.headers.get("Content-Type", "") if scheme != "file" else ""
            return ctype, response.read()
    except urllib.error.HTTPError as err:
        raise IndexReadError(f"{url}: HTTP {err.code} {err.reason}; check the index URL") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise IndexReadError(f"{url}: cannot reach the index ({reason}); check the URL") from None


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, dict[str, str]]] = []
        self.seen_html = False
        self._href: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("html", "body", "head", "a", "meta", "title"):
            self.seen_html = True
        if tag == "a":
            self._href = {k: v or "" for k, v in attrs}
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append(("".join(self._text).strip(), self._href))
            self._href = None


def _filename_from_url(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def parse_json_page(body: bytes, page_url: str) -> tuple[IndexFile, ...]:
    try:
        data = json.loads(body)
        files = data["files"]
    except (ValueError, KeyError, TypeError):
        raise IndexReadError(f"{page_url}: not a PEP 691 JSON project page") from None
    out = []
    for entry in files:
        if not isinstance(entry, dict) or "url" not in entry:
            continue
        url = urllib.parse.urljoin(page_url, entry["url"])
        filename = entry.get("filename") or _filename_from_url(url)
        size = entry.get("size")
        out.append(
            parse_file(
                filename,
                url,
                size=size if isinstance(size, int) else None,
                requires_python=entry.get("requires-python") or "",
                upload_time=entry.get("upload-time") or "",
                yanked=bool(entry.get("yanked")),
            )
        )
    return tuple(out)


def parse_html_page(body: bytes, page_url: str) -> tuple[IndexFile, ...]:
    text = body.decode("utf-8", errors="replace")
    parser = _Links()
    parser.feed(text)
    parser.close()
    if not parser.seen_html:
        raise IndexReadError(f"{page_url}: not a PEP 503 HTML or PEP 691 JSON project page")
    out = []
    for label, attrs in parser.links:
        href = attrs.get("href", "")
        if not href:
            continue
        url = urllib.parse.urljoin(page_url, href)
        filename = _filename_from_url(url) or label
        out.append(
            parse_file(
                filename,
                url.split("#", 1)[0],
                requires_python=attrs.get("data-requires-python", ""),
                yanked="data-yanked" in attrs,
            )
        )
    return tuple(out)


def parse_page(ctype: str, body: bytes, page_url: str) -> tuple[IndexFile, ...]:
    """Parse a project page, trusting the Content-Type first and the content second."""
    kind = ctype.split(";", 1)[0].strip().lower()
    if kind == JSON_TYPE or kind.endswith("+json") or kind == "application/json":
        return parse_json_page(body, page_url)
    if body.lstrip()[:1] == b"{":
        return parse_json_page(body, page_url)
    return parse_html_page(body, page_url)


def list_files(
    index_url: str, package: str = "torch", timeout: float = 10
) -> tuple[IndexFile, ...]:
    """Every file the index lists for ``package`` (see the module docstring)."""
    url = project_url(index_url, package)
    ctype, body = fetch(url, timeout)
    return parse_page(ctype, body, url)


# --------------------------------------------------------------------------------------------------
# Filtering to what an interpreter could install

_PLATFORM_TAGS = {
    # Newest first; enough manylinux levels to cover every torch wheel since 1.13.
    "linux-x86_64": ("x86_64",),
    "linux-aarch64": ("aarch64",),
    "windows-x86_64": ("win_amd64",),
    "windows-arm64": ("win_arm64",),
    "macos-arm64": ("arm64",),
    "macos-x86_64": ("x86_64",),
}


def platform_tags_for(
    platform_key: str, glibc: str = "2.39", macos: str = "15.0"
) -> tuple[str, ...]:
    """Platform tags an interpreter on ``platform_key`` accepts (glibc / macOS version given)."""
    if platform_key not in _PLATFORM_TAGS:
        raise ValueError(f"unknown platform key {platform_key!r}")
    osname, arch = platform_key.split("-", 1)
    if osname == "windows":
        return _PLATFORM_TAGS[platform_key]
    if osname == "linux":
        major, minor = (int(x) for x in glibc.split(".")[:2])
        tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
        legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
        tags += [f"{name}_{arch}" for name, m in legacy.items() if m <= minor and major == 2]
        return (*tags, f"linux_{arch}")
    # macOS: every version from the given one down to 10.9; universal2 too.
    major = int(macos.split(".")[0])
    tags = []
    for mj in range(major, 10, -1):
        for binary in (arch, "universal2"):
            tags.append(f"macosx_{mj}_0_{binary}")
    if arch == "x86_64":
        for mn in range(16, 8, -1):
            tags += [
                f"macosx_10_{mn}_x86_64",
                f"macosx_10_{mn}_universal2",
                f"macosx_10_{mn}_intel",
            ]
    return tuple(tags)


def supported_tags(python: str, platforms: Sequence[str] | None = None) -> list[Tag]:
    major, minor = (int(x) for x in python.rstrip("t").split(".")[:2])
    if platforms is not None and not platforms:
        return []  # packaging would fall back to this machine's platforms
    plats = list(platforms) if platforms is not None else list(ptags.platform_tags())
    abis = [f"cp{major}{minor}t"] if python.endswith("t") else None
    tags = list(ptags.cpython_tags((major, minor), abis=abis, platforms=plats))
    tags += list(ptags.compatible_tags((major, minor), platforms=plats))
    return tags


def _sort_key(f: IndexFile) -> tuple[Version, str, int]:
    return (Version(f.version), f.local, int(f.build or "0") if f.build.isdigit() else 0)


def compatible(
    files: Iterable[IndexFile], python: str, platforms: Sequence[str] | None
) -> list[IndexFile]:
    tags = set(supported_tags(python, platforms))
    out = [f for f in files if f.version and not f.yanked and f.tags & tags]
    return sorted(out, key=_sort_key, reverse=True)


def list_versions(
    index_url: str,
    package: str = "torch",
    python: str = "3.11",
    platform_tags: Sequence[str] | None = None,
    timeout: float = 10,
) -> list[IndexFile]:
    """Wheels of ``package`` on the index installable by CPython ``python`` on the platform."""
    return compatible(list_files(index_url, package, timeout), python, platform_tags)


def refresh(
    catalog: Any,
    index_base: str,
    channel: str = "stable",
    platform_key: str = "linux-x86_64",
    python: str = "3.12",
    timeout: float = 10,
) -> dict[str, tuple[str, ...]]:
    """For each variant the catalog's newest ``channel`` release offers on ``platform_key``, the
    public torch versions the index at ``index_base`` really has for that variant (newest first).
    A variant whose page is missing maps to ``()``."""
    releases = catalog.releases(channel)
    if not releases:
        return {}
    plats = platform_tags_for(platform_key)
    out: dict[str, tuple[str, ...]] = {}
    for variant in releases[0].variants(platform_key):
        if variant in ("pypi",):
            continue
        try:
            files = list_versions(
                make_url(index_base, channel, variant), "torch", python, plats, timeout
            )
        except IndexReadError:
            out[variant] = ()
            continue
        seen: dict[str, None] = {}
        for f in files:
            seen.setdefault(f.version, None)
        out[variant] = tuple(seen)
    return out
