"""Confusion filters, the cell -> samples index and the binning pyramid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocks_tui.analysis import ConfusionFilter, Pyramid, bin_edges, confusion_matrix, filtered_confusion

# Six samples of three classes, top-3 predictions with probabilities, by hand.
LABELS = np.array([0, 0, 1, 1, 2, 2])
TOPK = np.array([[0, 1, 2], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [0, 2, 1]])
PROB = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.5, 0.4, 0.1],
                 [0.8, 0.15, 0.05], [0.7, 0.2, 0.1], [0.95, 0.04, 0.01]])
TRUE_PROB = np.array([0.9, 0.3, 0.5, 0.05, 0.7, 0.04])


def build(flt: ConfusionFilter | None = None):
    return filtered_confusion(LABELS, TOPK, 3, flt, PROB, TRUE_PROB)


def test_unfiltered_matches_confusion_matrix_and_lookup_by_hand() -> None:
    fc = build()
    assert fc.matrix.tolist() == [[1, 1, 0], [0, 1, 1], [1, 0, 1]]
    assert np.array_equal(fc.matrix, confusion_matrix(LABELS, TOPK[:, 0], 3))
    assert fc.cell_samples(0, 1).tolist() == [1]
    assert fc.cell_samples(2, 0).tolist() == [5]
    assert fc.cell_samples(0, 2).tolist() == []
    assert fc.block_samples(np.array([1, 2]), np.array([0, 1, 2])).tolist() == [2, 3, 4, 5]
    with pytest.raises(ValueError, match="outside the 3x3"):
        fc.cell_samples(3, 0)


@pytest.mark.parametrize(
    "flt, expected, kept",
    [
        (ConfusionFilter(diagonal=False), [[0, 1, 0], [0, 0, 1], [1, 0, 0]], [0, 1, 2, 3, 4, 5]),
        (ConfusionFilter(top_k=1), [[0, 1, 0], [0, 0, 1], [1, 0, 0]], [1, 3, 5]),
        # top-2 error: sample 1 (label 0 at rank 2) and 3 (label 1 at rank 3) and 5 (label 2 at rank 2)
        (ConfusionFilter(top_k=2), [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [3]),
        (ConfusionFilter(predicted_prob=(0.75, 1.0)), [[1, 0, 0], [0, 0, 1], [1, 0, 0]], [0, 3, 5]),
        (ConfusionFilter(true_prob=(0.0, 0.1)), [[0, 0, 0], [0, 0, 1], [1, 0, 0]], [3, 5]),
        (ConfusionFilter(samples=np.array([0, 2, 4])), [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 2, 4]),
        (ConfusionFilter(samples=np.array([True, True, False, False, False, False])),
         [[1, 1, 0], [0, 0, 0], [0, 0, 0]], [0, 1]),
        (ConfusionFilter(min_count=2), [[0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 1, 2, 3, 4, 5]),
        # combined: errors only, confident ones, among the first five samples
        (ConfusionFilter(diagonal=False, top_k=1, predicted_prob=(0.55, 1.0), samples=np.arange(5)),
         [[0, 1, 0], [0, 0, 1], [0, 0, 0]], [1, 3]),
    ],
)
def test_each_filter_by_hand(flt: ConfusionFilter, expected: list[list[int]], kept: list[int]) -> None:
    fc = build(flt)
    assert fc.matrix.tolist() == expected
    assert np.flatnonzero(fc.mask).tolist() == kept
    for i in range(3):
        for j in range(3):
            assert len(fc.cell_samples(i, j)) == fc.matrix[i, j]


def test_blanked_cells_report_no_samples() -> None:
    fc = build(ConfusionFilter(diagonal=False))
    assert fc.cell_samples(0, 0).tolist() == []
    assert fc.cell_samples(0, 1).tolist() == [1]


@pytest.mark.parametrize(
    "kwargs, message",
    [({"min_count": -1}, "min_count"), ({"top_k": 0}, "top_k"), ({"predicted_prob": (0.5, 0.1)}, "predicted_prob"),
     ({"true_prob": (1.0,)}, "true_prob")],
)
def test_bad_filters_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConfusionFilter(**kwargs)


def test_bad_inputs_name_the_argument() -> None:
    with pytest.raises(ValueError, match="top_k must be at most 3"):
        build(ConfusionFilter(top_k=4))
    with pytest.raises(ValueError, match="topk_prob is needed"):
        filtered_confusion(LABELS, TOPK, 3, ConfusionFilter(predicted_prob=(0, 1)))
    with pytest.raises(ValueError, match="samples indices"):
        build(ConfusionFilter(samples=np.array([7])))
    with pytest.raises(ValueError, match="labels must lie"):
        filtered_confusion(LABELS, TOPK, 2)


@st.composite
def results(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    n_classes = draw(st.integers(2, 6))
    n = draw(st.integers(0, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    labels = rng.integers(0, n_classes, n)
    topk = np.argsort(rng.random((n, n_classes)), axis=1)[:, :2]
    prob = np.sort(rng.random((n, 2)), axis=1)[:, ::-1]
    return labels, topk, prob, rng.random(n), n_classes


@settings(max_examples=60, deadline=None)
@given(results(), st.booleans(), st.integers(0, 3), st.sampled_from([None, 1, 2]),
       st.sampled_from([None, (0.2, 0.8)]), st.sampled_from([None, (0.0, 0.5)]), st.booleans())
def test_filters_match_a_brute_force_and_are_permutation_invariant(
    data, diagonal, min_count, top_k, predicted_prob, true_prob, subset
) -> None:
    labels, topk, prob, true_p, n_classes = data
    n = len(labels)
    samples = np.arange(0, n, 2) if subset else None
    flt = ConfusionFilter(diagonal, min_count, top_k, predicted_prob, true_prob, samples)
    fc = filtered_confusion(labels, topk, n_classes, flt, prob, true_p)
    expected = np.zeros((n_classes, n_classes), dtype=np.int64)
    for i in range(n):
        keep = (samples is None or i in samples)
        keep &= top_k is None or labels[i] not in topk[i, :top_k]
        keep &= predicted_prob is None or predicted_prob[0] <= prob[i, 0] <= predicted_prob[1]
        keep &= true_prob is None or true_prob[0] <= true_p[i] <= true_prob[1]
        if keep:
            expected[labels[i], topk[i, 0]] += 1
    if not diagonal:
        np.fill_diagonal(expected, 0)
    expected[expected < min_count] = 0
    assert np.array_equal(fc.matrix, expected)
    # Every shown cell lists exactly its samples; an empty filter gives an empty matrix, not an error.
    for i, j in zip(*np.nonzero(fc.matrix)):
        ids = fc.cell_samples(int(i), int(j))
        assert np.all((labels[ids] == i) & (topk[ids, 0] == j)) and fc.mask[ids].all()
    # Shuffling the samples changes which ids sit in a cell, never the counts.
    perm = np.random.default_rng(0).permutation(n)
    inverse = np.argsort(perm)
    moved = ConfusionFilter(diagonal, min_count, top_k, predicted_prob, true_prob,
                            None if samples is None else inverse[samples])
    shuffled = filtered_confusion(labels[perm], topk[perm], n_classes, moved, prob[perm], true_p[perm])
    assert np.array_equal(shuffled.matrix, fc.matrix)


def test_a_filter_that_keeps_nothing_gives_an_empty_matrix() -> None:
    for flt in (ConfusionFilter(samples=np.array([], dtype=int)), ConfusionFilter(true_prob=(2.0, 3.0)),
                ConfusionFilter(top_k=3)):
        fc = build(flt)
        assert fc.matrix.sum() == 0 and not fc.mask.any()
        assert fc.cell_samples(0, 0).size == 0 and fc.block_samples(np.arange(3), np.arange(3)).size == 0


def test_empty_result_set() -> None:
    fc = filtered_confusion(np.zeros(0, int), np.zeros((0, 5), int), 4)
    assert fc.matrix.sum() == 0 and fc.cell_samples(1, 2).size == 0
    assert fc.block_samples(np.arange(4), np.arange(4)).size == 0


def test_bin_edges() -> None:
    assert bin_edges(0, 10, 3).tolist() == [0, 3, 6, 10]
    assert bin_edges(5, 8, 10).tolist() == [5, 6, 7, 8]  # never an empty bin
    assert bin_edges(4, 4, 3).tolist() == [4, 4]
    with pytest.raises(ValueError, match="n_bins"):
        bin_edges(0, 5, 0)


def test_pyramid_bins_by_sum_in_any_order() -> None:
    rng = np.random.default_rng(1)
    m = rng.integers(0, 9, (13, 11))
    rows, cols = rng.permutation(13), rng.permutation(11)
    p = Pyramid(m, rows, cols)
    ordered = m[np.ix_(rows, cols)]
    r_edges, c_edges = np.array([0, 2, 7, 13]), np.array([0, 5, 5, 11])
    got = p.bins(r_edges, c_edges)
    for a in range(3):
        for b in range(3):
            want = ordered[r_edges[a] : r_edges[a + 1], c_edges[b] : c_edges[b + 1]].sum()
            assert got[a, b] == want
    assert got.dtype == np.int64 and got.sum() == m.sum()
    assert p.view(4, 4, rows=(3, 9), columns=(0, 11)).sum() == ordered[3:9].sum()
    level1 = p.level(1)
    assert level1.shape == (7, 6) and level1[0, 0] == ordered[:2, :2].sum() and level1[-1, -1] == ordered[12, 10]
    assert np.array_equal(p.level(0), ordered)
    with pytest.raises(ValueError, match="row_order"):
        Pyramid(m, np.zeros(13, int))
    with pytest.raises(ValueError, match="column_edges"):
        p.bins(r_edges, np.array([0, 12]))


def test_pyramid_of_responses_is_float() -> None:
    p = Pyramid(np.full((4, 6), 0.5, dtype=np.float32))
    assert p.view(2, 3).tolist() == [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
