"""Backend choice for wheels with reasons: NVIDIA, AMD, Intel, Jetson, mixed or driverless GPUs."""

from __future__ import annotations

from dataclasses import replace

from torch_wizard import catalog as catalog_mod
from torch_wizard.catalog import Catalog, Release
from torch_wizard.catalog.core import cuda_version, variant_kind
from torch_wizard.machine.model import Machine, NvidiaGPU
from torch_wizard.plan.describe import _ccs, _gpu_phrase, _version_key, backend_label
from torch_wizard.plan.fit import _jetson_fit, backend_fit, cuda_once_driver, rocm_once_driver
from torch_wizard.plan.model import Choices
from torch_wizard.plan.notes import _Notes


def _choose_backend(
    cat: Catalog,
    machine: Machine,
    choices: Choices,
    candidates: list[Release],
    notes: _Notes,
    gpu: str,
) -> tuple[Release, str]:
    key = machine.platform_key
    asked = choices.backend
    if asked not in ("auto", ""):
        problem = _explicit_backend_problem(asked, machine)
        if problem:
            notes.problem(problem, f"{asked} is not possible here, so the recommended backend")
        else:
            offering = [r for r in candidates if asked in r.variants(key)]
            if not offering:
                r0 = candidates[0]
                offered = ", ".join(r0.variants(key)) or "none"
                notes.problem(
                    f"torch {r0.version} has no {asked} build for {key}; it offers: {offered}",
                    f"torch {r0.version} has no {asked} build, so the recommended backend",
                )
            else:
                release = offering[0]
                fit = backend_fit(cat, machine, release, asked)
                notes.reasons.append(
                    f"{backend_label(asked)} ({asked}) as you asked, for torch {release.version}."
                )
                if not fit.ok and variant_kind(asked) != "cpu":
                    notes.warnings.append(f"{asked} may not work on this machine: {fit.why}.")
                return release, asked

    return _recommend(cat, machine, candidates, notes, gpu)


def _explicit_backend_problem(asked: str, machine: Machine, *, source: bool = False) -> str:
    osname = machine.os.name
    generic = source and asked in ("cuda", "rocm")
    if not (variant_kind(asked) or asked == "jetson" or generic):
        return f"unknown backend {asked!r}: use auto, cpu, cuXYZ (e.g. cu126), rocmX.Y or xpu"
    kind = asked if generic else variant_kind(asked)
    if kind == "cuda" and osname == "macos":
        return (
            "CUDA is not available on macOS (Apple has no NVIDIA drivers): use --backend auto, "
            "which installs PyPI's wheel with MPS on Apple silicon"
        )
    if kind == "rocm" and osname != "linux":
        return (
            f"ROCm wheels exist only for Linux on PyTorch's index, not {osname} (AMD's own "
            "Windows wheels on repo.amd.com are outside this wizard's routes): use --backend auto "
            "or cpu"
        )
    if kind == "jetson" and machine.board.kind != "jetson":
        return "--backend jetson is only for NVIDIA Jetson boards: use --backend auto"
    return ""


