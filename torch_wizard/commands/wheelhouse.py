"""``torch-wizard wheelhouse OUTDIR [TARGET...] [CHOICES]``: an offline index for a lab.

For each target (this machine, ``--root DIR``, or every ``--profile FILE``, each with the
overrides) the plan is made as ``plan`` makes it, and every wheel it installs is downloaded from
the plan's own index: the PyTorch packages at the plan's pins, all their dependencies, and the pip
the plan upgrades to, for that target's platform tags, Python and ABI. OUTDIR is laid out like the
PyTorch index base, so ``--index-base file:///.../OUTDIR`` (or OUTDIR served over HTTP) installs
with nothing else reachable, with pip and with uv:

    OUTDIR/cpu/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
    OUTDIR/cpu/torch/index.html        PEP 503 page: links to ../torch-...whl#sha256=...
    OUTDIR/cpu/index.html              the projects of the variant
    OUTDIR/cu126/...                   the same for each other backend (test/cu126 for --channel test)

The set of wheels is resolved by uv for the target (``uv pip compile --python-version X.Y
--python-platform ...``): uv evaluates the dependencies' environment markers for the target,
where ``pip download`` would evaluate them for this interpreter (``setuptools; python_version >=
"3.12"`` would be missed for a Python 3.12 target planned here on 3.11). The pinned wheels are
then downloaded by pip (``pip download --no-deps --only-binary=:all: --platform ...
--python-version ... --abi ...``). Both run isolated as plan steps are (uv ``--no-config``, pip
``--isolated`` with no config file, no ``PIP_*``/``UV_*`` variables) with the host's network
settings. pip checks each download against the sha256 its index gives; a wheel already in OUTDIR
is checked here against the digests uv read from the index (``--generate-hashes``) and fetched
again when it differs, so a re-run downloads only what is missing or damaged. A CPU-only target resolves against the cpu index, which carries no CUDA packages.
Progress is one line per wheel on stderr; the summary (wheels and bytes per backend) on stdout.
Exit codes: 0 done, 1 a download failed (what was fetched stays for the next run), 2 bad input.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch_wizard.errors import UsageError, WizardError
from torch_wizard.files import sha256_of
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import Plan

PROG = "torch-wizard"
PROJECTS = ("pip", "torch", "torchvision", "torchaudio")  # what plan steps install by name


@dataclass(frozen=True)
class Fetch:
    """One ``pip download`` run: a target's wheels from one index into one variant folder."""

    variant: str  # the folder under OUTDIR: "cpu", "cu126", "test/cu128"
    index_url: str
    specs: tuple[str, ...]  # ("pip>=24.1", "torch==2.13.0")
    python: str  # "3.11"
    abi: str  # "cp311", "cp313t"
    platforms: tuple[str, ...]  # ("manylinux_2_28_x86_64", ..., "linux_x86_64")
    uv_platform: str  # uv's --python-platform: "x86_64-manylinux_2_28", "x86_64-pc-windows-msvc"
    pre: bool  # nightly: --pre
    label: str  # what the target is, for the summary


def platform_tags(machine: Machine) -> tuple[str, ...]:
    """The wheel platform tags the target's interpreter accepts, best first (PEP 600 manylinux
    from its glibc down to 2.17, the legacy aliases, then the plain linux tag PyTorch's older
    wheels carry)."""
    arch = machine.cpu.arch
    if machine.os.name == "windows":
        return ("win_arm64",) if arch in ("arm64", "aarch64") else ("win_amd64",)
    if machine.os.name != "linux":
        raise UsageError(
            f"a wheelhouse holds PyTorch index wheels for Linux and Windows; {machine.os.name} "
            "installs from PyPI: point pip at a PyPI mirror there instead"
        )
    arch = "aarch64" if arch == "arm64" else arch
    minor = 28  # torch's floor from 2.7 (manylinux_2_28) when the target's glibc is unknown
    parts = machine.os.libc_version.split(".")
    if machine.os.libc == "glibc" and len(parts) >= 2 and parts[1].isdigit():
        minor = int(parts[1])
    tags = [f"manylinux_2_{m}_{arch}" for m in range(minor, 16, -1)]
    if minor >= 17:
        tags.append(f"manylinux2014_{arch}")
    if arch == "x86_64":
        tags += [
            t for m, t in ((12, "manylinux2010_x86_64"), (5, "manylinux1_x86_64")) if minor >= m
        ]
    tags.append(f"linux_{arch}")
    return tuple(tags)


