"""Group metrics with sample ids, per-node change between result sets, tree helpers; by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocks_tui.analysis import (
    NodeSamples,
    Tree,
    confusion_matrix,
    group_metrics,
    group_metrics_from_counts,
    metric_change,
)
from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT

#                 0  1  2  3  4  5     sample
LABELS = np.array([0, 0, 1, 2, 3, 4])  # cat cat dog car bus van
PREDICTED = np.array([0, 1, 1, 3, 0, 4])  # cat dog dog bus cat van
GRAY = np.array([0, 0, 1, 0, 0, 0])  # all vehicles predicted as cat


@pytest.fixture
def tree() -> Tree:
    return Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)


def test_tp_fp_fn_ids_by_hand(tree: Tree) -> None:
    ns = NodeSamples(tree, LABELS, PREDICTED)
    animals, vehicles, cat, bus = (tree.node_index(n) for n in ("animals", "vehicles", "cat", "bus"))
    assert (ns.tp(animals).tolist(), ns.fp(animals).tolist(), ns.fn(animals).tolist()) == ([0, 1, 2], [4], [])
    assert (ns.tp(vehicles).tolist(), ns.fp(vehicles).tolist(), ns.fn(vehicles).tolist()) == ([3, 5], [], [4])
    assert (ns.tp(cat).tolist(), ns.fp(cat).tolist(), ns.fn(cat).tolist()) == ([0], [4], [1])
    assert (ns.tp(bus).tolist(), ns.fp(bus).tolist(), ns.fn(bus).tolist()) == ([], [3], [4])
    assert ns.tp(0).tolist() == [0, 1, 2, 3, 4, 5]
    # A subset reports the cache's sample ids.
    sub = NodeSamples(tree, LABELS[3:], PREDICTED[3:], samples=np.arange(3, 6))
    assert sub.fn(vehicles).tolist() == [4] and sub.tp(vehicles).tolist() == [3, 5]


def test_counts_agree_with_group_metrics(tree: Tree) -> None:
    m = group_metrics(tree, LABELS, PREDICTED)
    same = group_metrics_from_counts(tree, confusion_matrix(LABELS, PREDICTED, 5))
    assert np.array_equal(same.f1, m.f1, equal_nan=True) and np.array_equal(same.tp, m.tp)
    with pytest.raises(ValueError, match="counts must be"):
        group_metrics_from_counts(tree, np.zeros((4, 4)))
    ns = NodeSamples(tree, LABELS, PREDICTED)
    for v in range(tree.n_nodes):
        assert len(ns.tp(v)) == m.tp[v]
        assert len(ns.tp(v)) + len(ns.fn(v)) == m.true_count[v]
        assert len(ns.tp(v)) + len(ns.fp(v)) == m.predicted_count[v]


def test_metric_change_ranks_the_biggest_drop_first(tree: Tree) -> None:
    ch = metric_change(tree, LABELS, PREDICTED, GRAY, metric="recall")
    vehicles, animals = tree.node_index("vehicles"), tree.node_index("animals")
    # vehicles: recall 2/3 -> 0; van 1 -> 0, car 0 -> 0, bus 0 -> 0; animals 1 -> 1; dog 1 -> 1; cat 1/2 -> 1
    assert ch.before[vehicles] == pytest.approx(2 / 3) and ch.after[vehicles] == 0.0
    assert ch.ranked[0] == tree.node_index("van")  # drop 1.0
    assert ch.ranked[1] == vehicles  # drop 2/3
    assert ch.ranked[-1] == tree.node_index("cat")  # rise 1/2
    assert ch.change[animals] == 0.0
    p = metric_change(tree, LABELS, PREDICTED, GRAY, metric="precision")
    car = tree.node_index("car")
    assert car not in p.ranked  # nothing predicted as car in either: undefined, left out
    assert np.isnan(p.change[car])
    assert tree.node_index("bus") not in p.ranked  # 0/1 before, nothing predicted after: nan
    big = metric_change(tree, LABELS, PREDICTED, GRAY, min_support=2)
    assert set(big.ranked.tolist()) == {0, animals, vehicles, tree.node_index("cat")}
    with pytest.raises(ValueError, match="metric must be one of"):
        metric_change(tree, LABELS, PREDICTED, GRAY, metric="accuracy")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=0, max_size=50), st.randoms())
def test_metrics_lie_in_unit_interval_handle_zero_division_and_ignore_sample_order(pairs, rnd) -> None:
    tree = Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)
    labels = np.array([p[0] for p in pairs], dtype=np.int64)
    predicted = np.array([p[1] for p in pairs], dtype=np.int64)
    m = group_metrics(tree, labels, predicted)
    for values in (m.precision, m.recall, m.f1):
        finite = values[~np.isnan(values)]
        assert np.all((finite >= 0) & (finite <= 1))
    assert np.array_equal(np.isnan(m.recall), m.true_count == 0)  # 0/0, never a warning or inf
    assert np.array_equal(np.isnan(m.precision), m.predicted_count == 0)
    perm = list(range(len(pairs)))
    rnd.shuffle(perm)
    shuffled = group_metrics(tree, labels[perm], predicted[perm])
    assert np.array_equal(shuffled.tp, m.tp) and np.array_equal(shuffled.f1, m.f1, equal_nan=True)
    ns = NodeSamples(tree, labels, predicted)
    for v in range(tree.n_nodes):
        assert len(ns.fp(v)) == m.predicted_count[v] - m.tp[v]


def test_tree_helpers(tree: Tree) -> None:
    assert tree.contains(tree.node_index("vehicles"), np.array([0, 2, 4, 1])).tolist() == [False, True, True, False]
    a, b = np.array([0, 0, 2, 3]), np.array([1, 4, 3, 3])
    assert [tree.names[x] for x in tree.common_ancestors(a, b)] == ["animals", "all", "vehicles", "bus"]
    assert tree.class_distance(a, b).tolist() == [2, 4, 2, 0]
    with pytest.raises(ValueError, match="node must lie"):
        tree.contains(99, np.array([0]))
    with pytest.raises(ValueError, match="b holds class indices"):
        tree.common_ancestors(np.array([0]), np.array([5]))
