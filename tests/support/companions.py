"""Stand-ins for torch, torchvision and torchaudio in a real venv: a real interpreter and a real
``importlib.metadata`` lookup, fake packages (small pure-Python modules with a dist-info each).

The fake torch implements just what the verification script touches (``torch.version``,
``torch.cuda``, ``torch.backends``, ``torch.tensor`` with ``@`` computed exactly, ``torch.rand``
as a shape-only tensor), so the script's torch part passes and its package checks are what a
test decides: the fake torchvision's ``ops.nms`` is a real NMS over lists, or it fails the way
PyPI's CUDA torchvision fails beside a CPU torch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Literal

PY = sys.executable
# "broken": import fails as PyPI's CUDA torchvision does beside the CPU torch (its
# _meta_registrations call register_fake("torchvision::nms") on an operator its _C never added);
# "nms-raises": it imports, and the operator fails when called.
Vision = Literal["ok", "broken", "nms-raises"]
NMS_MISSING = "operator torchvision::nms does not exist"

FAKE_TORCH = '''"""A stand-in torch ({origin})."""
import types as _types

__version__ = {version!r}
version = _types.SimpleNamespace(cuda=None, hip=None, xpu=None)
cuda = _types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)
backends = _types.SimpleNamespace(
    cpu=_types.SimpleNamespace(get_cpu_capability=lambda: "DEFAULT"), mps=None
)
float32 = "float32"


class Tensor:
    def __init__(self, data=None, shape=()):
        self.data = data
        self.shape = shape

    def __matmul__(self, other):
        if self.data is None or other.data is None:
            return Tensor(shape=(self.shape[0], other.shape[-1]))
        cols = list(zip(*other.data))
        return Tensor([[sum(x * y for x, y in zip(row, col)) for col in cols] for row in self.data])

    def cpu(self):
        return self

    def to(self, place):
        return self

    def tolist(self):
        return self.data

    def sum(self):
        flat = [] if self.data is None else [x for row in self.data for x in row]
        return Tensor(float(sum(flat)))

    def item(self):
        return self.data


def tensor(data, dtype=None, device="cpu"):
    return Tensor(data)


def rand(*shape, device="cpu"):
    return Tensor(shape=shape)
'''

FAKE_VISION_OK = '''"""A stand-in torchvision whose nms is a real one over lists."""
__version__ = {version!r}
from torchvision import ops
'''

FAKE_VISION_OPS = """import torch


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
    return inter / (area(a) + area(b) - inter)


def nms(boxes, scores, iou_threshold):
    {body}
