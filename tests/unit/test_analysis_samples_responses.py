"""The analysis behind the sample pane and the response map, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis import ResponseIndex, Tree, filtered_confusion, group_metrics, metric_change, rank_change
from blocks_tui.analysis.pyramid import bin_edges
from blocks_tui.analysis.relevance import relevance_order
from blocks_tui.analysis.response_view import (
    build_layer_view,
    cell_quantiles,
    cell_ranks,
    node_channel_means,
    rank_levels,
    blocked_response_rows,
    position_block_sums,
    response_rows,
    scaled_cells,
    threshold_levels,
)
from blocks_tui.analysis.sample_selection import group_by_class, outcome_agreement, outcomes

from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT


@pytest.fixture
def samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 30, 3000)
    predicted = np.where(rng.random(3000) < 0.6, labels, rng.integers(0, 30, 3000))
    topk = np.stack([predicted] + [rng.integers(0, 30, 3000) for _ in range(4)], axis=1)
    return labels, topk


def test_group_samples_are_the_tp_fn_fp_of_the_group(samples: tuple[np.ndarray, np.ndarray]) -> None:
    labels, topk = samples
    fc = filtered_confusion(labels, topk, 30)
    group = np.array([2, 5, 7, 11, 12])
    truly, into = np.isin(labels, group), np.isin(topk[:, 0], group)
    assert np.array_equal(fc.group_samples(group, "tp"), np.flatnonzero(truly & into))
    assert np.array_equal(fc.group_samples(group, "fn"), np.flatnonzero(truly & ~into))
    assert np.array_equal(fc.group_samples(group, "fp"), np.flatnonzero(~truly & into))
    with pytest.raises(ValueError, match="part must be one of"):
        fc.group_samples(group, "tn")


def test_block_samples_follow_the_shown_cells(samples: tuple[np.ndarray, np.ndarray]) -> None:
    labels, topk = samples
    fc = filtered_confusion(labels, topk, 30)
    shown = fc.cells.shown(diagonal=False)  # the viewer's "no diagonal"
    rows, cols = np.arange(0, 6), np.arange(3, 9)
    want = np.flatnonzero(np.isin(labels, rows) & np.isin(topk[:, 0], cols) & (labels != topk[:, 0]))
    assert np.array_equal(fc.block_samples(rows, cols, shown=shown), want)


def test_outcomes_and_changes_between_result_sets() -> None:
    labels = np.array([0, 1, 2, 3])
    a = np.array([[0, 1], [0, 1], [1, 0], [0, 1]])
    b = np.array([[1, 0], [1, 0], [2, 0], [3, 0]])
    assert outcomes(labels, a, np.arange(4), k=2).tolist() == [0, 1, 2, 2]
    both = [a[:, 0], b[:, 0]]  # each set's top-1
    assert outcome_agreement(labels, both, 0, np.arange(4), "right-only-here").tolist() == [0]  # right in A only
    assert outcome_agreement(labels, both, 0, np.arange(4), "wrong-only-here").tolist() == [1, 2, 3]


def test_grouping_by_class_keeps_rank_order_and_biggest_first() -> None:
    labels = np.array([0, 1, 1, 0, 0, 2, 0, 0, 0, 2])
    groups = group_by_class(np.array([5, 9, 1, 2, 3]), labels)
    assert groups.classes.tolist() == [2, 1, 0] and groups.counts.tolist() == [2, 2, 1]
    assert groups.representative.tolist() == [5, 1, 3]  # each class's best-ranked sample
    assert [m.tolist() for m in groups.members] == [[5, 9], [1, 2], [3]]
    assert len(group_by_class(np.array([], dtype=np.int64), labels)) == 0


def test_top_samples_per_channel_match_a_full_sort() -> None:
    rng = np.random.default_rng(0)
    collective = rng.random((4000, 12)).astype(np.float16)
    collective[:30, 4] = collective[:, 4].max()  # a run of ties at the top
    top = ResponseIndex(collective).top_samples(20)
    for c in range(12):
        want = np.lexsort((np.arange(4000), -collective[:, c].astype(np.float32)))[:20]
        assert np.array_equal(top[c], want)


def test_scaled_cells_rows_and_threshold_levels() -> None:
    cm = np.zeros((3, 2, 2, 2), dtype=np.float32)
    cm[:, 0] = np.array([1.0, 2.0, 5.0])[:, None, None]
    cm[2, 1, 0, 0] = 8.0
    cells = scaled_cells(cm)
    assert cells.shape == (3, 2, 4)
    assert np.allclose(cells[:, 0, 0], [0.0, 0.25, 1.0])  # each neuron over its own range
    assert cells[2, 1, 0] == 1.0 and cells[0, 1, 0] == 0.0
    order, edges = np.array([2, 0, 1]), np.array([0, 1, 3])
    rows = response_rows(cells, order, edges, np.array([1, 0]))
    assert rows.shape == (2, 8)
    assert np.allclose(rows[0, :4], cells[2, 1]) and np.allclose(rows[1, 4:], cells[[0, 1], 0].mean(axis=0))
    assert threshold_levels(np.array([0.0, 0.2, 0.49, 0.5, 1.0]), 0.5, 8).tolist() == [0, 3, 7, 8, 8]
    # gamma 3: half-way to T is an eighth of the way up the ramp; just under T is still its top step
    assert threshold_levels(np.array([0.25, 0.49, 0.5]), 0.5, 8, gamma=3.0).tolist() == [1, 7, 8]
    assert relevance_order(np.array([0.5, np.nan, 2.0, 0.5])).tolist() == [2, 0, 3, 1]


def test_cell_ranks_are_the_share_of_a_neurons_cells_below() -> None:
    rng = np.random.default_rng(5)
    cells = rng.random((40, 3, 4)).astype(np.float32) ** 3  # skewed, as class means are
    cells[:, 2] = 0.0
    cells[:8, 2, 0] = 0.7  # a sparse neuron: silent on most cells
    table = cell_quantiles(cells)
    channels = np.array([1, 0, 2])
    values = cells[:, channels].reshape(40, -1)
    ranks = cell_ranks(values, channels, table, 4)
    for k, c in enumerate(channels):
        own = cells[:, c].ravel()
        below = (own[None, :] < cells[:, c][..., None]).mean(axis=-1)  # exact share below each cell
        assert np.abs(ranks[:, 4 * k : 4 * k + 4] - below).max() <= 2 / table.shape[1]
    sparse = ranks[:, 8:]
    assert (sparse[cells[:, 2] == 0] == 0).all()  # ties are not exceeded: silent cells stay dark
    for c in (0, 1):  # T = 0.9 paints a neuron's top tenth, wherever its values sit
        assert abs((ranks[:, 4 * list(channels).index(c):][:, :4] >= 0.9).mean() - 0.1) <= 0.02


@pytest.mark.parametrize("threshold", [0.05, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("gamma", [1.0, 3.0])
def test_rank_levels_are_the_threshold_levels_of_the_ranks(threshold: float, gamma: float) -> None:
    rng = np.random.default_rng(7)
    cells = rng.random((60, 5, 9)).astype(np.float32) ** 2
    cells[:30, 4] = 0.0  # ties at zero
    table = cell_quantiles(cells)
    channels = np.array([4, 0, 3])
    values = np.concatenate([cells[:, channels].reshape(60, -1),  # the cells themselves, then bin means
                             cells[:, channels].reshape(6, 10, -1).mean(axis=1)])
    want = threshold_levels(cell_ranks(values, channels, table, 9), threshold, 16, gamma)
    got = rank_levels(values, channels, table, 9, threshold, 16, gamma)
    assert np.array_equal(got, want)
    assert (got[:30, :9] == 0).all()  # the silent cells of neuron 4


def test_cell_quantiles_of_a_large_layer_come_from_a_sample() -> None:
    rng = np.random.default_rng(6)
    cells = rng.random((5000, 2, 9)).astype(np.float32)
    cells[:, 1] **= 4
    table = cell_quantiles(cells, max_cells=4096)
    exact = cell_quantiles(cells, max_cells=cells.shape[0] * 9)
    assert table.shape == exact.shape == (2, 512)
    assert np.abs(table - exact).max() < 0.05
    assert np.array_equal(table, cell_quantiles(cells, max_cells=4096))  # a fixed seed: the same every time


def test_cell_quantiles_are_the_same_sorted_a_few_channels_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from blocks_tui.analysis import response_view

    cells = np.random.default_rng(8).random((600, 300, 4)).astype(np.float32)
    for max_cells in (4096, 600 * 4):  # sampled, and exact
        chunked = cell_quantiles(cells, max_cells=max_cells)
        monkeypatch.setattr(response_view, "QUANTILE_CHANNELS", 10_000)
        whole = cell_quantiles(cells, max_cells=max_cells)
        monkeypatch.undo()
        assert np.array_equal(chunked, whole)


def test_layer_view_node_means_weight_classes_by_their_samples() -> None:
    labels = np.array([0, 0, 0, 1, 2, 2])
    collective = np.array([[1], [1], [1], [4], [2], [2]], dtype=np.float16)
    class_mean = np.array([1.0, 4.0, 2.0], dtype=np.float32).reshape(3, 1, 1, 1)
    view = build_layer_view("x", class_mean, collective, labels, 3)
    means = node_channel_means(view, np.arange(3), np.array([0, 0, 2]), np.array([3, 2, 3]), 0)
    assert np.allclose(means, [(3 * 1 + 4 + 2 * 2) / 6, (3 + 4) / 4, 2.0])
    assert view.top_samples[0].tolist()[:1] == [3]


def test_rank_change_from_counts_equals_metric_change_from_predictions() -> None:
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, 200)
    before, after = rng.integers(0, 5, 200), np.where(rng.random(200) < 0.5, labels, rng.integers(0, 5, 200))
    want = metric_change(tree, labels, before, after, "recall")
    got = rank_change(tree, group_metrics(tree, labels, before), group_metrics(tree, labels, after), "recall")
    assert np.array_equal(want.ranked, got.ranked) and np.allclose(want.change, got.change, equal_nan=True)
    groups = rank_change(tree, group_metrics(tree, labels, before), group_metrics(tree, labels, after),
                         "recall", min_classes=2)
    assert set(groups.ranked.tolist()) <= {0, 1, 4}  # all, animals, vehicles: no single class


@pytest.mark.parametrize("window,bins", [((0, 1000), 56), ((123, 877), 40), ((5, 40), 35), ((16, 48), 3),
                                         ((3, 999), 1)])
def test_block_sums_give_the_response_rows_of_any_window(window: tuple[int, int], bins: int) -> None:
    """Issue 17: a frame gathered every class of the window for every visible neuron (14.7 ms at 10,000
    classes); whole blocks of 16 positions now come from running sums, the same values to float rounding."""
    rng = np.random.default_rng(4)
    cells = rng.random((1000, 24, 4)).astype(np.float32)
    order = rng.permutation(1000)
    edges = bin_edges(*window, bins)
    channels = np.array([7, 0, 23, 5])
    sums = position_block_sums(cells, order)
    assert sums.shape == (1000 // 16 + 2, 24 * 4)
    assert np.allclose(sums[-1], cells.astype(np.float64).sum(axis=0).ravel())
    want = response_rows(cells, order, edges, channels)
    got = blocked_response_rows(cells, order, edges, channels, sums)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.allclose(got, want, atol=1e-6)


def test_outcome_agreement_across_result_sets() -> None:
    from blocks_tui.analysis.sample_selection import outcome_agreement

    labels = np.array([0, 1, 2, 3, 4, 5])
    here = np.array([0, 1, 9, 9, 4, 9])  # right on 0, 1, 4
    other = np.array([0, 9, 9, 3, 9, 9])  # right on 0, 3
    third = np.array([0, 9, 9, 3, 4, 9])  # right on 0, 3, 4
    ids = np.array([5, 4, 3, 2, 1, 0])  # the selection's order is kept
    sets = [here, other, third]
    assert outcome_agreement(labels, sets, 0, ids, "right-in-all").tolist() == [0]
    assert outcome_agreement(labels, sets, 0, ids, "wrong-in-all").tolist() == [5, 2]
    assert outcome_agreement(labels, sets, 0, ids, "right-only-here").tolist() == [1]
    assert outcome_agreement(labels, sets, 0, ids, "wrong-only-here").tolist() == [3]
    assert outcome_agreement(labels, sets, 2, ids, "right-only-here").tolist() == []  # 4 is right here too
    assert outcome_agreement(labels, sets, 0, np.zeros(0, np.int64), "right-in-all").tolist() == []
    with pytest.raises(ValueError):
        outcome_agreement(labels, sets, 0, ids, "right-sometimes")
