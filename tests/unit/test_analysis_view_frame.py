"""Frames of the matrix (analysis/view_frame): bins, block borders, colour levels, bands and gutter."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis import Pyramid
from blocks_tui.analysis.view_frame import (
    BLOCK,
    EMPTY,
    FN_BAND,
    FP_BAND,
    GUTTER,
    LEVEL0,
    NODE_BLOCK,
    aligned_edges,
    frame_layout,
    matrix_frame,
    scale_levels,
)

# A known 4x4 matrix: two 2-class blocks, one off-block cell (row 3 → column 0).
KNOWN = np.array([[0, 5, 0, 0],
                  [1, 0, 0, 0],
                  [0, 0, 0, 2],
                  [9, 0, 4, 0]])


def test_aligned_edges_put_block_borders_between_bins() -> None:
    edges = aligned_edges(0, 1000, 120, [0, 41, 269, 308])
    assert edges[0] == 0 and edges[-1] == 1000 and np.all(np.diff(edges) > 0)
    assert {41, 269, 308} <= set(edges.tolist())
    assert aligned_edges(10, 14, 120, [12]).tolist() == [10, 11, 12, 13, 14]  # one bin per class


def test_scale_levels_keep_zero_as_background() -> None:
    values = np.array([0, 1, 2, 50, 100])
    assert scale_levels(values, 10).tolist() == [-1, 0, 0, 4, 9]
    log = scale_levels(values, 10, "log")
    assert log[0] == -1 and log[1] > 0 and log[-1] == 9  # log lifts the small counts
    with pytest.raises(ValueError, match="scale"):
        scale_levels(values, 10, "sqrt")


def test_frame_layout_bins_and_magnifies() -> None:
    assert frame_layout(1000, 200, 60, 3) == (120, 1)  # binned: 2 half rows per line
    assert frame_layout(34, 52, 21, 3) == (34, 1)
    assert frame_layout(5, 52, 21, 0) == (5, 8)  # few classes: each bin 8 columns x 8 half rows


def test_frame_codes_blocks_bands_and_gutter() -> None:
    pyramid = Pyramid(KNOWN)
    groups = [np.array([1, 1, 4, 4])]
    frame = matrix_frame(pyramid, 0, 4, 4, blocks=[(0, 2), (2, 4)], groups=groups, n_levels=10)
    c = frame.codes
    assert c[0, 1] == LEVEL0 + 5 and c[3, 0] == LEVEL0 + 9  # 5 of 9 → level 5, the maximum → 9
    assert c[0, 0] == BLOCK and c[2, 2] == BLOCK  # empty and inside a diagonal block
    assert c[0, 2] == EMPTY and c[2, 0] == EMPTY  # empty and between blocks
    assert frame.gutter[:, 0].tolist() == [GUTTER, GUTTER, GUTTER + 1, GUTTER + 1]
    banded = matrix_frame(pyramid, 0, 4, 4, blocks=[(0, 2), (2, 4)], band=(0, 2), n_levels=10)
    b = banded.codes
    assert b[0, 0] == NODE_BLOCK  # the node's own block
    assert b[0, 2] == FN_BAND and b[1, 3] == FN_BAND  # its rows: false negatives
    assert b[2, 0] == FP_BAND and b[2, 1] == FP_BAND  # its columns: false positives
    assert b[2, 2] == BLOCK and b[3, 0] == LEVEL0 + 9  # counts keep their colour inside a band


def test_binned_frame_sums_exactly() -> None:
    rng = np.random.default_rng(0)
    m = rng.integers(0, 5, (50, 50))
    order = rng.permutation(50)
    frame = matrix_frame(Pyramid(m, order, order), 10, 40, 7)
    assert frame.counts.sum() == m[np.ix_(order[10:40], order[10:40])].sum()
    assert frame.bin_of(10) == 0 and frame.bin_of(39) == frame.bins - 1
