"""The sparse confusion paths give exactly what the dense arrays gave: counts, cell filters, samples, pyramids."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis import CellCounts, ConfusionFilter, Pyramid, bin_edges, filtered_confusion
from blocks_tui.analysis.pyramid import summed_area_table

N_CLASSES = 40


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, np.ndarray]:
    """Labels and top-1 predictions, clustered like a real confusion matrix: near the diagonal, some far off."""
    rng = np.random.default_rng(7)
    labels = rng.integers(0, N_CLASSES, 3000)
    near = np.clip(labels + rng.integers(-2, 3, len(labels)), 0, N_CLASSES - 1)
    far = rng.integers(0, N_CLASSES, len(labels))
    return labels, np.where(rng.random(len(labels)) < 0.9, near, far)


def brute_counts(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    dense = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
    np.add.at(dense, (labels, predicted), 1)
    return dense


def test_cells_hold_the_dense_counts(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    labels, predicted = pairs
    brute = brute_counts(labels, predicted)
    cells = CellCounts.of_pairs(labels, predicted, N_CLASSES)
    assert len(cells) == np.count_nonzero(brute) and cells.total == len(labels)
    assert np.array_equal(cells.dense(), brute)
    assert np.all(np.diff(cells.codes) > 0) and (cells.count > 0).all()  # sorted, unique, no zeros
    assert np.array_equal(CellCounts.of_dense(brute).codes, cells.codes)
    assert cells.at(3, 4) == brute[3, 4] and cells.at(0, N_CLASSES - 1) == brute[0, -1]
    assert np.array_equal(cells.row_totals, brute.sum(axis=1))
    assert np.array_equal(cells.diagonal, np.diag(brute))
    rows, columns = np.array([5, 1, 9]), np.array([2, 9, 1, 30])
    assert np.array_equal(cells.dense(rows, columns), brute[np.ix_(rows, columns)])
    assert cells.sum_within(rows, columns) == brute[np.ix_(rows, columns)].sum()
    assert CellCounts.empty(N_CLASSES).dense().sum() == 0 and CellCounts.empty(3).at(1, 1) == 0


@pytest.mark.parametrize("diagonal,min_count", [(True, 0), (False, 0), (True, 3), (False, 5)])
def test_cell_filters_match_the_dense_ones(pairs: tuple[np.ndarray, np.ndarray], diagonal: bool,
                                           min_count: int) -> None:
    labels, predicted = pairs
    want = brute_counts(labels, predicted)
    if not diagonal:
        np.fill_diagonal(want, 0)
    want[want < min_count] = 0
    cells = CellCounts.of_pairs(labels, predicted, N_CLASSES)
    assert np.array_equal(cells.shown(diagonal, min_count).dense(), want)
    topk = np.stack([predicted, (predicted + 1) % N_CLASSES], axis=1)
    flt = ConfusionFilter(diagonal=diagonal, min_count=min_count)
    assert np.array_equal(filtered_confusion(labels, topk, N_CLASSES, flt).matrix, want)


@pytest.mark.parametrize("rows,columns", [
    (np.arange(2, 5), np.arange(3, 6)),  # fewer cells than the list holds: looked up one by one
    (np.arange(0, 35), np.arange(3, 40)),  # a block of most classes: the list is walked
    (np.array([7]), np.array([7])),
])
def test_block_samples_match_brute_force_on_both_paths(pairs: tuple[np.ndarray, np.ndarray], rows: np.ndarray,
                                                       columns: np.ndarray) -> None:
    labels, predicted = pairs
    fc = filtered_confusion(labels, predicted[:, None], N_CLASSES)
    shown = fc.cells.shown(diagonal=False, min_count=2)
    counts = brute_counts(labels, predicted)
    keep = (counts[labels, predicted] >= 2) & (labels != predicted)
    want = np.flatnonzero(np.isin(labels, rows) & np.isin(predicted, columns) & keep)
    assert np.array_equal(fc.block_samples(rows, columns, shown=shown), want)
    every = np.flatnonzero(np.isin(labels, rows) & np.isin(predicted, columns))
    assert np.array_equal(fc.block_samples(rows, columns), every)


def test_cell_samples_are_the_cells_samples(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    labels, predicted = pairs
    fc = filtered_confusion(labels, predicted[:, None], N_CLASSES)
    for true, guess in [(3, 3), (3, 5), (0, 39), (39, 0)]:
        want = np.flatnonzero((labels == true) & (predicted == guess))
        assert np.array_equal(fc.cell_samples(true, guess), want)


def test_a_pyramid_from_cells_bins_like_the_summed_area_table(pairs: tuple[np.ndarray, np.ndarray]) -> None:
    labels, predicted = pairs
    brute = brute_counts(labels, predicted)
    cells = CellCounts.of_pairs(labels, predicted, N_CLASSES)
    order = np.random.default_rng(3).permutation(N_CLASSES)
    sparse = Pyramid.from_cells(cells.true, cells.predicted, cells.count, (N_CLASSES, N_CLASSES), order, order)
    table = summed_area_table(brute[np.ix_(order, order)])
    for rows, columns in [((0, 40), (0, 40)), ((5, 17), (0, 40)), ((5, 17), (9, 31)), ((39, 40), (0, 1))]:
        for n_bins in (1, 3, 7, 40):
            got = sparse.view(n_bins, n_bins, rows=rows, columns=columns)
            r, c = bin_edges(*rows, n_bins), bin_edges(*columns, n_bins)
            t = table[np.ix_(r, c)]
            assert np.array_equal(got, t[1:, 1:] - t[:-1, 1:] - t[1:, :-1] + t[:-1, :-1])
            assert got.dtype == np.int64
    repeated = np.array([0, 4, 4, 40])  # an empty bin between two edges takes no cells
    got = sparse.bins(repeated, repeated)
    assert got[1].sum() == 0 and got[:, 1].sum() == 0 and got.sum() == len(labels)
    assert np.array_equal(sparse.level(0), brute[np.ix_(order, order)])
    assert np.array_equal(sparse.level(2), Pyramid(brute, order, order).level(2))
    with pytest.raises(ValueError, match="within the 40x40"):
        Pyramid.from_cells(np.array([40]), np.array([0]), np.array([1]), (N_CLASSES, N_CLASSES))

