"""Isolation: the one place that decides the environment a step runs with.

A step's inputs are its argv and its ``env``, both shown on the preview. What the host adds on top
must not change *what* is resolved, from where, or which interpreter and modules are used, so
every step runs with the inherited environment minus:

- ``PIP_*``: every pip option (``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_CONSTRAINT``,
  ``PIP_PRE``, ``PIP_CONFIG_FILE`` ...);
- ``UV_*``: every uv option (``UV_INDEX``, ``UV_EXTRA_INDEX_URL``, ``UV_TORCH_BACKEND``,
  ``UV_INDEX_STRATEGY``, ``UV_PRERELEASE``, ``UV_OVERRIDE`` ...);
- the interpreter's search path and startup: ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONUSERBASE``,
  ``PYTHONSTARTUP``, ``PYTHONPLATLIBDIR``, ``PYTHONEXECUTABLE``, ``__PYVENV_LAUNCHER__``, and
  ``VIRTUAL_ENV`` (another active environment);

plus the step's own ``env``. Config *files* are not environment: pip steps get ``--isolated`` (no
user config, no ``PIP_*`` even when a command is copied into a configured shell) and
``PIP_CONFIG_FILE`` = the null device (pip then reads no global, site or user file); uv steps get
``--no-config``; Python steps run with ``-I`` (no ``PYTHON*`` variables, no user site, neither the
cwd nor the script's folder on ``sys.path``).

Kept as they are: proxies (``HTTPS_PROXY``, ``NO_PROXY`` ...), CA variables (``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE``), ``PATH``, ``HOME`` and the rest. The network and trust settings that lived
in the removed configuration (pip's ``cert``, ``client-cert``, ``proxy``, ``timeout``,
``retries``, ``trusted-host``, ``cache-dir``; uv's TLS, timeout, retry, insecure-host and cache
variables) are read once by ``host_network`` and written into each step explicitly
(``torch_wizard.plan.model.Network``).

``--format sh`` and ``ps1`` scripts begin by removing the same variables, so a script behaves as
the runner does in any shell.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from torch_wizard.plan.model import Network

REMOVED_PREFIXES = ("PIP_", "UV_")
REMOVED_NAMES = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONSTARTUP",
    "PYTHONPLATLIBDIR",
    "PYTHONEXECUTABLE",
    "__PYVENV_LAUNCHER__",
    "VIRTUAL_ENV",
)
NOTE = (
    "Every step runs without the host's PIP_*, UV_*, PYTHONPATH-like and VIRTUAL_ENV variables, "
    "with pip config files off (--isolated, PIP_CONFIG_FILE) and uv's off (--no-config): only the "
    "argv and env shown decide what is installed. Proxies and CA variables are inherited."
)

# pip option -> the flag that passes it (pip's config keys: ``pip config list``; env PIP_<KEY>).
_PIP_KEYS = {
    "cert": "--cert",
    "client-cert": "--client-cert",
    "proxy": "--proxy",
    "timeout": "--timeout",
    "default-timeout": "--timeout",
    "retries": "--retries",
    "trusted-host": "--trusted-host",
    "cache-dir": "--cache-dir",
}
# uv's network and cache variables (docs.astral.sh/uv/reference/environment/), kept explicitly.
UV_NETWORK = (
    "UV_NATIVE_TLS",
    "UV_SYSTEM_CERTS",
    "UV_HTTP_TIMEOUT",
    "UV_REQUEST_TIMEOUT",
    "UV_HTTP_RETRIES",
    "UV_INSECURE_HOST",
    "UV_CACHE_DIR",
    "UV_NO_CACHE",
    "UV_CONCURRENT_DOWNLOADS",
)
_FALSE = ("", "0", "false", "no", "off")


def removed(name: str) -> bool:
    """Is the inherited variable ``name`` dropped for every step?"""
    upper = name.upper()
    return upper.startswith(REMOVED_PREFIXES) or upper in REMOVED_NAMES


def step_environ(base: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a step: ``base`` (the inherited one) isolated, then ``env``."""
    out = {k: v for k, v in base.items() if not removed(k)}
    out.update(env)
    return out


def null_device(os_name: str) -> str:
    """``os.devnull`` of the target OS (pip compares ``PIP_CONFIG_FILE`` with it)."""
    return "nul" if os_name == "windows" else "/dev/null"


def pip_env(os_name: str) -> dict[str, str]:
    return {"PIP_CONFIG_FILE": null_device(os_name)}


def pip_argv(python: str, network: Network, *args: str) -> tuple[str, ...]:
    """``PYTHON -I -m pip install --isolated ... ARGS NETWORK``: no config, no PIP_* variables,
    nothing from the cwd on sys.path; run it with ``pip_env``."""
    return (
        python,
        "-I",
        "-m",
        "pip",
        "install",
        "--isolated",
        "--disable-pip-version-check",  # it would ask an index of its own accord
        *args,
        *network.pip_args,
    )