def _recommend(
    cat: Catalog, machine: Machine, candidates: list[Release], notes: _Notes, gpu: str
) -> tuple[Release, str]:
    key = machine.platform_key
    newest = candidates[0]
    if gpu == "macos":
        if "pypi" in newest.variants(key):
            if machine.apple.silicon:
                notes.reasons.append(
                    "On Apple silicon PyPI's wheel is the official build and uses the GPU through "
                    "MPS, so no --index-url is needed."
                )
            else:
                notes.reasons.append(
                    "On an Intel Mac PyPI's CPU wheel is the official build (no CUDA on macOS)."
                )
            return newest, "pypi"

    if gpu in ("nvidia", "amd", "intel"):
        kind = {"nvidia": "cuda", "amd": "rocm", "intel": "xpu"}[gpu]
        if gpu == "nvidia" and not machine.nvidia.device_nodes and machine.nvidia.driver_version:
            notes.warnings.append(
                "The NVIDIA driver is loaded but no /dev/nvidia* device is visible: this looks "
                "like a container started without GPU access (docker run --gpus all)."
            )
            notes.reasons.append(
                "The GPU is not usable from here, so the CPU build; pass --backend cuXYZ to "
                "install a CUDA build anyway."
            )
            return _cpu(newest, machine, notes, key, mention_gpu=False)
        special = _gpu_without_driver(cat, machine, candidates, notes, gpu)
        if special is not None:
            return special
        hw = _hardware_phrase(machine, gpu)
        newest_misses: list[tuple[str, str]] = []
        for release in candidates:
            misses: list[tuple[str, str]] = []
            for variant in release.variants(key):
                if variant_kind(variant) != kind:
                    continue
                fit = backend_fit(cat, machine, release, variant)
                if fit.ok:
                    if release is not newest:
                        notes.reasons.append(
                            f"torch {newest.version} has no build for {hw} "
                            f"({_group(newest_misses) or 'none offered'}), so torch "
                            f"{release.version}, the newest that has one."
                        )
                        hint = _driver_hint(cat, machine, newest)
                        if hint:
                            notes.reasons.append(hint)
                        misses = []
                    skipped = f"{_group(misses)}; so " if misses else ""
                    notes.reasons.append(
                        f"{hw}: {skipped}{backend_label(variant)} ({variant}), the newest build "
                        f"that fits: {fit.why}."
                    )
                    if gpu == "nvidia":
                        notes.reasons.append(
                            "The wheel bundles its own CUDA runtime, so no CUDA toolkit is needed; "
                            "only the driver matters."
                        )
                        _mixed_reason(cat, machine, release, variant, notes)
                    if gpu == "amd":
                        from torch_wizard.plan.drivers import amd_host_needs

                        notes.reasons.append(amd_host_needs(machine))
                    _backend_caveats(cat, machine, variant, notes)
                    return release, variant
                misses.append((variant, fit.why))
            if release is newest:
                newest_misses = misses
        if gpu == "amd" and machine.os.name != "linux":
            notes.reasons.append(
                "PyTorch builds ROCm wheels for Linux only (pytorch/test-infra "
                "generate_binary_build_matrix.py adds ROCm arches when os == linux); AMD's own "
                "Windows wheels (e.g. torch 2.12.0+rocm7.14.0 with per-device extras such as "
                "torch[device-gfx1100], from https://repo.amd.com/rocm/whl-multi-arch/) are AMD's "
                "route, not PyTorch's index, and are not planned here."
            )
        partial = _mixed_partial(cat, machine, candidates, notes) if gpu == "nvidia" else None
        if partial is not None:
            return partial
        detail = _group(newest_misses) or f"torch {newest.version} offers no {kind} build here"
        notes.warnings.append(f"No GPU build of any torch release fits {hw}: {detail}.")
        fix = ""
        if any("driver" in why for _, why in newest_misses):
            fix = " Update the NVIDIA driver to use the GPU."
        notes.reasons.append(f"So the CPU build, which runs anywhere.{fix}")
        return _cpu(newest, machine, notes, key, mention_gpu=False)

    if machine.intel and not any(g.discrete for g in machine.intel):
        ids = ", ".join(g.pci_id for g in machine.intel if g.pci_id)
        notes.reasons.append(
            f"Only integrated Intel graphics found{f' ({ids})' if ids else ''}, not on PyTorch's "
            "list of Intel GPUs the XPU wheels are validated on (Arc, Data Center GPUs and the "
            "Arc graphics of Core Ultra Meteor Lake-H, Arrow Lake-H and Lunar Lake), so the CPU "
            "build."
        )
    return _cpu(newest, machine, notes, key, mention_gpu=gpu == "cpu")


