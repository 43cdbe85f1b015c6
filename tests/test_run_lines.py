"""Output normalisation and progress parsing (pure functions over real-shaped output)."""

from __future__ import annotations

from torch_wizard.run.lines import (
    MAX_DISPLAY,
    LineSplitter,
    ProgressParser,
    display_line,
    strip_ansi,
)


def test_splits_lines_across_chunks_and_keeps_partial() -> None:
    s = LineSplitter()
    assert s.feed(b"hel") == []
    assert s.feed(b"lo\nwor") == ["hello"]
    assert s.feed(b"ld\n") == ["world"]
    assert s.flush() == []


def test_carriage_return_progress_keeps_last_segment() -> None:
    s = LineSplitter()
    out = s.feed(b"  10%\r  50%\r 100%\r\ndone\r\n")
    assert out == [" 100%", "done"]


def test_carriage_returns_without_newline_do_not_grow_memory() -> None:
    s = LineSplitter()
    for i in range(10_000):
        s.feed(f"\rprogress {i}".encode())
    assert s.flush() == ["progress 9999"]


def test_ansi_is_stripped() -> None:
    raw = "\x1b[1;31mERROR:\x1b[0m bad \x1b]8;;http://x\x07link\x1b]8;;\x07\x1b[2K"
    assert strip_ansi(raw) == "ERROR: bad link"
    assert display_line("\x1b[32m✓\x1b[0m ok") == "✓ ok"


def test_utf8_split_across_chunks() -> None:
    s = LineSplitter()
    data = "Größe: ✓\n".encode()
    out = []
    for i in range(len(data)):
        out += s.feed(data[i : i + 1])
    assert out == ["Größe: ✓"]


def test_line_longer_than_64k_is_cut_once_and_the_rest_skipped() -> None:
    s = LineSplitter()
    out = []
    for _ in range(10):
        out += s.feed(b"x" * 100_000)
    out += s.feed(b"tail\nnext\n")
    assert len(out) == 2
    assert out[0].startswith("x" * 100) and len(out[0]) <= MAX_DISPLAY + 2
    assert out[1] == "next"


def test_pip_raw_progress_names_the_file() -> None:
    p = ProgressParser("pip")
    r, hide = p.read(
        "  Downloading http://127.0.0.1:1/whl/cpu/torch/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl (191.0 MB)"
    )
    assert not hide and r is not None and r.label.startswith("torch-2.13.0+cpu-cp311")
    r, hide = p.read("Progress 1048576 of 191000000")
    assert hide and r is not None
    assert (r.done, r.total) == (1048576, 191000000)
    assert r.label.startswith("torch-2.13.0+cpu")


def test_ninja_counter_and_no_progress_for_plain_steps() -> None:
    r, hide = ProgressParser("ninja").read("[123/4567] Building CXX object caffe2/foo.o")
    assert r is not None and (r.done, r.total, r.label) == (123, 4567, "build") and not hide
    assert ProgressParser("").read("Progress 1 of 2") == (None, False)


# What uv 0.13.9 prints through a pipe for the CPU plan against the local index (stderr and stdout
# together, as the runner reads them): no byte counts, one line per large download's start and end.
UV_PIPE = """Using Python 3.11.7 environment at: /tmp/v
Resolved 10 packages in 3.08s
Downloading torch (182.9MiB)
Downloading networkx (2.0MiB)
Downloading sympy (6.0MiB)
 Downloaded networkx
 Downloaded sympy
 Downloaded torch
Prepared 10 packages in 2.38s
Installed 10 packages in 290ms
 + torch==2.13.0+cpu"""


def test_uv_download_lines_become_whole_download_progress() -> None:
    p = ProgressParser("uv")
    readings = [r for r, hide in map(p.read, UV_PIPE.splitlines()) if r is not None and not hide]
    mib = 1024 * 1024
    torch, nx, sympy = round(182.9 * mib), 2 * mib, 6 * mib
    assert [(r.done, r.total) for r in readings] == [
        (0, torch),
        (0, torch + nx),
        (0, torch + nx + sympy),
        (nx, torch + nx + sympy),
        (nx + sympy, torch + nx + sympy),
        (torch + nx + sympy,) * 2,
        (torch + nx + sympy,) * 2,  # Prepared: every download is in
    ]
    # The label names what is still coming, largest first, and how many are done.
    assert readings[2].label == "torch, sympy, networkx (0 of 3 downloads)"
    assert readings[4].label == "torch (2 of 3 downloads)"
    assert readings[-1].label == "3 of 3 downloads"
    # No line is hidden: uv's lines are the log a person reads.
    assert all(not hide for _, hide in map(ProgressParser("uv").read, UV_PIPE.splitlines()))


def test_uv_sizes_units_and_unknown_sizes() -> None:
    from torch_wizard.run.lines import uv_size

    assert uv_size("1.5", "KiB") == 1536 and uv_size("2.0", "GiB") == 2 * 1024**3
    assert uv_size("512", "B") == 512
    p = ProgressParser("uv")
    r, _ = p.read("Downloading nvidia-cudnn-cu12 (1.1GiB)")
    assert r is not None and r.total == round(1.1 * 1024**3)
    r, _ = p.read("Downloading some-sdist")  # uv names a download of unknown size bare
    assert r is not None and r.total == round(1.1 * 1024**3) and "some-sdist" in r.label
    r, _ = p.read(" Downloaded some-sdist")
    assert r is not None and r.done == 0 and r.label == "nvidia-cudnn-cu12 (1 of 2 downloads)"
    # A line that only looks alike is not progress, nor is an end without its start.
    assert p.read("Downloading the internet, please wait")[0] is None
    assert p.read(" Downloaded never-started")[0] is None
    assert ProgressParser("uv").read("Prepared 3 packages in 1s")[0] is None  # nothing announced


def test_plain_lines_take_the_fast_path_and_match_the_full_cleaning() -> None:
    from torch_wizard.run.lines import _last_redraw, display_line, strip_ansi

    samples = ["Collecting torch==2.13.0  ", "Ünïcode ✓ line", "x" * 5000, "", "   "]
    for raw in samples:
        slow = _last_redraw(strip_ansi(raw)).rstrip()
        slow = slow if len(slow) <= 4096 else slow[:4096] + " …"
        assert display_line(raw) == slow
