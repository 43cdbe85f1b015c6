"""Which GPU driver a machine needs, and how to install it on its distribution.

Nothing here installs anything: these are sentences for the plan's reasons and the Machine
screen. The commands are the distributions' own documented routes:

- Ubuntu: ``sudo ubuntu-drivers install`` (Ubuntu Server documentation, "NVIDIA drivers
  installation": installs the recommended driver; ``nvidia:<branch>`` picks a branch).
- Debian: ``sudo apt install nvidia-driver firmware-misc-nonfree`` with the contrib, non-free
  and non-free-firmware components enabled (Debian Wiki, "NvidiaGraphicsDrivers").
- Fedora: ``sudo dnf install akmod-nvidia xorg-x11-drv-nvidia-cuda`` from RPM Fusion nonfree
  (RPM Fusion, "Howto/NVIDIA"; the -cuda package brings nvidia-smi and the CUDA driver library).
- RHEL, Rocky, Alma: ``sudo dnf install nvidia-open`` from NVIDIA's CUDA repository (NVIDIA
  Driver Installation Guide, "Red Hat Enterprise Linux").
- Arch: ``sudo pacman -S nvidia-open`` for Turing (sm 7.5) and newer (Arch Wiki, "NVIDIA": older
  GPUs need a legacy branch from the AUR).
- openSUSE: NVIDIA's repository, then ``sudo zypper install-new-recommends --repo NVIDIA``
  (openSUSE Wiki, "SDB:NVIDIA drivers").
- Windows: NVIDIA's driver download page (https://www.nvidia.com/Download/index.aspx).

AMD: a ROCm wheel bundles the ROCm user-space libraries it needs (HIP runtime, rocBLAS, MIOpen
...), so no ROCm install is needed; the host needs the amdgpu kernel driver (it creates /dev/kfd
and /sys/class/kfd; in the mainline kernel, on Ubuntu in linux-modules-extra) and the user in the
render and video groups to open /dev/kfd and /dev/dri/renderD* (ROCm documentation, "Quick start
installation guide" and "GPU access permissions"; PyTorch's "Get Started" ROCm note).
"""

from __future__ import annotations

from torch_wizard.machine.model import Machine, OSInfo

WINDOWS_NVIDIA = "https://www.nvidia.com/Download/index.aspx"
AMD_GROUPS = "sudo usermod -a -G render,video $LOGNAME"


def _family(os_info: OSInfo) -> str:
    ids = (os_info.distro_id, *os_info.distro_like)
    for family in ("ubuntu", "debian", "fedora", "rhel", "arch", "opensuse", "suse"):
        if family in ids:
            if family == "fedora" and os_info.distro_id != "fedora":
                return "rhel"  # Rocky/Alma/CentOS list "rhel centos fedora"
            return "opensuse" if family == "suse" else family
    if os_info.distro_id.startswith("opensuse"):
        return "opensuse"
    return ""


def nvidia_install(machine: Machine, branch: str = "") -> str:
    """The command (or page) that installs NVIDIA's driver here, as a phrase; "" if unknown."""
    os_info = machine.os
    if os_info.name == "windows":
        return f"NVIDIA's driver from {WINDOWS_NVIDIA} (or Windows Update)"
    if os_info.name != "linux":
        return ""
    family = _family(os_info)
    if family == "ubuntu":
        pick = (
            f" (or `sudo ubuntu-drivers install nvidia:{branch}` for that branch)" if branch else ""
        )
        return f"`sudo ubuntu-drivers install`{pick}"
    if family == "debian":
        return (
            "`sudo apt install nvidia-driver firmware-misc-nonfree` (with contrib, non-free "
            "and non-free-firmware enabled in /etc/apt/sources.list)"
        )
    if family == "fedora":
        return (
            "`sudo dnf install akmod-nvidia xorg-x11-drv-nvidia-cuda` (RPM Fusion nonfree enabled)"
        )
    if family == "rhel":
        return "`sudo dnf install nvidia-open` (after adding NVIDIA's CUDA repository)"
    if family == "arch":
        ccs = [g.compute_capability for g in machine.nvidia.gpus if g.compute_capability]
        if ccs and all(_cc(c) >= (7, 5) for c in ccs):
            return "`sudo pacman -S nvidia-open`"
        return "the legacy NVIDIA branch the Arch Wiki's NVIDIA page names for this GPU"
    if family == "opensuse":
        return (
            "NVIDIA's repository (`sudo zypper addrepo --refresh "
            "https://download.nvidia.com/opensuse/tumbleweed NVIDIA`, or .../leap/<version>) and "
            "`sudo zypper install-new-recommends --repo NVIDIA`"
        )
    return "your distribution's NVIDIA driver packages (or NVIDIA's installer from nvidia.com)"


def _cc(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return ()


def amd_host_needs(machine: Machine) -> str:
    """What the host needs for a ROCm wheel, as one sentence (sources in the module doc)."""
    family = _family(machine.os)
    module = (
        "`sudo apt install linux-modules-extra-$(uname -r)` then `sudo modprobe amdgpu`"
        if family == "ubuntu"
        else "`sudo modprobe amdgpu` (it is part of the mainline kernel)"
    )
    return (
        "A ROCm wheel bundles the ROCm libraries it uses (HIP runtime, rocBLAS, MIOpen ...), so "
        "no ROCm install is needed; the host needs the amdgpu kernel driver (it provides "
        f"/dev/kfd: {module}, or AMD's amdgpu-install --usecase=dkms) and your user in the render "
        f"and video groups (`{AMD_GROUPS}`, then log in again) [AMD ROCm documentation: quick "
        "start installation guide, GPU access permissions]."
    )


# The last NVIDIA driver branch that supports a GPU generation, by compute capability major
# (NVIDIA's "Unix legacy GPU" list, nvidia.com/en-us/drivers/unix/legacy-gpu/: Kepler ends with
# the 470 branch, Fermi with 390; the 580 driver release notes: 580 is the last branch for
# Maxwell, Pascal and Volta). Newer generations have no last branch yet.
LAST_BRANCH = {"2": "390", "3": "470", "5": "580", "6": "580", "7.0": "580", "7.2": "580"}


def last_branch(machine: Machine) -> str:
    """The newest driver branch every NVIDIA GPU here is still supported by, or ""."""
    found: list[str] = []
    for g in machine.nvidia.gpus:
        cc = g.compute_capability
        branch = LAST_BRANCH.get(cc) or LAST_BRANCH.get(cc.split(".")[0], "")
        if branch:
            found.append(branch)
    return min(found, key=int) if found else ""


def nvidia_need(machine: Machine, cuda: str, floor: str) -> str:
    """ "driver X or newer (...): COMMAND" for a CUDA build whose driver floor is ``floor``; a GPU
    whose support ends with an older branch (Kepler: 470) is told to take exactly that branch."""
    branch = driver_branch(floor)
    major = cuda.split(".")[0]
    last = last_branch(machine)
    if last:
        return (
            f"the {last} branch, the last NVIDIA driver branch for this GPU generation (NVIDIA's "
            f"legacy GPU list and driver release notes; CUDA {major}.x wheels need {floor} or "
            f"newer): {nvidia_install(machine, last)}"
        )
    need = f"{floor} or newer, branch {branch}" if floor != branch else f"branch {branch} or newer"
    return f"{need}, the floor for CUDA {major}.x wheels: {nvidia_install(machine, branch)}"


def driver_branch(floor: str) -> str:
    """ "580.65.06" -> "580"."""
    return floor.split(".")[0] if floor else ""