def _backend_caveats(cat: Catalog, machine: Machine, variant: str, notes: _Notes) -> None:
    """What the catalog cannot confirm about the chosen build, and what an integrated GPU means."""
    if variant_kind(variant) == "rocm" and not cat.rocm_confirmed(variant):
        notes.reasons.append(
            f"Not confirmed here: which gfx targets {variant} is built for (no stored build "
            "script names them; the catalog repeats the previous ROCm's list, and AMD's own index "
            "splits its builds per device, e.g. amd-torch-device-gfx1201). If torch does not "
            "see the GPU, try the previous ROCm build."
        )
    if variant == "xpu" and not any(g.discrete for g in machine.intel):
        notes.warnings.append(
            "The Intel GPU is integrated: it shares system memory with the CPU, and the XPU "
            "wheels need Intel's GPU driver (level-zero) installed (PyTorch's 'Getting Started "
            "on Intel GPU')."
        )


def _jetson_sbsa_backend(
    cat: Catalog,
    machine: Machine,
    route: catalog_mod.JetsonRoute,
    candidates: list[Release],
    notes: _Notes,
) -> tuple[Release, str]:
    """JetPack 7 and newer: PyTorch's own Linux aarch64 CUDA builds, the newest whose CUDA is
    not newer than JetPack's and whose arch list covers the board's compute capability."""
    from torch_wizard.plan.source import load_facts

    key = machine.platform_key
    model = machine.board.model or "This Jetson"
    cc = load_facts().jetson_cc(machine.board.model)
    for release in candidates:
        for variant in release.variants(key):
            if variant_kind(variant) != "cuda":
                continue
            fit = _jetson_fit(cat, machine, route, release, variant)
            if not fit.ok:
                continue
            cc_part = fit.why
            notes.reasons.append(
                f"{model} with JetPack {machine.board.jetpack or '7'} (L4T "
                f"{machine.board.l4t or route.l4t}, CUDA {route.cuda}): PyTorch's own Linux aarch64 "
                f"CUDA wheels run on it, so torch {release.version} {backend_label(variant)} "
                f"({variant}) from PyTorch's index: {cc_part}; builds of a CUDA newer than "
                f"JetPack's {route.cuda} are not chosen."
            )
            notes.reasons.append(
                "The GPU driver comes with JetPack, so no driver floor is checked; the wheel "
                "bundles its own CUDA runtime."
            )
            if route.alternative:
                notes.reasons.append(
                    f"NVIDIA's Jetson AI Lab index ({route.alternative}) has builds for this "
                    "JetPack too; pass --index-base or install from there by hand to use them."
                )
            return release, variant
    notes.warnings.append(
        f"No PyTorch aarch64 CUDA build up to CUDA {route.cuda} covers {model} "
        f"(compute capability {cc or 'unknown'})."
    )
    notes.reasons.append("So the CPU build, which runs anywhere.")
    return _cpu(candidates[0], machine, notes, key, mention_gpu=False)


# --------------------------------------------------------------------------------------------------
# GPUs without their driver, and GPUs of mixed generations (issue 11)


def _gpu_names(gpus: list[NvidiaGPU]) -> str:
    """ "NVIDIA GeForce GTX 1080 (6.1)" or "2x Tesla K80 (3.7)"."""
    by_name: dict[str, list[NvidiaGPU]] = {}
    for g in gpus:
        by_name.setdefault(g.name, []).append(g)
    parts = []
    for name, same in by_name.items():
        count = f"{len(same)}x " if len(same) > 1 else ""
        cc = same[0].compute_capability
        parts.append(f"{count}{name}" + (f" ({cc})" if cc else ""))
    return " and ".join(parts)


