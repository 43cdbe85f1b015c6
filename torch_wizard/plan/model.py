"""Choices in, plans out: the data the planner produces and the runner executes.

A ``Plan`` is a pure function of a ``Machine`` and ``Choices``. Its steps are argv lists with an
environment and a working directory; what the preview renders is exactly what the runner runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from torch_wizard.machine.model import Machine

SCHEMA_VERSION = 1

Channel = Literal["stable", "test", "nightly"]
Build = Literal["wheel", "source"]
Installer = Literal["pip", "uv"]
# "auto": uv wherever uv is found for the target (it ships with torch-wizard), else pip.
InstallerChoice = Literal["auto", "pip", "uv"]
# Whether the installer keeps its download cache: "auto" decides from the free disk
# (``torch_wizard.plan.cache``); a resolved plan says "keep" or "off" (uv --no-cache, pip --no-cache-dir).
CacheChoice = Literal["auto", "keep", "off"]
CacheMode = Literal["keep", "off"]
SourceProfile = Literal["release", "lean", "debug", "relwithdebinfo"]

DEFAULT_INDEX_BASE = "https://download.pytorch.org/whl"
DEFAULT_PACKAGES = ("torch", "torchvision", "torchaudio")  # what a plan installs unless told
# The rest of the PyTorch family, installed only when named in --packages; their pairings with
# torch are in torch_wizard/catalog/data/family.json (torch_wizard.catalog.family).
FAMILY_PACKAGES = ("torchao", "torchcodec")
KNOWN_PACKAGES = DEFAULT_PACKAGES + FAMILY_PACKAGES  # every package --packages takes


@dataclass(frozen=True)
class SourceOptions:
    """What a source build should do beyond the backend (see torch_wizard.plan.source)."""

    url: str = "https://github.com/pytorch/pytorch"  # a mirror URL or a local checkout path
    ref: str = ""  # "" = the tag for the chosen version (vX.Y.Z), or main for nightly
    checkout: str = ""  # where to clone; "" = <venv>/../pytorch-src
    profile: SourceProfile = "release"
    develop: bool = False  # `pip install -e .` instead of `.`
    max_jobs: int = 0  # 0 = derive from RAM and cores
    cuda_arch_list: str = ""  # "" = from the detected GPUs
    configure_only: bool = False  # preview the cmake command line only


@dataclass(frozen=True)
class Network:
    """The user's network and trust settings, passed to every step explicitly.

    Steps run isolated from the host's pip and uv configuration (``torch_wizard.plan.isolation``), so
    what that configuration said about *how to reach* an index (CA bundle, client certificate,
    proxy, timeouts, retries, trusted hosts, cache) is carried here and written into each step's
    argv (pip) or env (uv), where the preview shows it. Proxy and CA variables of the environment
    (``HTTPS_PROXY``, ``SSL_CERT_FILE`` ...) are not isolated away: steps inherit them as they are.
    Empty for a plan made for another machine.
    """

    pip_args: tuple[str, ...] = ()  # ("--cert", "/etc/ssl/certs/ca-certificates.crt", ...)
    uv_env: dict[str, str] = field(default_factory=dict)  # {"UV_HTTP_TIMEOUT": "180", ...}
    sources: tuple[str, ...] = ()  # where each setting came from, for the reasons


@dataclass(frozen=True)
class Choices:
    """What the user asked for; "auto"/"" means "recommend it"."""

    channel: Channel = "stable"
    backend: str = "auto"  # "auto", "cpu", "cu126", "rocm6.4", "xpu", "pypi", "jetson"
    torch: str = ""  # "" = newest that fits
    # () = the default set: torch, torchvision and torchaudio where that torch has them
    packages: tuple[str, ...] = ()
    build: Build = "wheel"
    installer: InstallerChoice = "auto"
    venv: str = ".venv"
    index_base: str = DEFAULT_INDEX_BASE
    allow_insecure_index: bool = False  # permit a non-loopback http:// index base
    source: SourceOptions = field(default_factory=SourceOptions)
    network: Network = field(default_factory=Network)
    # The installer's download cache: "" = its default (or the host's configured one); a path
    # shared by several venvs (or a lab's machines) makes every install after the first reuse it.
    cache_dir: str = ""
    cache: CacheChoice = "auto"


@dataclass(frozen=True)
class Resolved:
    """The choices after recommendation: every field concrete."""

    channel: Channel
    backend: str  # concrete: "cpu", "cu126", "rocm6.4", "xpu", "pypi", "jetson-jp6-cu126"
    torch: str  # "2.9.1" (without local label)
    packages: dict[str, str]  # name -> version, e.g. {"torch": "2.9.1", "torchvision": "0.24.1"}
    build: Build
    installer: Installer
    venv: str  # absolute path
    index_url: str  # "" when plain PyPI is the official route (macOS)
    network: Network = field(default_factory=Network)
    cache_dir: str = ""  # absolute; "" = the installer's default cache (or the host's setting)
    cache: CacheMode = "keep"  # "off": install without keeping a cache (too little free disk)
    # Requirements installed beside the packages, e.g. ("numpy<2",) for a torch built against
    # NumPy 1.x (torch 2.2.2 on an Intel Mac).
    constraints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    id: str  # "create-venv", "upgrade-pip", "install-torch", "verify", "clone", "build" ...
    title: str  # "Install torch 2.9.1, torchvision 0.24.1 (CUDA 12.6)"
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)  # set on top of the inherited environment
    cwd: str = ""  # "" = the current directory
    # For the runner: how to read progress from the output ("pip", "uv", "ninja", "" = none).
    progress: str = ""
    timeout: float = 0.0  # seconds; 0 = none
    # A step whose failure does not decide the outcome (upgrading pip: the seeded pip works too).
    optional: bool = False
    # What runs instead of ``argv`` once an optional step before it failed (the install with the
    # seeded pip, which may not know ``--progress-bar raw``); () = ``argv`` either way.
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Estimate:
    download: int = 0  # bytes to download
    disk: int = 0  # bytes the venv will take
    minutes: float = 0.0  # rough wall time (source builds)


@dataclass(frozen=True)
class Plan:
    target: Machine
    choice: Resolved
    steps: tuple[Step, ...]
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # What must be fixed before this plan can run (a source build without a compiler, say): each
    # a sentence naming the fix. ``plan`` shows them; ``install`` and the UI refuse to run.
    blockers: tuple[str, ...] = ()
    estimate: Estimate = field(default_factory=Estimate)
    schema_version: int = SCHEMA_VERSION

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)
