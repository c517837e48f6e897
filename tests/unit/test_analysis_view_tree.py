"""The viewer's tree reshaping (contract, sort, graft) and metrics from a count matrix."""

from __future__ import annotations

import numpy as np
import pytest

from blocks_tui.analysis import Tree, build_hierarchy, confusion_matrix, confusion_similarity, group_metrics
from blocks_tui.analysis.metrics import group_metrics_from_counts
from blocks_tui.analysis.view_tree import (
    child_blocks,
    contract_chains,
    covering_node,
    graft,
    sort_children,
    subtree_stop,
)

from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT


def tiny() -> Tree:
    return Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)


def chained() -> Tree:
    """root → top → {mid → {a, b}, solo → c}: ``top`` and ``solo`` have one child each."""
    names = ["root", "top", "mid", "a", "b", "solo", "c"]
    return Tree.from_arrays(names, np.array([-1, 0, 1, 2, 2, 1, 5]), np.array([-1, -1, -1, 0, 1, -1, 2]))


def test_contract_chains_keeps_the_branching_node_and_the_leaf() -> None:
    tree, old = contract_chains(chained())
    assert tree.names == ("top", "mid", "a", "b", "c")
    assert old.tolist() == [1, 2, 3, 4, 6]
    assert [tree.names[c] for c in tree.children(0)] == ["mid", "c"]
    assert np.array_equal(tree.order, chained().order)


def test_contract_chains_leaves_a_branching_tree_alone() -> None:
    tree, old = contract_chains(tiny())
    assert tree.names == tiny().names and old.tolist() == list(range(tiny().n_nodes))


@pytest.mark.parametrize(
    ("by", "values", "top_level", "order"),
    [
        ("order", None, ["animals", "vehicles"], [0, 1, 2, 3, 4]),
        ("name", None, ["animals", "vehicles"], [0, 1, 3, 2, 4]),  # bus, car, van
        ("size", None, ["vehicles", "animals"], [2, 3, 4, 0, 1]),
        ("metric", np.array([0, 0.9, 0, 0, 0.2, 0.5, 0.1, np.nan]), ["vehicles", "animals"], [3, 2, 4, 0, 1]),
    ],
)
def test_sort_children_reorders_tree_and_class_order(by: str, values: np.ndarray | None,
                                                     top_level: list[str], order: list[int]) -> None:
    tree, old = sort_children(tiny(), by, values)
    assert [tree.names[c] for c in tree.children(0)] == top_level
    assert tree.order.tolist() == order
    assert [tiny().names[o] for o in old] == list(tree.names)


def test_sort_by_metric_needs_one_value_per_node() -> None:
    with pytest.raises(ValueError, match="one number per node"):
        sort_children(tiny(), "metric", np.zeros(3))


def test_graft_replaces_a_subtree_and_shifts_later_nodes() -> None:
    tree = tiny()
    # vehicles (node 4) becomes: vehicles → {road → {car, van}, bus}
    new = graft(tree, 4, ["x", "road", "car", "van", "bus"], np.array([-1, 0, 1, 1, 0]), np.array([-1, -1, 2, 4, 3]))
    assert new.names == ("all", "animals", "cat", "dog", "vehicles", "road", "car", "van", "bus")
    assert new.order.tolist() == [0, 1, 2, 4, 3]
    assert [new.names[c] for c in new.children(4)] == ["road", "bus"]
    assert subtree_stop(new, 4) == new.n_nodes


def test_graft_of_a_built_hierarchy_keeps_the_node_before_it() -> None:
    tree = tiny()
    sim = np.ones((2, 2)) - np.eye(2)
    built = build_hierarchy(sim, ["cat", "dog"])
    classes = tree.classes_of(1)
    class_index = np.where(built.class_index >= 0, classes[np.maximum(built.class_index, 0)], -1)
    new = graft(tree, 1, built.names, built.parent, class_index)
    assert new.names[:2] == ("all", "animals") and new.names[-4:] == ("vehicles", "car", "bus", "van")


def test_graft_must_cover_the_same_classes() -> None:
    with pytest.raises(ValueError, match="exactly the 2 classes"):
        graft(tiny(), 1, ["x", "car"], np.array([-1, 0]), np.array([-1, 2]))


def test_group_metrics_from_a_matrix_match_those_from_samples() -> None:
    rng = np.random.default_rng(3)
    tree = tiny()
    labels = rng.integers(0, 5, 200)
    predicted = np.where(rng.random(200) < 0.6, labels, rng.integers(0, 5, 200))
    from_samples = group_metrics(tree, labels, predicted)
    from_matrix = group_metrics_from_counts(tree, confusion_matrix(labels, predicted, 5))
    for name in ("tp", "true_count", "predicted_count", "precision", "recall", "f1"):
        np.testing.assert_allclose(getattr(from_matrix, name), getattr(from_samples, name), equal_nan=True)


def test_group_metrics_from_counts_checks_the_shape() -> None:
    with pytest.raises(ValueError, match=r"\(5, 5\)"):
        group_metrics_from_counts(tiny(), np.zeros((4, 4)))


def test_child_blocks_and_covering_node() -> None:
    tree = tiny()
    assert child_blocks(tree, 0) == [(0, 2), (2, 5)]
    assert child_blocks(tree, 2) == [(0, 1)]  # a leaf is its own block
    assert covering_node(tree, 2, 4) == 4 and covering_node(tree, 1, 3) == 0 and covering_node(tree, 3, 4) == 6
    with pytest.raises(ValueError):
        covering_node(tree, 3, 3)


def test_contracted_and_sorted_tree_still_seriates_to_blocks() -> None:
    """End to end: the display tree of a seriated similarity has the planted blocks as children."""
    blocks = np.kron(np.eye(2), np.ones((3, 3)))
    sim = confusion_similarity(blocks + 0.01)
    built = build_hierarchy(sim, [f"c{i}" for i in range(6)])
    tree, _ = sort_children(contract_chains(built.tree())[0], "size")
    assert sorted(tree.size(c) for c in tree.children(0)) == [3, 3]