def _gpu_without_driver(
    cat: Catalog, machine: Machine, candidates: list[Release], notes: _Notes, gpu: str
) -> tuple[Release, str] | None:
    """NVIDIA without its driver, AMD without amdgpu (no kfd) on Linux: the CPU build now, and
    which driver (and command) would give which GPU build. None for every other machine."""
    from torch_wizard.plan import drivers

    key = machine.platform_key
    newest = candidates[0]
    if gpu == "nvidia" and not machine.nvidia.driver_version:
        names = _gpu_names(list(machine.nvidia.gpus)) or "An NVIDIA GPU"
        if machine.nvidia.kernel_driver == "nvidia":
            notes.reasons.append(
                f"{names}: NVIDIA's driver is installed but its version is unknown (no "
                "nvidia-smi answered), so no CUDA build can be checked against it: the CPU build; "
                "pass --nvidia-driver VERSION (nvidia-smi shows it) to plan the CUDA build."
            )
            return _cpu(newest, machine, notes, key, mention_gpu=False)
        using = (
            ", and the nouveau driver in use cannot run CUDA"
            if machine.nvidia.kernel_driver == "nouveau"
            else ""
        )
        notes.reasons.append(f"{names} found, but no NVIDIA driver is loaded{using}.")
        then = cuda_once_driver(cat, machine, candidates)
        if then is None:
            notes.reasons.append(
                "No CUDA build of any torch release covers this GPU, even with a new driver, so "
                "the CPU build."
            )
            return _cpu(newest, machine, notes, key, mention_gpu=False)
        release, variant, floor = then
        notes.reasons.append(
            f"Install NVIDIA's driver, {drivers.nvidia_need(machine, cuda_version(variant), floor)}; "
            "reboot, then run torch-wizard again: the plan will then install torch "
            f"{release.version} with "
            f"{backend_label(variant)} ({variant})."
        )
        notes.reasons.append(
            "Until then, the CPU build: nothing here installs a driver. To install the CUDA "
            f"build now, ahead of the driver, pass --backend {variant}."
        )
        return _cpu(newest, machine, notes, key, mention_gpu=False)
    amd = machine.amd
    if gpu != "amd" or machine.os.name != "linux" or amd.source != "pci":
        return None
    name = next((g.name for g in amd.gpus if g.name), "The AMD GPU")
    gfx = ", ".join(amd.gfx_targets)
    then_rocm = rocm_once_driver(cat, machine, candidates)
    if then_rocm is None:
        notes.reasons.append(f"{name} ({gfx}) found, but no ROCm wheel supports it: the CPU build.")
        return _cpu(newest, machine, notes, key, mention_gpu=False)
    release, variant = then_rocm
    state = (
        "the amdgpu driver is loaded but no /sys/class/kfd is visible (a container needs "
        "/dev/kfd and /dev/dri passed in)"
        if amd.kernel_driver == "amdgpu"
        else "the amdgpu kernel driver is not running (no /sys/class/kfd)"
    )
    notes.reasons.append(f"{name} ({gfx}) found, but {state}, so ROCm cannot use it yet.")
    notes.reasons.append(drivers.amd_host_needs(machine))
    notes.reasons.append(
        f"Then run torch-wizard again: the plan will then install torch {release.version} with "
        f"{backend_label(variant)} ({variant}). Until then, the CPU build; pass --backend "
        f"{variant} to install the ROCm build now."
    )
    return _cpu(newest, machine, notes, key, mention_gpu=False)


def _mixed_reason(
    cat: Catalog, machine: Machine, release: Release, variant: str, notes: _Notes
) -> None:
    """Several GPUs of different compute capability: say that the build covers them all, and
    which GPU the newer builds would leave out."""
    ccs = _ccs(machine)
    if len(ccs) < 2:
        return
    key = machine.platform_key
    left_out: dict[str, list[str]] = {}
    for newer in release.variants(key):
        if newer == variant:
            break
        if variant_kind(newer) != "cuda":
            continue
        missing = [cc for cc in ccs if not cat.covers_cc(newer, release.version, cc, key)]
        if missing:
            out = [g for g in machine.nvidia.gpus if g.compute_capability in missing]
            left_out.setdefault(_gpu_names(out), []).append(newer)
    why = "".join(f"; {', '.join(vs)} would leave {who} out" for who, vs in left_out.items())
    notes.reasons.append(
        f"Mixed GPUs ({_gpu_names(list(machine.nvidia.gpus))}): {variant} is the newest build "
        f"that covers all of them{why}."
    )


