"""``blocks-tui bench scale``: every figure measured on real caches, processes and a pty, at two small sizes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from blocks_tui.bench.scale import ScaleRow, bench_size, format_scale
from blocks_tui.commands.bench.scale import parse_sizes
from blocks_tui.errors import UsageError


def test_two_small_sizes_measure_every_figure(tmp_path: Path) -> None:
    rows = [bench_size(tmp_path / f"s{c}.h5", c, n, presses=3) for c, n in ((60, 600), (150, 1500))]
    for row in rows:
        assert 0 < row.build_s < 60 and 20 < row.build_mb < 2000  # written here, so measured
        assert 0 < row.first_frame_s < 30 and 20 < row.first_frame_mb < 2000
        assert 0 <= row.outliers_s < 5 and 0 <= row.mislabels_s < 5
        assert 0 < row.summary_s < 30 and 20 < row.summary_mb < 2000
        assert 0 < row.cursor_cpu_s < 1 and 0 < row.zoom_in_cpu_s < 1 and 0 < row.zoom_out_cpu_s < 1
        assert 0 < row.seriation_s < 30 and 0 < row.partition_s < 30 and 0 < row.response_cold_s < 1
        assert 0 < row.layer_s <= row.layer_samples_s < 30 and 20 < row.layers_mb <= row.layers_peak_mb < 2000
    again = bench_size(tmp_path / "s60.h5", 60, 600, presses=2)  # the cache is kept: no second build
    assert math.isnan(again.build_s) and math.isnan(again.build_mb)
    table = format_scale(rows, "test")
    assert "60 x 600" in table and "150 x 1,500" in table and "first frame at 60 classes" in table


def test_goals_at_ten_thousand_classes_are_checked() -> None:
    big = ScaleRow(10_000, 1_000_000, math.nan, math.nan, 6.1, 3200.0, 0.55, 0.2, 1.7, 150.0)
    table = format_scale([big], "test")
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    assert lines["first frame"].endswith("≤ 3.00 s MISSED")
    assert lines["RSS at first frame"].endswith("≤ 600 MB MISSED")
    assert lines["o ranking"].endswith("≤ 1.00 s ok") and lines["summary"].endswith("≤ 2.00 s ok")
    assert lines["cursor key CPU"].endswith("≤ 10.0 ms –")  # not measured: neither ok nor missed


def test_sizes_are_pairs_of_classes_and_samples() -> None:
    assert parse_sizes("1000x50000,10000x1000000") == [(1000, 50000), (10000, 1000000)]
    for bad in ("1000", "10x5", "axb"):
        with pytest.raises(UsageError):
            parse_sizes(bad)
