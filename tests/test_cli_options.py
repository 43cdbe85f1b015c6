"""Options are taken only as spelled: no argparse abbreviations, at the top level or in a
subcommand, so ``--conf x`` is read neither as ``--config`` nor as ``--configure-only`` (exit 2,
one line)."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, run_cli


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--conf", "x"], "--conf"),  # --config (answers file) or --configure-only
        (["--dry"], "--dry"),  # --dry-run
        (["plan", "--form", "json"], "--form"),  # --format
        (["plan", "--configure"], "--configure"),  # --configure-only
        (["install", "--ye"], "--ye"),  # --yes
        (["detect", "--js"], "--js"),  # --json
        (["doctor", "--ven", "x"], "--ven"),  # --venv
    ],
)
def test_abbreviated_options_are_unknown(args: list[str], named: str) -> None:
    r = run_cli(*args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert "unknown option" in lines[0] or "unrecognized arguments" in lines[0]
    assert r.stdout == ""


def test_full_spellings_still_work() -> None:
    r = run_cli("--root", str(FIXTURES / "machines" / "cpu-server"), "detect", "--json")
    assert r.returncode == 0, r.stderr
