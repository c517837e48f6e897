"""Names cut to fit never become the same text (issue 16: every caption of a 1000-class cache read `class-`)."""

from __future__ import annotations

from rich.cells import cell_len

from blocks_tui.short_names import distinct_shortenings, shorten


def test_a_name_that_fits_is_whole_and_one_that_does_not_keeps_head_and_tail() -> None:
    assert shorten("bus", 6) == "bus"
    assert shorten("missile", 6) == "mi…ile" and shorten("missiles", 6) == "mi…les"
    assert shorten("class-00383", 8) == "cla…0383" and cell_len(shorten("東京都庁舎", 5)) <= 5
    assert shorten("anything", 1) == "…" and shorten("anything", 0) == ""


def test_a_thousand_names_with_one_prefix_stay_distinct_in_six_cells() -> None:
    names = [f"class-{i:05d}" for i in range(1000)]
    short = distinct_shortenings(names, 6)
    assert len(set(short)) == 1000 and all(cell_len(s) <= 6 for s in short)
    assert short[383] == "cl…383"


def test_names_that_differ_only_at_the_start_or_in_the_middle() -> None:
    assert len(set(distinct_shortenings(["red-blob-texture", "yellow-blob-texture"], 8))) == 2
    middle = distinct_shortenings(["aaaaaXaaaaa", "aaaaaYaaaaa"], 5)
    assert len(set(middle)) == 2 and all(cell_len(s) <= 5 for s in middle)
    assert distinct_shortenings(["same-long-name", "same-long-name"], 6) == ["sa…ame"] * 2  # one name twice


def test_each_name_may_have_its_own_width() -> None:
    short = distinct_shortenings(["triangle", "triangles", "square"], [5, 5, 8])
    assert short[0] != short[1] and short[2] == "square" and all(cell_len(s) <= 5 for s in short[:2])


def test_the_mislabel_tables_top_5_keeps_numbered_names_apart() -> None:
    from blocks_tui.analysis.triage import MislabelRow, mislabel_cells

    names = [f"class-{i:05d}" for i in range(1000)]
    row = MislabelRow(7, 383, 384, 0.6, 0.1, 1.8, True, (384, 383, 385, 386, 3), (0.6, 0.1, 0.1, 0.1, 0.05))
    top = mislabel_cells(1, row, names)[-1]
    assert "class-00384 60%" in top and "class-00383 10%" in top  # 11 cells: whole, not `class-0038`