# The manylinux levels uv's --python-platform names (uv 0.5+): the target gets the highest its
# glibc meets.
_UV_MANYLINUX = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)


def uv_platform(machine: Machine) -> str:
    arch = "aarch64" if machine.cpu.arch in ("arm64", "aarch64") else machine.cpu.arch
    if machine.os.name == "windows":
        return f"{arch}-pc-windows-msvc"
    glibc = platform_tags(machine)[0].split("_")  # manylinux_2_35_x86_64
    minor = int(glibc[2]) if len(glibc) > 3 and glibc[2].isdigit() else 28
    level = max((m for m in _UV_MANYLINUX if m <= minor), default=17)
    return f"{arch}-manylinux_2_{level}"


def specs_of(plan: Plan) -> tuple[str, ...]:
    """The requirement specs the plan installs by name: pip's upgrade and the PyTorch packages,
    read from the steps' argv so they are exactly what runs."""
    from packaging.requirements import InvalidRequirement, Requirement

    out: list[str] = []
    for step in plan.steps:
        if step.id not in ("upgrade-pip", "install-torch"):
            continue
        for token in step.argv:
            if token.startswith("-") or "/" in token or "\\" in token:
                continue
            try:
                name = Requirement(token).name
            except InvalidRequirement:
                continue
            if name in PROJECTS and token not in out and token != name:
                out.append(token)
    return tuple(out)


def fetch_of(plan: Plan, index_base: str) -> Fetch:
    """What to download for ``plan``; UsageError for a plan that no index base can serve."""
    c, target = plan.choice, plan.target
    where = f"{target.os.name} {target.cpu.arch} Python {target.python.minor}"
    if c.build != "wheel":
        raise UsageError(
            f"the plan for {where} is a source build: a wheelhouse holds wheels; drop --build source"
        )
    base = index_base.rstrip("/")
    if not c.index_url or not c.index_url.startswith(base + "/"):
        raise UsageError(
            f"the plan for {where} installs {c.backend} from {c.index_url or 'PyPI'}, which is not "
            f"under the index base {base}: a wheelhouse holds PyTorch index variants (cpu, cuXYZ, "
            "rocmX.Y, xpu); pick one with --backend"
        )
    specs = specs_of(plan)
    if not any(s.startswith("torch") for s in specs):
        raise UsageError(f"the plan for {where} installs no PyTorch package: nothing to download")
    py = target.python
    abi = "cp" + py.minor.replace(".", "") + ("t" if py.free_threaded else "")
    return Fetch(
        variant=c.index_url[len(base) + 1 :],
        index_url=c.index_url,
        specs=specs,
        python=py.minor,
        abi=abi,
        platforms=platform_tags(target),
        uv_platform=uv_platform(target),
        pre=c.channel == "nightly",
        label=f"{where} ({c.backend})",
    )


def uv_compile_argv(uv: str, f: Fetch) -> list[str]:
    """Resolve ``f.specs`` for the target (its Python and platform) from its index alone."""
    argv = [
        uv,
        "pip",
        "compile",
        "-",
        "--no-config",
        "--no-header",
        "--no-annotate",
        "--generate-hashes",  # the index's sha256 of each pinned file, checked after download
        "--no-progress",
        "--quiet",
        "--only-binary",
        ":all:",
        "--index-url",
        f.index_url,
        "--python-version",
        f.python,
        "--python-platform",
        f.uv_platform,
    ]
    return [*argv, "--prerelease", "allow"] if f.pre else argv


def pip_download_argv(f: Fetch, dest: Path, network_args: Sequence[str]) -> list[str]:
    argv = [
        sys.executable,
        "-I",
        "-m",
        "pip",
        "download",
        "--isolated",
        "--disable-pip-version-check",
        "--no-cache-dir",  # OUTDIR is the cache
        "--no-deps",  # the set is uv's resolution for the target
        "--progress-bar",
        "off",
        "--only-binary=:all:",
        "--index-url",
        f.index_url,
        "--dest",
        str(dest),
        "--python-version",
        f.python,
        "--implementation",
        "cp",
        "--abi",
        f.abi,
    ]
    for tag in f.platforms:
        argv += ["--platform", tag]
    if f.pre:
        argv.append("--pre")
    return [*argv, *network_args]


