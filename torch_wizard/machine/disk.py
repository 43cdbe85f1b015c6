"""Free disk space where the target venv goes (or its nearest existing parent).

On the host: ``shutil.disk_usage``. A fixture root may record the target's disk in
``DIR/disk.json`` (``{"path": "/home/pi", "free": BYTES, "total": BYTES}``); without it the
host's free space at the target path is reported (the plan would be carried out here).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from torch_wizard.machine.model import DiskInfo
from torch_wizard.machine.root import Found, Root


def nearest_existing(path: Path) -> Path:
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or "/")


def probe_disk(root: Root, target_path: str) -> Found[DiskInfo]:
    if not root.is_host:
        data = root.read_json("disk.json")
        if data is not None:
            free, total = data.get("free"), data.get("total", 0)
            if isinstance(free, int) and isinstance(total, int):
                return Found(DiskInfo(path=str(data.get("path", "")), free=free, total=total))
            return Found(DiskInfo(), ("disk.json has no integer 'free'; disk space is unknown.",))
    where = nearest_existing(Path(target_path))
    try:
        usage = shutil.disk_usage(where)
    except OSError as err:
        return Found(
            DiskInfo(path=str(where)), (f"Free disk space at {where} is unknown: {err.strerror}.",)
        )
    return Found(DiskInfo(path=str(where), free=usage.free, total=usage.total))
