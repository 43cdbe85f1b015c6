"""Driver advice for the Machine screen and ``detect``: what to install, and what plan follows."""

from __future__ import annotations

from torch_wizard.machine.model import Machine
from torch_wizard.plan.drivers import amd_host_needs, nvidia_need


def mixed_advice(machine: Machine) -> list[str]:
    """Several NVIDIA GPUs of different compute capability: the plan's own sentence on which build
    covers them all (or who is left out); [] otherwise."""
    ccs = {g.compute_capability for g in machine.nvidia.gpus if g.compute_capability}
    if len(ccs) < 2 or not machine.nvidia.driver_version:
        return []
    from torch_wizard.errors import UsageError
    from torch_wizard.plan.model import Choices
    from torch_wizard.plan.resolve import resolve

    try:
        res = resolve(machine, Choices(), strict=False)
    except UsageError:
        return []
    said = [w for w in res.warnings if "covers every GPU" in w]
    said += [r for r in res.reasons if r.startswith("Mixed GPUs") or "stays unused" in r]
    return said


def driver_advice(machine: Machine) -> list[str]:
    """For the Machine screen: a GPU PyTorch could use once its driver runs, what to install and
    what the plan would then be; for GPUs of mixed generations, which build covers them; []
    when there is nothing to say."""
    mixed = mixed_advice(machine)
    if mixed:
        return mixed
    from torch_wizard import catalog as catalog_mod
    from torch_wizard.catalog.core import cuda_version
    from torch_wizard.plan.describe import backend_label
    from torch_wizard.plan.fit import cuda_once_driver, rocm_once_driver

    nv = machine.nvidia
    out: list[str] = []
    if nv.gpus and not nv.driver_version and nv.kernel_driver == "nvidia":
        return [
            f"{nv.gpus[0].name}: NVIDIA's driver is installed but its version is unknown (no "
            "nvidia-smi answered); pass --nvidia-driver VERSION to plan the CUDA build."
        ]
    if nv.gpus and not nv.driver_version and machine.board.kind != "jetson":
        cat = catalog_mod.load()
        g = nv.gpus[0]
        what = ", ".join(
            p
            for p in (
                g.architecture,
                g.compute_capability and f"compute capability {g.compute_capability}",
            )
            if p
        )
        using = (
            "; the nouveau driver in use cannot run CUDA" if nv.kernel_driver == "nouveau" else ""
        )
        head = f"{g.name}{f' ({what})' if what else ''} has no NVIDIA driver{using}."
        then = cuda_once_driver(cat, machine)
        if then is None:
            out.append(f"{head} No CUDA build of any torch release covers it: the CPU build.")
            return out
        release, variant, floor = then
        out.append(head)
        out.append(
            f"CUDA needs NVIDIA's driver, {nvidia_need(machine, cuda_version(variant), floor)}. "
            "Reboot, then run torch-wizard again to get torch "
            f"{release.version} with {backend_label(variant)} ({variant}), or go on now with the "
            "CPU build. Nothing here installs a driver."
        )
        return out
    amd = machine.amd
    if amd.source == "pci" and amd.gfx_targets and machine.os.name == "linux":
        cat = catalog_mod.load()
        gpu = amd.gpus[0]
        then_rocm = rocm_once_driver(cat, machine)
        head = f"{gpu.name} ({', '.join(amd.gfx_targets)}) has no amdgpu kernel driver running (no /sys/class/kfd)."
        if then_rocm is None:
            out.append(f"{head} No ROCm wheel supports it: the CPU build.")
            return out
        release, variant = then_rocm
        out.append(head)
        out.append(
            f"{amd_host_needs(machine)} Then run torch-wizard again to get torch "
            f"{release.version} with {backend_label(variant)} ({variant}), or go on now with the "
            "CPU build."
        )
    return out
