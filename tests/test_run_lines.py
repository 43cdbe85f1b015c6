"""Output normalisation and progress parsing (pure functions over real-shaped output)."""

from __future__ import annotations

from wizard.run.lines import MAX_DISPLAY, LineSplitter, ProgressParser, display_line, strip_ansi


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
    r, _ = ProgressParser("uv").read("Downloading torch (191.0MiB)")
    assert r is not None and r.label == "torch"


def test_plain_lines_take_the_fast_path_and_match_the_full_cleaning() -> None:
    from wizard.run.lines import _last_redraw, display_line, strip_ansi

    samples = ["Collecting torch==2.13.0  ", "Ünïcode ✓ line", "x" * 5000, "", "   "]
    for raw in samples:
        slow = _last_redraw(strip_ansi(raw)).rstrip()
        slow = slow if len(slow) <= 4096 else slow[:4096] + " …"
        assert display_line(raw) == slow
