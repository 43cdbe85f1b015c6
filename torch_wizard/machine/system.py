"""The operating system: name, kernel, distribution (os-release), libc, macOS version, WSL.

Sources, in the root: ``etc/os-release`` (then ``usr/lib/os-release``; format: os-release(5)),
``proc/sys/kernel/osrelease`` (the kernel release), ``proc/version`` (WSL kernels say "microsoft").

libc on the host: ``os.confstr("CS_GNU_LIBC_VERSION")`` ("glibc 2.36"), else
``platform.libc_ver()``, else a musl loader ``lib/ld-musl-*.so.1`` means musl (version unknown).
In a fixture root: ``machine.json`` keys ``libc``/``libc_version``, else the musl loader check.
"""

from __future__ import annotations

import os
import sys
from typing import Literal, cast

from torch_wizard.machine.model import OSInfo, OSName
from torch_wizard.machine.root import Found, Root, TargetDefaults


def host_os_name() -> OSName:
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return "linux"


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines; values may be single- or double-quoted with backslash escapes."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                for esc, plain in (('\\"', '"'), ("\\$", "$"), ("\\`", "`"), ("\\\\", "\\")):
                    value = value.replace(esc, plain)
        out[key.strip()] = value
    return out


def _musl(root: Root) -> bool:
    return any(n.startswith("ld-musl-") for n in root.listdir("lib"))


def _host_libc(root: Root) -> tuple[str, str]:
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        found = None
    if found and found.startswith("glibc "):
        return "glibc", found.split()[1]
    import platform

    lib, version = platform.libc_ver()
    if lib == "glibc":
        return "glibc", version
    if _musl(root):
        return "musl", ""
    return "", ""


def _libc(root: Root, defaults: TargetDefaults) -> tuple[str, str]:
    if root.is_host:
        return _host_libc(root)
    if defaults.libc in ("glibc", "musl"):
        return defaults.libc, defaults.libc_version
    if _musl(root):
        return "musl", ""
    return "", ""


def probe_os(root: Root, defaults: TargetDefaults) -> Found[OSInfo]:
    notes: list[str] = []
    name: OSName = host_os_name()
    if defaults.os:
        if defaults.os in ("linux", "windows", "macos"):
            name = cast(OSName, defaults.os)
        else:
            notes.append(f"machine.json names an unknown os {defaults.os!r}; using {name}.")
    if root.is_host and sys.platform not in ("linux", "darwin", "win32", "cygwin"):
        notes.append(
            f"{sys.platform} is not a platform PyTorch publishes wheels for; treated as Linux."
        )

    kernel = (root.read("proc/sys/kernel/osrelease") or "").strip()
    if not kernel and root.is_host:
        import platform

        kernel = platform.release()
    if name != "linux":
        macos = defaults.macos_version
        if root.is_host and name == "macos":
            import platform

            macos = platform.mac_ver()[0]
        pretty = f"macOS {macos}".strip() if name == "macos" else ""
        if root.is_host and name == "windows":
            import platform

            pretty = f"Windows {platform.release()} ({platform.version()})"
        return Found(
            OSInfo(name=name, kernel=kernel, pretty_name=pretty, macos_version=macos), tuple(notes)
        )

    text = root.read("etc/os-release") or root.read("usr/lib/os-release") or ""
    rel = parse_os_release(text)
    libc, libc_version = _libc(root, defaults)
    version_text = root.read("proc/version") or ""
    wsl = "microsoft" in version_text.lower() or "microsoft" in kernel.lower()
    info = OSInfo(
        name="linux",
        kernel=kernel,
        distro_id=rel.get("ID", ""),
        distro_like=tuple(rel.get("ID_LIKE", "").split()),
        distro_version=rel.get("VERSION_ID", ""),
        pretty_name=rel.get("PRETTY_NAME", "") or rel.get("NAME", ""),
        libc=cast(Literal["glibc", "musl", ""], libc),
        libc_version=libc_version,
        wsl=wsl,
    )
    if libc == "musl":
        notes.append(
            "This system uses musl libc (e.g. Alpine): PyTorch publishes no musllinux wheels."
        )
    return Found(info, tuple(notes))
