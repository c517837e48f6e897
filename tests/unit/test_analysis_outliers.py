"""Block outliers (count, surprise, LCA, tree distance) and mislabel candidates, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis import Tree, block_outliers, mislabel_candidates
from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT

# Classes cat dog | car bus van; rows true, columns predicted.
MATRIX = np.array([
    [9, 4, 0, 0, 1],  # cat: 4 -> dog (in block), 1 -> van (outlier)
    [30, 7, 0, 0, 0],  # dog: many -> cat, so column cat is crowded
    [0, 0, 8, 2, 0],
    [6, 0, 1, 5, 0],  # bus: 6 -> cat (outlier), 1 -> car
    [0, 0, 0, 0, 9],
])


@pytest.fixture
def tree() -> Tree:
    return Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)


def test_outliers_by_count_and_by_surprise(tree: Tree) -> None:
    blocks = tree.level_blocks(1)  # [(0, 2), (2, 5)]: animals | vehicles
    by_count = block_outliers(MATRIX, blocks, tree.order, tree)
    assert list(zip(by_count.true.tolist(), by_count.predicted.tolist(), by_count.count.tolist())) == [
        (3, 0, 6), (0, 4, 1)]
    # Off-diagonal totals: row cat 5, row bus 7; column cat 36, column van 1.
    assert by_count.surprise.tolist() == pytest.approx([6 / np.sqrt(7 * 36), 1 / np.sqrt(5 * 1)])
    assert [tree.names[n] for n in by_count.common_ancestor] == ["all", "all"]
    assert by_count.distance.tolist() == [4, 4]
    by_surprise = block_outliers(MATRIX, blocks, tree.order, tree, by="surprise")
    # The single cat -> van confusion is all that row and column hold: more surprising than 6 of 36.
    assert by_surprise.true.tolist() == [0, 3]
    assert len(block_outliers(MATRIX, blocks, tree.order, tree, min_count=2)) == 1
    assert len(block_outliers(MATRIX, blocks, tree.order, tree, limit=1)) == 1


def test_outliers_without_a_tree_and_with_finer_blocks(tree: Tree) -> None:
    fine = block_outliers(MATRIX, tree.level_blocks(2), tree.order)
    # Every off-diagonal cell is off-block when each class is its own block.
    assert sorted(zip(fine.true.tolist(), fine.predicted.tolist())) == [(0, 1), (0, 4), (1, 0), (2, 3), (3, 0), (3, 2)]
    assert fine.common_ancestor.tolist() == [-1] * 6 and fine.distance.tolist() == [-1] * 6
    assert len(block_outliers(MATRIX, [(0, 5)])) == 0  # one block: nothing is outside
    with pytest.raises(ValueError, match="by must be one of"):
        block_outliers(MATRIX, [(0, 5)], by="size")
    with pytest.raises(ValueError, match="blocks must"):
        block_outliers(MATRIX, [(0, 3)])


def test_mislabel_candidates_by_hand() -> None:
    labels = np.array([0, 1, 2, 3, 4])
    topk = np.array([[1, 0], [1, 0], [0, 2], [4, 3], [0, 1]])
    prob = np.array([[0.95, 0.01], [0.9, 0.05], [0.99, 0.005], [0.92, 0.05], [0.6, 0.3]])
    true_prob = np.array([0.01, 0.9, 0.005, 0.001, 0.0])
    c = mislabel_candidates(labels, topk, prob, true_prob)
    # sample 1 is correct, 4 not confident; log-ratios: 3 -> log(920), 2 -> log(198), 0 -> log(95)
    assert c.sample.tolist() == [3, 2, 0]
    assert c.score.tolist() == pytest.approx([np.log(920), np.log(198), np.log(95)])
    assert c.predicted.tolist() == [4, 0, 1] and c.label.tolist() == [3, 2, 0]
    assert mislabel_candidates(labels, topk, prob, true_prob, limit=1).sample.tolist() == [3]
    loose = mislabel_candidates(labels, topk, prob, true_prob, min_predicted_prob=0.5, max_true_prob=0.0)
    assert loose.sample.tolist() == [4]  # probability 0 is floored, not -inf
    assert np.isfinite(loose.score).all()
    assert len(mislabel_candidates(labels[:0], topk[:0], prob[:0], true_prob[:0])) == 0
    with pytest.raises(ValueError, match="min_predicted_prob"):
        mislabel_candidates(labels, topk, prob, true_prob, min_predicted_prob=2)
