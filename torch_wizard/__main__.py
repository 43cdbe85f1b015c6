"""``python -m torch_wizard`` and the ``torch-wizard`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    from torch_wizard.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
