"""The verification script a plan's ``verify`` step runs, and its command line.

It is part of the plan (the preview shows it, the runner executes it as it is), so it lives here;
``torch_wizard.run.verify`` reads the report it prints and says what a mismatch means. See that module's
docstring for what the script checks.
"""

from __future__ import annotations

from collections.abc import Mapping

MARKER = "TORCH_WIZARD_VERIFY"

VERIFY_SCRIPT = r"""
import json, re, sys, time, warnings
MARKER = "TORCH_WIZARD_VERIFY"
backend = sys.argv[1] if len(sys.argv) > 1 else ""
wanted = []
for arg in sys.argv[2:]:
    name, _, pin = arg.partition("==")
    if name.strip():
        wanted.append((name.strip(), pin.strip()))
rep = {"python": sys.version.split()[0], "executable": sys.executable, "backend": backend,
       "ok": False, "error": "", "packages": {}, "checks": []}
def emit(code):
    sys.stdout.write(MARKER + " " + json.dumps(rep, sort_keys=True) + "\n")
    sys.stdout.flush()
    sys.exit(code)
def public(version):
    parts = str(version).split("+")[0].strip().split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)
def label(version):
    return str(version).partition("+")[2]
def failure(exc):
    text = ("%s: %s" % (type(exc).__name__, exc)).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
try:
    from importlib import metadata
except Exception:
    metadata = None
def installed(name):
    try:
        return metadata.version(name) if metadata is not None else ""
    except Exception:
        return ""
def own_label(name):
    # PyPI's torchvision says +cu130 only in its own version.py, not in its metadata.
    try:
        path = metadata.distribution(name).locate_file(name + "/version.py")
        with open(str(path), encoding="utf-8") as fh:
            found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", fh.read())
        return label(found.group(1)) if found else ""
    except Exception:
        return ""
FAMILY = ("torchvision", "torchaudio", "torchao", "torchcodec")
for name in ("torch",) + FAMILY + ("pip", "numpy"):
    if installed(name):
        rep["packages"][name] = installed(name)
if not wanted:
    wanted = [("torch", "")] + [(n, "") for n in FAMILY if installed(n)]
checks = {}
for name, pin in wanted:
    c = {"name": name, "pin": pin, "version": installed(name), "build": "", "test": "version",
         "version_ok": True, "error": "", "ok": True}
    if not c["version"]:
        c["version_ok"] = False
        c["error"] = "not installed"
    else:
        rep["packages"][name] = c["version"]
        c["build"] = label(c["version"]) or own_label(name)
        c["version_ok"] = not pin or public(c["version"]) == public(pin)
    c["ok"] = c["version_ok"] and not c["error"]
    checks[name] = c
    rep["checks"].append(c)
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import torch
    for w in caught:  # shown as they would have been, and kept: a NumPy torch cannot use
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    numpy_warning = [str(w.message) for w in caught if "NumPy" in str(w.message)]
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
def exercise(c):
    name = c["name"]
    if name == "torchvision":
        c["test"] = "nms"
        import torchvision
        c["build"] = label(getattr(torchvision, "__version__", "")) or c["build"]
        boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0],
                              [20.0, 20.0, 30.0, 30.0]])
        scores = torch.tensor([0.9, 0.8, 0.7])
        for place in ["cpu"] + (["cuda"] if device == "cuda" else []):
            keep = torchvision.ops.nms(boxes.to(place), scores.to(place), 0.5).cpu().tolist()
            if keep != [0, 2]:
                return "torchvision.ops.nms on %s kept boxes %r, not [0, 2]" % (place, keep)
    elif name == "torchaudio":
        c["test"] = "import"
        import torchaudio
        own = str(getattr(torchaudio, "__version__", ""))
        c["build"] = label(own) or c["build"]
        if c["pin"] and public(own) != public(c["pin"]):
            return "torchaudio.__version__ is %s, the plan pinned %s" % (own, c["pin"])
    elif name == "torchao":
        c["test"] = "quantize"
        import torchao
        import torchao.quantization as aoq
        own = str(getattr(torchao, "__version__", ""))
        c["build"] = label(own) or c["build"]
        if c["pin"] and public(own) != public(c["pin"]):
            return "torchao.__version__ is %s, the plan pinned %s" % (own, c["pin"])
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32))
        x = torch.randn(4, 64)
        with torch.no_grad():
            ref = model(x)
            config = getattr(aoq, "Int8WeightOnlyConfig", None)
            aoq.quantize_(model, config() if config else aoq.int8_weight_only())
            kind = type(model[0].weight).__name__
            if kind in ("Parameter", "Tensor"):
                return "torchao.quantization.quantize_ left the weight a plain %s" % kind
            err = float((model(x) - ref).abs().max())
            if not err <= 0.05 * float(ref.abs().max()) + 1e-3:
                return "torchao int8 weight-only linear is off by %.4f" % err
    elif name == "torchcodec":
        c["test"] = "import"
        try:
            import torchcodec
        except Exception as exc:
            root = exc
            while root.__cause__ is not None:
                root = root.__cause__
            text = failure(exc) + ("" if root is exc else " (" + failure(root) + ")")
            low = text.lower()
            if "nvrtc" in low or "libcuda" in low or "libnpp" in low:
                text += ": this torchcodec is a CUDA build without the CUDA libraries it needs; install it from the plan's index"
            elif "ffmpeg" in low or "libav" in low:
                text += ": install FFmpeg 4 to 8 with its shared libraries"
            return text
        own = str(getattr(torchcodec, "__version__", ""))
        c["build"] = label(own) or c["build"]
        if c["pin"] and own and public(own) != public(c["pin"]):
            return "torchcodec.__version__ is %s, the plan pinned %s" % (own, c["pin"])
    return ""
for c in rep["checks"]:
    if c["version"] and c["name"] != "torch":
        try:
            c["error"] = exercise(c)
        except Exception as exc:
            c["error"] = failure(exc)
    c["ok"] = c["version_ok"] and not c["error"]
if installed("numpy"):
    # A torch built against NumPy 1.x cannot use NumPy 2 (torch 2.2.2 on an Intel Mac): it warns
    # "Failed to initialize NumPy" at import, and every array conversion fails later.
    c = {"name": "numpy", "pin": "", "version": installed("numpy"), "build": "",
         "test": "torch.from_numpy", "version_ok": True, "error": "", "ok": True}
    try:
        import numpy
        if torch.from_numpy(numpy.arange(3)).tolist() != [0, 1, 2]:
            c["error"] = "torch.from_numpy(numpy.arange(3)) gave a wrong result"
    except Exception as exc:
        c["error"] = failure(exc)
    if c["error"] and numpy_warning:
        c["error"] += " (import torch warned: %s)" % numpy_warning[0].splitlines()[0][:200]
    c["ok"] = not c["error"]
    if not c["ok"]:
        rep["checks"].append(c)
packages_ok = all(c["ok"] for c in rep["checks"])
rep["ok"] = bool(rep["matmul_ok"]) and rep["device"] == want and packages_ok
emit(0 if rep["ok"] else (3 if rep["matmul_ok"] and packages_ok else 1))
"""


def package_args(packages: Mapping[str, str], *, pinned: bool = True) -> list[str]:
    """The script's arguments after the backend: ``name==version`` each (a bare ``name`` when
    the version is not known or not ``pinned``, as for a source build)."""
    return [
        f"{name}=={version}" if version and pinned else name for name, version in packages.items()
    ]


def verify_argv(
    python: str, backend: str, packages: Mapping[str, str] | None = None, *, pinned: bool = True
) -> list[str]:
    """The verification command for a venv's ``python``, the plan's backend and packages (name
    -> version, as ``Resolved.packages``; none: whichever PyTorch packages are installed)."""
    return [
        python,
        "-I",
        "-c",
        VERIFY_SCRIPT.strip() + "\n",
        backend,
        *package_args(packages or {}, pinned=pinned),
    ]
