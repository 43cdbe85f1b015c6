"""Verification: a script the venv's python runs, its JSON report, and what a mismatch means.

``verify_argv(python, backend)`` is the ``verify`` step of every plan: ``[python, -c, SCRIPT,
backend]``. The script imports torch, reports versions, which accelerators are available, the
device names, ``torch.backends.cpu.get_cpu_capability()``, multiplies two small integer matrices
on the expected device and checks every entry against the exact result computed in plain Python,
then times a 1024x1024 float32 matmul for GFLOP/s. It prints one line ``MARKER {json}`` and exits
0 when torch works on the expected device, 3 when it works only on the CPU, 1 on an error.

``parse_report(output)`` reads that line back; ``diagnose(report, backend)`` says in sentences
what a mismatch most likely means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MARKER = "TORCH_WIZARD_VERIFY"

VERIFY_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
MARKER = "TORCH_WIZARD_VERIFY"
backend = sys.argv[1] if len(sys.argv) > 1 else ""
rep = {"python": sys.version.split()[0], "executable": sys.executable, "backend": backend,
       "ok": False, "error": "", "packages": {}}
def emit(code):
    sys.stdout.write(MARKER + " " + json.dumps(rep, sort_keys=True) + "\n")
    sys.stdout.flush()
    sys.exit(code)
try:
    from importlib import metadata
    for name in ("torch", "torchvision", "torchaudio", "pip", "numpy"):
        try:
            rep["packages"][name] = metadata.version(name)
        except Exception:
            pass
except Exception:
    pass
if backend.startswith(("cu", "rocm", "jetson")):
    want = "cuda"
elif backend == "xpu":
    want = "xpu"
elif backend in ("pypi", "mps"):
    want = "mps" if sys.platform == "darwin" else "cpu"
else:
    want = "cpu"
rep["expected_device"] = want
try:
    t0 = time.perf_counter()
    import torch
    rep["import_seconds"] = round(time.perf_counter() - t0, 3)
except Exception as exc:
    rep["error"] = "import torch failed: %s: %s" % (type(exc).__name__, exc)
    emit(1)
try:
    v = torch.version
    rep["torch"] = torch.__version__
    rep["cuda_build"] = getattr(v, "cuda", None) or ""
    rep["hip_build"] = getattr(v, "hip", None) or ""
    rep["xpu_build"] = bool(getattr(v, "xpu", None))
    rep["cuda_available"] = bool(torch.cuda.is_available())
    rep["devices"] = []
    if rep["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            cap = torch.cuda.get_device_capability(i)
            rep["devices"].append({"kind": "cuda", "name": torch.cuda.get_device_name(i),
                                   "capability": "%d.%d" % cap})
        try:
            rep["arch_list"] = list(torch.cuda.get_arch_list())
        except Exception:
            pass
    xpu = getattr(torch, "xpu", None)
    rep["xpu_available"] = bool(xpu is not None and xpu.is_available())
    if rep["xpu_available"]:
        for i in range(xpu.device_count()):
            rep["devices"].append({"kind": "xpu", "name": xpu.get_device_name(i)})
    mps = getattr(torch.backends, "mps", None)
    rep["mps_available"] = bool(mps is not None and mps.is_available())
    try:
        rep["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:
        rep["cpu_capability"] = ""
    device = want if rep.get(want + "_available", want == "cpu") else "cpu"
    rep["device"] = device
    n = 24
    a = [[(i + 2 * j) % 7 - 3 for j in range(n)] for i in range(n)]
    b = [[(3 * i + j) % 5 - 2 for j in range(n)] for i in range(n)]
    exact = [[sum(a[i][k] * b[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    ta = torch.tensor(a, dtype=torch.float32, device=device)
    tb = torch.tensor(b, dtype=torch.float32, device=device)
    got = (ta @ tb).cpu().tolist()
    bad = sum(1 for i in range(n) for j in range(n) if got[i][j] != exact[i][j])
    rep["matmul_ok"] = bad == 0
    rep["matmul_mismatches"] = bad
    size = 1024
    x = torch.rand(size, size, device=device)
    y = torch.rand(size, size, device=device)
    def sync():
        if device == "cuda":
            torch.cuda.synchronize()
        elif device == "xpu":
            torch.xpu.synchronize()
        elif device == "mps":
            torch.mps.synchronize()
    (x @ y).sum().item()
    reps = 0
    t0 = time.perf_counter()
    while True:
        z = x @ y
        reps += 1
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed > 0.2 or reps >= 50:
            break
    rep["gflops"] = round(2.0 * size ** 3 * reps / elapsed / 1e9, 1)
except Exception as exc:
    rep["error"] = "%s: %s" % (type(exc).__name__, exc)
    emit(1)
rep["ok"] = bool(rep["matmul_ok"]) and rep["device"] == want
emit(0 if rep["ok"] else (3 if rep["matmul_ok"] else 1))
"""


