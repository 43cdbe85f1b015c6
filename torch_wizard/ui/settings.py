"""What the wizard remembers between runs: a small JSON file beside the user config.

``ui.json`` in the user config directory (``platformdirs.user_config_dir("torch-wizard")``:
``$XDG_CONFIG_HOME/torch-wizard`` on Linux) holds UI preferences only, the theme today. It is a
file of its own so that it never touches ``config.toml``, which holds answers a person writes.
Reading never fails: a missing, unreadable or malformed file is the same as no file. Nothing
here imports Textual.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FILE_NAME = "ui.json"
DEFAULT_THEME = "textual-dark"


def config_dir() -> Path:
    from platformdirs import user_config_dir

    # roaming: the same folder as the user config (torch_wizard.answers.config_path) on Windows too
    return Path(user_config_dir("torch-wizard", appauthor=False, roaming=True))


def settings_path(folder: str | os.PathLike[str] | None = None) -> Path:
    return Path(folder) / FILE_NAME if folder else config_dir() / FILE_NAME


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(path: Path, **values: Any) -> str:
    """Merge ``values`` into the file; "" when saved, else why not (the UI says it once)."""
    data = load(path)
    data.update(values)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        return f"could not remember the theme in {path}: {err.strerror}"
    return ""


def initial_theme(
    known: set[str] | frozenset[str],
    saved: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> str:
    """The theme to start with: ``TEXTUAL_THEME`` (this session asked), else the one remembered,
    else the default; a name that is not a known theme is skipped."""
    env = os.environ if environ is None else environ
    for name in (env.get("TEXTUAL_THEME", ""), saved.get("theme", "")):
        if isinstance(name, str) and name in known:
            return name
    return DEFAULT_THEME
