"""Run every torch-wizard benchmark side by side and print one markdown table of medians and ratios.

    .venv/bin/python bench/run.py            # full: 15 repetitions of the fast ones, 3 installs each
    .venv/bin/python bench/run.py --quick    # 5 repetitions, 1 install each
    .venv/bin/python bench/run.py --only cli,ui,runner   # some sections (cli ui runner install disk)

Writes bench/results.md (the table, the machine, notes); ``--readme`` also replaces the
"## Benchmarks" section of README.md. Ratios are computed within the same run. A benchmark whose
piece does not exist yet prints a "not available yet" row; one that breaks prints an "error" row.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import b_cli, b_disk, b_install, b_runner, b_ui
from bench.common import BENCH, REPO, Context, NotAvailable, Row, machine_info, markdown_table

SECTIONS: dict[str, tuple[str, Callable[[Context], list[Row]]]] = {
    "cli": (b_cli.SECTION, b_cli.run),
    "ui": (b_ui.SECTION, b_ui.run),
    "runner": (b_runner.SECTION, b_runner.run),
    "install": (b_install.SECTION, b_install.run),
    "disk": (b_disk.SECTION, b_disk.run),
}
COMMAND = ".venv/bin/python bench/run.py"
README_INTRO = """\
`bench/` measures the wizard against the raw commands and its peers, all side by side in one run,
and prints medians and ratios computed within that run (the latest table is in
[bench/results.md](https://github.com/torch-wizard/torch-wizard/blob/main/bench/results.md)). It is not part of the pytest run. What it measures:

1. whole-process start-up of `detect --json` and `plan --format json` against `python -c pass`
   (with the heaviest imports from `python -X importtime`);
2. time to the first interactive screen, through Pilot (`App.run_test`) and a real terminal (a
   detached 100x30 tmux session polled with `capture-pane`), against a minimal Textual app;
3. the runner with a child printing 1,000,000 lines (log file + events) against the same child
   writing to `/dev/null`, and the Run screen under that load: the longest pause between 20 ms
   timer ticks, and peak RSS;
4. installing torch 2.13.0 CPU into a fresh venv from a local index on 127.0.0.1 (no host pip
   config, empty caches): the wizard against the same commands by hand (pip and uv), the wizard's
   default against the plain official recipe, and venv creation by `venv`, `virtualenv`, `uv`;
5. disk: the CPU plan against a bare `pip install torch` on Linux x86_64 from PyPI (resolved with
   `pip install --dry-run --report`, sizes from PyPI, cached in `bench/cache/` for offline runs).

"""


def run_sections(ctx: Context, names: list[str]) -> list[Row]:
    rows: list[Row] = []
    for key in names:
        title, fn = SECTIONS[key]
        t0 = time.perf_counter()
        print(f"[bench] {title} ...", file=sys.stderr, flush=True)
        try:
            got = fn(ctx)
        except NotAvailable as err:
            got = [Row(title, key, status=f"not available yet: {err}")]
        except Exception as err:  # one broken benchmark must not hide the others
            traceback.print_exc()
            got = [Row(title, key, status=f"error: {type(err).__name__}: {str(err)[:160]}")]
        rows.extend(got)
        print(f"[bench] {title}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return rows


def report(rows: list[Row], ctx: Context, mode: str) -> str:
    info = machine_info()
    lines = [
        f"Reproduce: `{COMMAND}"
        + (" --quick" if mode == "quick" else "")
        + "`"
        + f" ({mode} run: medians of {ctx.reps_fast} runs for the fast benchmarks, "
        + f"{ctx.reps_slow} per install variant; ratios from the same run).",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".",
        "",
        markdown_table(rows),
    ]
    if ctx.notes:
        lines += ["", "Notes:", "", *[n for n in ctx.notes if n.startswith("-")]]
    return "\n".join(lines) + "\n"


def write_results(text: str) -> Path:
    out = BENCH / "results.md"
    out.write_text("# torch-wizard benchmarks: latest results\n\n" + text)
    return out


def update_readme(text: str) -> None:
    readme = REPO / "README.md"
    body = readme.read_text()
    section = "## Benchmarks\n\n" + README_INTRO + text
    start = body.find("\n## Benchmarks\n")
    if start < 0:
        body = body.rstrip("\n") + "\n\n" + section
    else:
        end = body.find("\n## ", start + 1)
        rest = body[end:] if end >= 0 else "\n"
        body = body[: start + 1] + section + ("\n" + rest.lstrip("\n") if end >= 0 else "")
    readme.write_text(body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (1 install each)")
    ap.add_argument("--only", default="", help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--no-write", action="store_true", help="print only; leave results.md alone")
    ap.add_argument(
        "--readme", action="store_true", help="also update README.md's Benchmarks section"
    )
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    bad = [n for n in names if n not in SECTIONS]
    if bad:
        print(f"bench: unknown section {bad[0]!r}: use {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="twbench-") as tmp:
        ctx = Context(
            quick=args.quick,
            reps_fast=5 if args.quick else 15,
            reps_slow=1 if args.quick else 3,
            tmp=Path(tmp),
        )
        t0 = time.perf_counter()
        rows = run_sections(ctx, names)
        text = report(rows, ctx, mode)
    print(text)
    print(f"[bench] total {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if not args.no_write:
        print(f"[bench] wrote {write_results(text).relative_to(REPO)}", file=sys.stderr)
        if args.readme:
            update_readme(text)
            print("[bench] updated README.md ## Benchmarks", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