# ------------------------------------------------------------------------------------------------
# The host's network settings


def pip_config_files(environ: Mapping[str, str], home: Path) -> list[Path]:
    """pip's global then user config files on this OS, in pip's order (later wins), plus
    ``PIP_CONFIG_FILE``; the site file belongs to the venv, which the plan creates."""
    files: list[Path] = []
    if os.name == "nt":  # pragma: no cover - Windows
        program_data = environ.get("PROGRAMDATA", r"C:\ProgramData")
        files.append(Path(program_data) / "pip" / "pip.ini")
        appdata = environ.get("APPDATA", str(home / "AppData" / "Roaming"))
        user = [home / "pip" / "pip.ini", Path(appdata) / "pip" / "pip.ini"]
    else:
        dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files.extend(Path(d) / "pip" / "pip.conf" for d in dirs.split(":") if d)
        if os.uname().sysname == "Darwin":  # pragma: no cover - macOS
            files.append(Path("/Library/Application Support/pip/pip.conf"))
        files.append(Path("/etc/pip.conf"))
        config_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        user = [home / ".pip" / "pip.conf", Path(config_home) / "pip" / "pip.conf"]
        if os.uname().sysname == "Darwin":  # pragma: no cover - macOS
            user.append(home / "Library" / "Application Support" / "pip" / "pip.conf")
    env_file = environ.get("PIP_CONFIG_FILE", "")
    if env_file == os.devnull:
        return []
    if not (env_file and Path(env_file).exists()):
        files.extend(user)
    if env_file:
        files.append(Path(env_file))
    return files


def _read_pip_config(files: Iterable[Path]) -> tuple[dict[str, str], dict[str, str]]:
    """The network keys the files set (``install`` over ``global``) and which file set each."""
    values: dict[str, str] = {}
    where: dict[str, str] = {}
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path, encoding="utf-8"):
                continue
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                key = key.replace("_", "-")
                if key in _PIP_KEYS or key == "no-cache-dir":
                    values[key] = value.strip()
                    where[key] = str(path)
    return values, where


def host_network(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Network:
    """The network and trust settings of this host's pip and uv configuration (see ``Network``)."""
    environ = os.environ if environ is None else environ
    home = home or Path.home()
    values, where = _read_pip_config(pip_config_files(environ, home))
    for key in (*_PIP_KEYS, "no-cache-dir"):
        name = "PIP_" + key.upper().replace("-", "_")
        if name in environ:
            values[key] = environ[name].strip()
            where[key] = name
    if "timeout" in values:  # pip's own key wins over its alias
        values.pop("default-timeout", None)
    args: list[str] = []
    for key, flag in _PIP_KEYS.items():
        value = values.get(key, "")
        if not value:
            continue
        items = value.split() if key == "trusted-host" else [value]
        for item in items:
            args += [flag, item]
    no_cache = values.get("no-cache-dir", "")
    if no_cache and no_cache.lower() not in _FALSE:
        args.append("--no-cache-dir")
    uv_env = {k: environ[k] for k in UV_NETWORK if environ.get(k)}
    cert = values.get("cert", "")
    if cert and not environ.get("SSL_CERT_FILE"):
        uv_env.setdefault("SSL_CERT_FILE", cert)  # uv reads the CA bundle from SSL_CERT_FILE
    sources = [f"{key} from {where[key]}" for key in values if key in where and values[key]]
    sources += [f"{k} from the environment" for k in uv_env if k in environ]
    return Network(pip_args=tuple(args), uv_env=uv_env, sources=tuple(sources))


# ------------------------------------------------------------------------------------------------
# Script preambles: a script removes the same variables the runner does


def sh_preamble() -> list[str]:
    names = "|".join(REMOVED_NAMES)
    prefixes = "|".join(p.rstrip("_") for p in REMOVED_PREFIXES)
    return [
        "# Isolation: the same host variables the runner removes (see 'torch-wizard plan').",
        f"for tw_var in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' | grep -E '^(({prefixes})_|({names})$)'); do",
        '  unset "$tw_var"',
        "done",
        "unset tw_var",
    ]


def ps1_preamble() -> list[str]:
    prefixes = ", ".join(f"Env:{p}*" for p in REMOVED_PREFIXES)
    names = ", ".join(f"Env:{n}" for n in REMOVED_NAMES)
    return [
        "# Isolation: the same host variables the runner removes (see 'torch-wizard plan').",
        f"Remove-Item {prefixes}, {names} -ErrorAction SilentlyContinue",
    ]