def verify_argv(python: str, backend: str) -> list[str]:
    """The verification command for a venv's ``python`` and the plan's backend."""
    return [python, "-c", VERIFY_SCRIPT.strip() + "\n", backend]


@dataclass(frozen=True)
class Device:
    kind: str  # "cuda" (also ROCm), "xpu"
    name: str
    capability: str = ""


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    error: str = ""
    backend: str = ""  # what the plan installed
    expected_device: str = ""
    device: str = ""  # where the matmul ran
    python: str = ""
    executable: str = ""
    torch: str = ""  # "2.13.0+cpu"
    cuda_build: str = ""  # torch.version.cuda
    hip_build: str = ""
    xpu_build: bool = False
    cuda_available: bool = False
    xpu_available: bool = False
    mps_available: bool = False
    devices: tuple[Device, ...] = ()
    arch_list: tuple[str, ...] = ()
    cpu_capability: str = ""
    matmul_ok: bool = False
    matmul_mismatches: int = 0
    gflops: float = 0.0
    import_seconds: float = 0.0
    packages: dict[str, str] = field(default_factory=dict)


def parse_report(output: str) -> VerifyReport | None:
    """The report in a verify step's output (the last marker line), or None if there is none."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if not line.startswith(MARKER + " "):
            continue
        try:
            data = json.loads(line[len(MARKER) + 1 :])
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return _report(data)
    return None


def _report(data: dict[str, object]) -> VerifyReport:
    from wizard.serial import SchemaError, from_json

    try:
        return from_json(VerifyReport, data)
    except SchemaError as err:
        return VerifyReport(ok=False, error=f"unreadable verification report: {err}")


def _is_gpu_backend(backend: str) -> bool:
    return backend.startswith(("cu", "rocm", "jetson")) or backend == "xpu"


def diagnose(report: VerifyReport | None, backend: str, expected_torch: str = "") -> list[str]:
    """Sentences naming what is wrong and the likely cause; empty when all is well."""
    if report is None:
        return [
            "The verification printed no report: torch may have crashed the interpreter (see the log)."
        ]
    out: list[str] = []
    if report.error:
        out.append(f"torch does not work in this environment: {report.error}.")
        if "import" in report.error:
            return out
    if expected_torch and report.torch and report.torch.split("+")[0] != expected_torch:
        out.append(
            f"torch {report.torch} is installed but the plan asked for {expected_torch}: another "
            "requirement or a cached wheel won; reinstall with the plan's exact command."
        )
    gpu_wanted = _is_gpu_backend(backend)
    if gpu_wanted and backend != "xpu":
        build = report.cuda_build or report.hip_build
        if not build:
            out.append(
                f"The plan asked for {backend} but a CPU-only torch ({report.torch}) is installed: "
                "it came from the wrong index (plain PyPI or the cpu index); reinstall with "
                f"--index-url .../whl/{backend}."
            )
        elif not report.cuda_available:
            kind = "ROCm" if report.hip_build else "CUDA"
            out.append(
                f"torch {report.torch} is a {kind} {build} build but sees no GPU: the driver is likely "
                f"too old for {kind} {build}, or this process cannot reach the device (no "
                "/dev/nvidia* or /dev/kfd in a container, or CUDA_VISIBLE_DEVICES hides it)."
            )
    if backend == "xpu":
        if not report.xpu_build and not report.xpu_available:
            out.append(
                f"The plan asked for xpu but torch {report.torch} has no XPU support: it came from "
                "the wrong index; reinstall with --index-url .../whl/xpu."
            )
        elif not report.xpu_available:
            out.append(
                "torch has XPU support but sees no Intel GPU: install Intel's GPU driver "
                "(level-zero) and check access to /dev/dri."
            )
    if not gpu_wanted and (report.cuda_build or report.hip_build):
        out.append(
            f"A GPU build of torch ({report.torch}) is installed where the plan wanted {backend}: it "
            "came from the wrong index and wastes gigabytes."
        )
    if not report.error and not report.matmul_ok:
        out.append(
            f"A small matrix product on {report.device or 'the device'} gave "
            f"{report.matmul_mismatches} wrong entries: the device or its driver is faulty."
        )
    return out
