"""The outliers ranking (o, and n) from the sparse off-diagonal cells equals the dense computation (issue 17).

At 10,000 classes a dense confusion matrix is 800 MB; the ranking now reads
only the non-zero off-diagonal cells.  Checked here against the dense path it
replaced: every cell through ``block_outliers`` on the full matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis import block_outliers
from blocks_tui.analysis.confusion import confusion_matrix
from blocks_tui.analysis.confusion import off_diagonal_cells
from blocks_tui.analysis.triage import rank_outliers
from blocks_tui.analysis.view_tree import contract_chains
from blocks_tui.synthetic.scale import generate
from blocks_tui.analysis.hierarchy import Tree


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sparse_ranking_equals_the_dense_one(seed: int) -> None:
    data = generate(n_classes=150, n_samples=6000, channels=(4,), seed=seed)
    tree = Tree.from_hierarchy(data.hierarchy)
    labels, topk = data.labels, data.topk_index
    rows = rank_outliers(tree, labels, topk, data.topk_prob)
    n = tree.n_classes
    matrix = confusion_matrix(labels, topk[:, 0], n).astype(np.float64)
    flat, old_of_new = contract_chains(tree)
    cells = block_outliers(matrix, [(i, i + 1) for i in range(n)], tree=flat)
    dense = {(int(t), int(p)): (int(c), float(s), int(old_of_new[a]), int(d))
             for t, p, c, s, a, d in zip(cells.true, cells.predicted, cells.count, cells.surprise,
                                         cells.common_ancestor, cells.distance)}
    assert len(rows) > 20
    for row in rows:
        count, surprise, ancestor, distance = dense[(row.true, row.predicted)]
        assert (row.count, row.common_ancestor, row.distance) == (count, ancestor, distance)
        assert row.reverse_count == int(matrix[row.predicted, row.true])
        assert row.surprise == pytest.approx(surprise, rel=1e-12)
    kept = {(r.true, r.predicted) for r in rows}
    group = flat.parent[flat.leaf_of_class()]
    for (t, p), (count, _, _, _) in dense.items():  # every pair across the blocks, in its heavier direction
        lca = flat.common_ancestors(np.array([t]), np.array([p]))[0]
        reverse = matrix[p, t]
        wanted = (lca != group[t] or lca != group[p]) and (count > reverse or (count == reverse and t < p))
        assert ((t, p) in kept) == wanted


def test_off_diagonal_cells_are_the_non_zero_cells_in_order() -> None:
    labels = np.array([0, 0, 1, 2, 2, 2, 1])
    predicted = np.array([1, 0, 0, 1, 1, 0, 1])
    a, b, count = off_diagonal_cells(labels, predicted, 3)
    assert list(zip(a.tolist(), b.tolist(), count.tolist())) == [(0, 1, 1.0), (1, 0, 1.0), (2, 0, 1.0), (2, 1, 2.0)]


@pytest.mark.parametrize("seed", [0, 4])
def test_summary_numbers_from_samples_equal_the_dense_ones(seed: int) -> None:
    """Issue 17: summary built classes² matrices (25 s and 3.2 GB at 10k classes); now it reads samples."""
    from blocks_tui.analysis.confusion import (top_confusions, top_confusions_of, within_group_fraction,
                                               within_group_fraction_of)
    from blocks_tui.analysis.metrics import group_metrics, group_metrics_from_counts

    data = generate(n_classes=120, n_samples=5000, channels=(4,), seed=seed)
    tree = Tree.from_hierarchy(data.hierarchy)
    labels, predicted = data.labels, data.topk_index[:, 0]
    matrix = confusion_matrix(labels, predicted, tree.n_classes)
    sparse, dense = group_metrics(tree, labels, predicted), group_metrics_from_counts(tree, matrix)
    for field in ("tp", "true_count", "predicted_count"):
        assert np.array_equal(getattr(sparse, field), getattr(dense, field)), field
    for field in ("precision", "recall", "f1"):
        np.testing.assert_allclose(getattr(sparse, field), getattr(dense, field), equal_nan=True)
    assert top_confusions_of(labels, predicted, tree.n_classes, 25) == top_confusions(matrix, 25)
    for depth in (1, 2):
        assert within_group_fraction_of(labels, predicted, tree, depth) == \
            pytest.approx(within_group_fraction(matrix, tree, depth))


def test_nesting_fraction_counts_only_classes_with_a_group_at_that_depth() -> None:
    """all → A (→ A1 (c0, c1), c2), B (c3, c4): only c0 and c1 have a depth-2 group."""
    from blocks_tui.analysis.confusion import nesting_fraction

    names = ["all", "A", "A1", "c0", "c1", "c2", "B", "c3", "c4"]
    parent = np.array([-1, 0, 1, 2, 2, 1, 0, 6, 6])
    class_index = np.array([-1, -1, -1, 0, 1, 2, -1, 3, 4])
    tree = Tree.from_arrays(names, parent, class_index)
    labels = np.array([0, 0, 2, 3, 3, 1, 4])
    predicted = np.array([1, 2, 0, 4, 0, 1, 4])  # the last two are right
    assert nesting_fraction(labels, predicted, tree, 2) == (0.5, 2)  # c0→c1 in A1, c0→c2 out; c2, c3 have none
    assert nesting_fraction(labels, predicted, tree, 1) == (0.8, 5)  # only c3→c0 leaves its top-level group
    keep = np.array([True, False, True, True, True, True, True])
    assert nesting_fraction(labels, predicted, tree, 2, keep) == (1.0, 1)
    share, count = nesting_fraction(labels, predicted, tree, 3)
    assert np.isnan(share) and count == 0
