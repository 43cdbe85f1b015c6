"""``torch-wizard config path``: where the user config is read from (it need not exist yet).

The user config holds personal defaults with the keys of an answers file (``torch_wizard.answers``):
``$TORCH_WIZARD_CONFIG`` when set, else the per-OS config folder.
"""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from torch_wizard.answers import config_path

    sys.stdout.write(f"{config_path()}\n")
    return 0
