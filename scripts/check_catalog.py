#!/usr/bin/env python3
"""Check the bundled catalog against PyPI or a PyTorch index: the code lives in the package,
``torch_wizard/catalog/check.py`` (see its docstring for every option), and ``torch-wizard catalog
check`` is the installed command. This wrapper runs the same ``main`` from a checkout, including
the maintainers' ``--write`` (update releases.json from PyPI) and ``--data``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from torch_wizard.catalog.check import main

if __name__ == "__main__":
    sys.exit(main())