def _mixed_partial(
    cat: Catalog, machine: Machine, candidates: list[Release], notes: _Notes
) -> tuple[Release, str] | None:
    """No build covers every GPU: the newest that covers the newest GPUs, naming who is left out."""
    gpus = list(machine.nvidia.gpus)
    ccs = _ccs(machine)
    if len(ccs) < 2 or not machine.nvidia.driver_version:
        return None
    key = machine.platform_key
    for drop in range(1, len(ccs)):
        kept = [g for g in gpus if g.compute_capability in ccs[drop:]]
        sub = replace(machine, nvidia=replace(machine.nvidia, gpus=tuple(kept)))
        for release in candidates:
            for variant in release.variants(key):
                if variant_kind(variant) != "cuda":
                    continue
                fit = backend_fit(cat, sub, release, variant)
                if not fit.ok:
                    continue
                out = [g for g in gpus if g not in kept]
                archs = cat.cuda_archs(variant, release.version, key)
                span = f"{archs[0]} to {archs[-1]}" if archs else "newer GPUs"
                visible = ",".join(str(g.index) for g in kept)
                notes.warnings.append(
                    f"No build of any torch release covers every GPU here: {_gpu_names(out)} is "
                    f"left out ({variant} is built for compute capability {span})."
                )
                notes.reasons.append(
                    f"{_gpu_names(kept)}: {backend_label(variant)} ({variant}) with torch "
                    f"{release.version}, the newest build that covers them: {fit.why}. "
                    f"{_gpu_names(out)} stays unused; to keep CUDA off it, run with "
                    f"CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES={visible}."
                )
                return release, variant
    return None


def _driver_hint(cat: Catalog, machine: Machine, release: Release) -> str:
    """If only the driver keeps ``release`` off this GPU: which driver would allow it."""
    ccs = _ccs(machine)
    for variant in release.variants(machine.platform_key):
        cuda = cuda_version(variant)
        key = machine.platform_key
        if not cuda or not all(cat.covers_cc(variant, release.version, cc, key) for cc in ccs):
            continue
        floor = cat.driver_floor(cuda, machine.os.name)
        if floor and _version_key(machine.nvidia.driver_version) < _version_key(floor):
            return (
                f"Updating the NVIDIA driver to {floor} or newer would allow torch "
                f"{release.version} with {variant}."
            )
    return ""


def _group(misses: list[tuple[str, str]]) -> str:
    """[("cu132", w), ("cu130", w), ("cu128", v)] -> "cu132, cu130: w; cu128: v"."""
    by_why: dict[str, list[str]] = {}
    for variant, why in misses:
        by_why.setdefault(why, []).append(variant)
    return "; ".join(f"{', '.join(vs)}: {why}" for why, vs in by_why.items())


def _hardware_phrase(machine: Machine, gpu: str) -> str:
    if gpu == "nvidia":
        drv = f" on driver {machine.nvidia.driver_version}" if machine.nvidia.driver_version else ""
        return f"{_gpu_phrase(machine)}{drv}"
    if gpu == "amd":
        names = list(dict.fromkeys(g.name for g in machine.amd.gpus if g.name))
        gfx = ", ".join(machine.amd.gfx_targets)
        return f"{' and '.join(names)} ({gfx})" if names else f"AMD GPU {gfx}"
    return "the Intel GPU"


def _cpu(
    release: Release, machine: Machine, notes: _Notes, key: str, *, mention_gpu: bool
) -> tuple[Release, str]:
    offered = release.variants(key)
    variant = "cpu" if "cpu" in offered else ("pypi" if "pypi" in offered else offered[-1])
    default = release.pypi_default(key)
    if mention_gpu:
        what = "No NVIDIA, AMD or Intel GPU found"
        if machine.board.kind == "raspberry-pi":
            what = f"{machine.board.model or 'A Raspberry Pi'} has no GPU PyTorch can use"
        if default.startswith("cu"):
            notes.reasons.append(
                f"{what}, so the CPU build from the cpu index: a bare `pip install torch` here "
                f"would pull PyPI's {backend_label(default)} build with gigabytes of CUDA libraries."
            )
        else:
            notes.reasons.append(f"{what}, so the CPU build.")
    return release, variant