"""
NMS_OK = """b, s = boxes.tolist(), scores.tolist()
    keep = []
    for i in sorted(range(len(s)), key=lambda i: -s[i]):
        if all(_iou(b[i], b[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return torch.tensor(keep)"""
NMS_RAISES = f"raise RuntimeError({NMS_MISSING!r})"

FAKE_VISION_BROKEN = f'''"""A stand-in for PyPI's CUDA torchvision imported beside a CPU torch."""
raise RuntimeError({NMS_MISSING!r})
'''


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def make_venv(venv: Path) -> Path:
    """A real venv (no pip: fast); returns its python."""
    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    return venv / "bin" / "python"


def dist_info(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("torch-wizard-tests\n")


def fake_torch_source(version: str, origin: str) -> str:
    return FAKE_TORCH.format(version=version, origin=origin)


def add_torch(site: Path, version: str = "2.13.0+cpu") -> None:
    pkg = site / "torch"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(fake_torch_source(version, "installed"))
    dist_info(site, "torch", version)


def add_torchvision(
    site: Path, mode: Vision = "ok", version: str = "0.28.0", own_version: str = ""
) -> None:
    """``own_version``: its ``__version__`` when it differs from the metadata (PyPI's wheel says
    ``0.28.0`` in its metadata and ``0.28.0+cu130`` in ``torchvision/version.py``)."""
    own = own_version or version
    pkg = site / "torchvision"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "version.py").write_text(f"__version__ = {own!r}\n")
    if mode == "broken":
        (pkg / "__init__.py").write_text(FAKE_VISION_BROKEN)
    else:
        (pkg / "__init__.py").write_text(FAKE_VISION_OK.format(version=own))
    body = NMS_OK if mode == "ok" else NMS_RAISES
    (pkg / "ops.py").write_text(FAKE_VISION_OPS.format(body=body))
    dist_info(site, "torchvision", version)


def add_torchaudio(site: Path, version: str = "2.11.0", own_version: str = "") -> None:
    pkg = site / "torchaudio"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(f"__version__ = {(own_version or version)!r}\n")
    dist_info(site, "torchaudio", version)


def fake_venv(
    venv: Path,
    torch: str = "2.13.0+cpu",
    torchvision: Vision | None = None,
    torchvision_version: str = "0.28.0",
    torchvision_own: str = "",
) -> Path:
    """A real venv holding the fake torch (and torchvision); returns its python."""
    python = make_venv(venv)
    site = site_packages(venv)
    add_torch(site, torch)
    if torchvision is not None:
        add_torchvision(site, torchvision, torchvision_version, torchvision_own)
    return python


def impostors(where: Path) -> tuple[Path, Path]:
    """A hostile caller: ``where/cwd`` holds a ``torch.py`` and a ``torch/`` package, and
    ``where/pythonpath`` one more torch, each reporting version 6.6.6 with where it came from.
    Returns (cwd, pythonpath)."""
    cwd = where / "cwd"
    (cwd / "torch").mkdir(parents=True)
    (cwd / "torch" / "__init__.py").write_text(fake_torch_source("6.6.6+cwd.package", "cwd"))
    (cwd / "torch.py").write_text(fake_torch_source("6.6.6+cwd.module", "cwd"))
    path = where / "pythonpath"
    (path / "torch").mkdir(parents=True)
    (path / "torch" / "__init__.py").write_text(fake_torch_source("6.6.6+pythonpath", "PYTHONPATH"))
    return cwd, path


# ------------------------------------------------------------------------------------------------
# A local index with PyPI's torchvision beside the CPU torch (the real mismatch, for e2e tests)

VISION = "0.28.0"
VISION_COMPLETE = ".complete-v1"
last_error = ""


def vision_cache_root() -> Path:
    from tests.support.torchindex import cache_root

    return cache_root().parent / "torchindex-pypi-vision"


def _download(dest: Path, *specs: str) -> str:
    """``pip download`` for the wheels' platform (the host's pip configuration finds them);
    "" when it worked, else the tail of its error."""
    r = subprocess.run(
        [
            PY,
            "-m",
            "pip",
            "download",
            *specs,
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "-d",
            str(dest),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return "" if r.returncode == 0 else " ".join(r.stderr.strip().splitlines()[-2:])


def build_vision_index() -> Path | None:
    """Build (once) ``<cache>/torchindex-pypi-vision``: the files of the local torch index
    (hard links, or symlinks across file systems) plus PyPI's torchvision 0.28.0 (a CUDA 13.0
    build, ``+cu130`` in its own version.py) and its numpy and pillow, as ``whl/cpu``. Returns
    its root (serve it; ``--index-base <url>/whl``), or None with the reason in ``last_error``."""
    import fcntl
    import os

    from tests.support import torchindex

    global last_error
    base = torchindex.build_index()
    if base is None:
        last_error = f"local torch index unavailable: {torchindex.last_error}"
        return None
    root = vision_cache_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / (root.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / VISION_COMPLETE).is_file():
            return root
        files = root / "files"
        files.mkdir(parents=True, exist_ok=True)
        for whl in (base / "files").glob("*.whl"):
            target = files / whl.name
            if target.exists():
                continue
            try:
                os.link(whl, target)
            except OSError:
                target.symlink_to(whl.resolve())
        if not any(files.glob(f"torchvision-{VISION}-*.whl")):
            error = _download(files, f"torchvision=={VISION}", "--no-deps")
            if error:
                last_error = f"pip download torchvision=={VISION} failed: {error}"
                return None
        if not any(files.glob("numpy-*.whl")) or not any(files.glob("pillow-*.whl")):
            error = _download(files, "numpy", "pillow")
            if error:
                last_error = f"pip download of torchvision's dependencies failed: {error}"
                return None
        projects = torchindex.write_simple_index(files, root / "whl" / "cpu")
        if "torchvision" not in projects:
            last_error = "the index has no torchvision project"
            return None
        (root / VISION_COMPLETE).write_text("\n".join(projects) + "\n")
        return root  # closing the lock file releases the lock