def _wheels(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in folder.glob("*.whl")} if folder.is_dir() else {}


def write_pages(folder: Path) -> list[str]:
    """PEP 503 pages for the wheels in ``folder``: ``<project>/index.html`` linking to
    ``../<wheel>#sha256=...``, and ``index.html`` listing the projects. Returns the projects."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    by_project: dict[str, list[Path]] = {}
    for whl in sorted(folder.glob("*.whl")):
        try:
            name = str(canonicalize_name(parse_wheel_filename(whl.name)[0]))
        except InvalidWheelFilename:
            continue
        by_project.setdefault(name, []).append(whl)
    for name, wheels in by_project.items():
        links = [
            f'<a href="../{html.escape(urllib.parse.quote(w.name))}#sha256={sha256_of(w)}">'
            f"{html.escape(w.name)}</a><br/>"
            for w in wheels
        ]
        _write(folder / name / "index.html", _page(f"Links for {name}", links))
    projects = [f'<a href="{n}/">{n}</a><br/>' for n in sorted(by_project)]
    _write(folder / "index.html", _page("Simple index", projects))
    return sorted(by_project)


def _page(title: str, lines: Iterable[str]) -> str:
    body = "\n".join(lines)
    return (
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0">'
        f"<title>{html.escape(title)}</title></head><body>\n{body}\n</body></html>\n"
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 1e9 else f"{n / 1e9:,.2f} GB"


def targets_from_args(args: argparse.Namespace) -> list[Machine]:
    """Every ``--profile FILE`` (each with the overrides), else ``--root DIR`` or this machine."""
    from torch_wizard.commands.common import target_from_args

    profiles = getattr(args, "profile", None)
    if isinstance(profiles, str):
        profiles = [profiles]
    if not profiles:
        return [target_from_args(args)]
    out = []
    for path in profiles:
        one = argparse.Namespace(**vars(args))
        one.profile = path
        out.append(target_from_args(one))
    return out


def resolve_pins(f: Fetch, uv: str, uv_env: dict[str, str]) -> dict[str, set[str]]:
    """``name==version`` of every wheel the target installs for ``f.specs`` (uv's resolution) ->
    the sha256 digests the index gives for that version's files (empty when it gives none)."""
    from torch_wizard.plan.isolation import step_environ

    r = subprocess.run(
        uv_compile_argv(uv, f),
        input="\n".join(f.specs) + "\n",
        capture_output=True,
        text=True,
        env=step_environ(os.environ, uv_env),
        check=False,
    )
    if r.returncode != 0:
        lines = [ln.strip() for ln in r.stderr.splitlines() if ln.strip()]
        why = " ".join(lines[:3])[:400] or f"uv exited {r.returncode}"
        raise WizardError(
            f"resolving the wheels for {f.label} from {f.index_url} failed ({why}); nothing was "
            "downloaded for it"
        )
    pins: dict[str, set[str]] = {}
    current = ""
    for line in r.stdout.splitlines():
        text = line.strip().rstrip("\\").strip()
        if "==" in text and not text.startswith("-"):
            current = text.split(" ;")[0].strip()
            pins[current] = set()
        elif text.startswith("--hash=sha256:") and current:
            pins[current].add(text.removeprefix("--hash=sha256:"))
    return pins


def _pin_of(wheel: str) -> str:
    """``name==version`` of a wheel file name (canonical name, as uv writes pins)."""
    from packaging.utils import canonicalize_name, parse_wheel_filename

    name, version, _, _ = parse_wheel_filename(wheel)
    return f"{canonicalize_name(name)}=={version}"


def check_hashes(dest: Path, pins: dict[str, set[str]]) -> list[Path]:
    """The wheels in ``dest`` of the pinned versions whose sha256 is none the index gives."""
    from packaging.utils import InvalidWheelFilename

    wanted = {_pin_of_spec(p): digests for p, digests in pins.items() if digests}
    bad = []
    for whl in sorted(dest.glob("*.whl")):
        try:
            digests = wanted.get(_pin_of(whl.name))
        except InvalidWheelFilename:
            continue
        if digests and sha256_of(whl) not in digests:
            bad.append(whl)
    return bad


def _pin_of_spec(spec: str) -> str:
    """``name==version`` of a pin, both normalised as ``_pin_of`` gives them."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    name, _, version = spec.partition("==")
    return f"{canonicalize_name(name)}=={Version(version)}"


def _download(f: Fetch, dest: Path, network_args: Sequence[str], pins: dict[str, set[str]]) -> None:
    from torch_wizard.plan.isolation import pip_env, step_environ

    for whl in check_hashes(dest, pins):  # damaged or replaced since: fetch it again
        sys.stderr.write(f"  [{f.variant}] {whl.name}: sha256 differs from the index's; again\n")
        whl.unlink()
    env = step_environ(os.environ, pip_env("windows" if os.name == "nt" else "linux"))
    argv = [*pip_download_argv(f, dest, network_args), *pins]
    sys.stderr.write(
        f"{PROG}: {f.label}: {' '.join(f.specs)} from {f.index_url} ({len(pins)} wheels)\n"
    )
    last_error = ""
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as proc:
        for raw in proc.stdout or ():
            line = raw.rstrip()
            if line.lstrip().startswith(("Downloading", "File was already downloaded")):
                sys.stderr.write(f"  [{f.variant}] {line.strip()}\n")
            elif line.startswith("ERROR"):
                last_error = line.removeprefix("ERROR: ")
                sys.stderr.write(f"  [{f.variant}] {line}\n")
        rc = proc.wait()
    if rc != 0 and "HASHES" in last_error:
        raise WizardError(
            f"a wheel for {f.label} from {f.index_url} does not match the sha256 its index gives "
            "(pip refused it): the mirror or the transfer is damaged; repair the mirror, then run "
            "the same command again"
        )
    if rc != 0:
        raise WizardError(
            f"downloading the wheels for {f.label} from {f.index_url} failed "
            f"({last_error or f'pip exited {rc}'}); what was fetched stays in {dest}, "
            "so run the same command again once the index is reachable"
        )
    bad = check_hashes(dest, pins)
    if bad:
        raise WizardError(
            f"{bad[0]} does not match the sha256 that {f.index_url} gives for it: the index or "
            "the download is damaged; it is left in place for a look, run again to fetch it anew"
        )


def run(args: argparse.Namespace) -> int:
    from torch_wizard.commands.common import choices_from_args
    from torch_wizard.plan import make_plan
    from torch_wizard.plan.isolation import host_network
    from torch_wizard.plan.validate import check_index_base

    outdir = Path(args.outdir).expanduser().absolute()
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"wheelhouse {outdir} is a file: give a folder for the wheelhouse")
    if importlib.util.find_spec("pip") is None:
        raise UsageError(
            f"wheelhouse downloads with pip, and {sys.executable} has none: install pip there "
            f"({sys.executable} -m ensurepip) or run torch-wizard from a venv with pip"
        )
    choices = choices_from_args(args)
    base = check_index_base(choices.index_base, choices.allow_insecure_index)
    fetches: list[Fetch] = []
    for machine in targets_from_args(args):
        f = fetch_of(make_plan(machine, choices), base)
        if f not in fetches:
            fetches.append(f)
    # Every plan checks out, and every target resolves, before anything is written or downloaded.
    import uv as uv_package

    network = host_network()
    uv_bin = uv_package.find_uv_bin()
    pins = [resolve_pins(f, uv_bin, network.uv_env) for f in fetches]
    before = {f.variant: _wheels(outdir / f.variant) for f in fetches}
    for f, wanted in zip(fetches, pins, strict=True):
        dest = outdir / f.variant
        dest.mkdir(parents=True, exist_ok=True)
        _download(f, dest, network.pip_args, wanted)
    lines = [f"Wheelhouse {outdir} (use --index-base {outdir.as_uri()}):"]
    total_n = total_b = 0
    for variant in dict.fromkeys(f.variant for f in fetches):
        folder = outdir / variant
        write_pages(folder)
        now = _wheels(folder)
        new = [n for n in now if n not in before[variant]]
        size = sum(now.values())
        total_n, total_b = total_n + len(now), total_b + size
        targets = "; ".join(f.label for f in fetches if f.variant == variant)
        lines.append(
            f"  {variant:<12} {len(now):>4} wheels {_size(size):>12}  "
            f"{len(new)} new ({_size(sum(now[n] for n in new))})  for {targets}"
        )
    lines.append(f"  {'total':<12} {total_n:>4} wheels {_size(total_b):>12}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
