"""Group metrics, confusion pairs and the summary, against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocks_tui.analysis import (
    Tree,
    confusion_matrix,
    group_metrics,
    summarize,
    top_confusions,
    topk_accuracy,
    within_group_fraction,
)
from conftest import TINY_CLASS_INDEX, TINY_CLASSES, TINY_NODE_NAMES, TINY_PARENT

#               cat cat dog car bus van   (true)
LABELS = np.array([0, 0, 1, 2, 3, 4])
PREDICTED = np.array([0, 1, 1, 3, 0, 4])  # cat dog dog bus cat van


@pytest.fixture
def tree() -> Tree:
    return Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)


def test_tree_ranges_and_depths(tree: Tree) -> None:
    assert tree.start.tolist() == [0, 0, 0, 1, 2, 2, 3, 4]
    assert tree.stop.tolist() == [5, 2, 1, 2, 5, 3, 4, 5]
    assert tree.depth.tolist() == [0, 1, 2, 2, 1, 2, 2, 2]
    assert tree.classes_of(tree.node_index("vehicles")).tolist() == [2, 3, 4]
    assert tree.ancestor_at_depth(1).tolist() == [1, 1, 4, 4, 4]
    assert tree.path(6) == [0, 4, 6]
    with pytest.raises(KeyError, match="did you mean animals"):
        tree.node_index("animal")


def test_group_metrics_by_hand(tree: Tree) -> None:
    m = group_metrics(tree, LABELS, PREDICTED)
    animals, vehicles, car, van = (tree.node_index(n) for n in ("animals", "vehicles", "car", "van"))
    # animals: true {0,1,2}; predicted into animals {0,1,2,4}; both {0,1,2}
    assert (m.tp[animals], m.true_count[animals], m.predicted_count[animals]) == (3, 3, 4)
    assert m.precision[animals] == pytest.approx(3 / 4)
    assert m.recall[animals] == pytest.approx(1.0)
    assert m.f1[animals] == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    # vehicles: true {3,4,5}; predicted into vehicles {3,5}; both {3,5}
    assert m.precision[vehicles] == pytest.approx(1.0)
    assert m.recall[vehicles] == pytest.approx(2 / 3)
    assert m.f1[vehicles] == pytest.approx(0.8)
    # car: one sample, predicted as bus; nothing predicted as car
    assert np.isnan(m.precision[car]) and m.recall[car] == 0.0 and m.f1[car] == 0.0
    assert m.precision[van] == m.recall[van] == m.f1[van] == 1.0
    assert m.precision[0] == m.recall[0] == 1.0  # the root holds everything


def test_confusions_by_hand(tree: Tree) -> None:
    cm = confusion_matrix(LABELS, PREDICTED, 5)
    assert cm.sum() == 6 and cm[0, 0] == 1 and cm[3, 0] == 1 and cm[2, 3] == 1
    pairs = top_confusions(cm, 10)
    assert [(p.true, p.predicted, p.count) for p in pairs] == [(0, 1, 1), (2, 3, 1), (3, 0, 1)]
    # 3 confusions: cat->dog (in animals), car->bus (in vehicles), bus->cat (across)
    assert within_group_fraction(cm, tree, depth=1) == pytest.approx(2 / 3)
    assert topk_accuracy(LABELS, np.stack([PREDICTED, LABELS], 1), 1) == pytest.approx(3 / 6)
    assert topk_accuracy(LABELS, np.stack([PREDICTED, LABELS], 1), 2) == 1.0


def test_summary_by_hand(tree: Tree) -> None:
    topk = np.stack([PREDICTED, LABELS, LABELS, LABELS, LABELS], 1)
    s = summarize(tree, TINY_CLASSES, LABELS, {"original": topk}, result="original", top_pairs=2)
    assert s.accuracy[0].top1 == pytest.approx(0.5) and s.accuracy[0].top5 == 1.0
    row = {r.name: r for r in s.nodes}
    assert (row["animals"].precision, row["animals"].recall) == (pytest.approx(0.75), 1.0)
    assert row["car"].precision is None and row["car"].f1 == 0.0
    assert [(p.true, p.predicted, p.common_ancestor) for p in s.pairs] == [
        ("cat", "dog", "animals"), ("car", "bus", "vehicles")]
    shallow = summarize(tree, TINY_CLASSES, LABELS, {"original": topk}, result="original", max_depth=1)
    assert [r.name for r in shallow.nodes] == ["all", "animals", "vehicles"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60))
def test_prefix_sum_metrics_match_brute_force(pairs: list[tuple[int, int]]) -> None:
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    labels, predicted = (np.array(x) for x in zip(*pairs))
    m = group_metrics(tree, labels, predicted)
    for node in range(tree.n_nodes):
        members = set(tree.classes_of(node).tolist())
        t = np.isin(labels, list(members))
        p = np.isin(predicted, list(members))
        assert m.tp[node] == int((t & p).sum())
        assert m.true_count[node] == int(t.sum())
        assert m.predicted_count[node] == int(p.sum())
        if t.sum() and p.sum():
            prec, rec = (t & p).sum() / p.sum(), (t & p).sum() / t.sum()
            f1 = 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)
            assert m.f1[node] == pytest.approx(f1)


def test_tree_rejects_two_roots() -> None:
    with pytest.raises(ValueError, match="2 roots"):
        Tree.from_arrays(["a", "b"], np.array([-1, -1]), np.array([0, 1]))
