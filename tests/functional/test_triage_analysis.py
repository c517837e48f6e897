"""Triage rankings: hand-checkable cases, and the issue's checks on the demo (which read its ground truth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import blocks_tui.analysis.report as report_module
import blocks_tui.analysis.triage as triage_module
from blocks_tui.analysis import Tree
from blocks_tui.analysis.triage import rank_mislabels, rank_outliers, sensitive_groups
from blocks_tui.cache import open_cache

from conftest import TINY_CLASS_INDEX, TINY_NODE_NAMES, TINY_PARENT

CAT, DOG, CAR, BUS, VAN = range(5)


def _tiny_tree() -> Tree:
    return Tree.from_arrays(TINY_NODE_NAMES, TINY_PARENT, TINY_CLASS_INDEX)


def _predictions(labels: list[int], first: list[int], second: list[int], p1: float = 0.9) -> tuple[np.ndarray, ...]:
    """(samples, 3) top-k arrays: ``first`` with p1, ``second`` with the rest mostly, a third class last."""
    n = len(labels)
    third = [next(c for c in range(5) if c not in (f, s)) for f, s in zip(first, second)]
    index = np.stack([first, second, third], axis=1)
    prob = np.tile([p1, (1 - p1) * 0.9, (1 - p1) * 0.1], (n, 1))
    return np.asarray(labels), index, prob


def test_siblings_are_not_outliers_and_crossing_pairs_are() -> None:
    # cat<->dog are siblings (one block); cat->car crosses animals/vehicles.
    labels = [CAT] * 10 + [DOG] * 10 + [CAR] * 10
    first = [DOG] * 4 + [CAT] * 6 + [CAT] * 3 + [DOG] * 7 + [CAT] * 1 + [CAR] * 9
    second = [CAT] * 4 + [DOG] * 6 + [DOG] * 3 + [CAT] * 7 + [CAR] * 1 + [BUS] * 9
    labels, index, prob = _predictions(labels, first, second)
    rows = rank_outliers(_tiny_tree(), labels, index, prob)
    assert [(r.true, r.predicted) for r in rows] == [(CAR, CAT)]
    row = rows[0]
    assert row.count == 1 and row.reverse_count == 0
    assert TINY_NODE_NAMES[row.common_ancestor] == "all" and row.distance == 4
    assert row.kind == "label-noise"  # one sample at p=0.9, and no cat image looks like a car


def test_heavy_symmetric_pair_is_redundant_and_asymmetric_one_subclass() -> None:
    # cat<->car confused both ways by every sample's top-2: redundant.
    # dog->bus: half the dogs go to bus; buses all have dog second, dogs rarely bus: subclass.
    labels, first, second = [], [], []
    for i in range(40):
        labels.append(CAT); first.append(CAR if i < 12 else CAT); second.append(CAT if i < 12 else CAR)
        labels.append(CAR); first.append(CAT if i < 10 else CAR); second.append(CAR if i < 10 else CAT)
        labels.append(DOG); first.append(BUS if i < 12 else DOG); second.append(DOG if i < 12 else CAT)
        labels.append(BUS); first.append(DOG if i < 2 else BUS); second.append(BUS if i < 2 else DOG)
    labels_a, index, prob = _predictions(labels, first, second, p1=0.55)
    rows = rank_outliers(_tiny_tree(), labels_a, index, prob)
    by_pair = {frozenset((r.true, r.predicted)): r for r in rows}
    redundant = by_pair[frozenset((CAT, CAR))]
    subclass = by_pair[frozenset((DOG, BUS))]
    assert (redundant.true, redundant.predicted, redundant.count, redundant.reverse_count) == (CAT, CAR, 12, 10)
    assert redundant.kind == "redundant" and redundant.coverage == redundant.reverse_coverage == 1.0
    assert (subclass.true, subclass.predicted, subclass.count, subclass.reverse_count) == (DOG, BUS, 12, 2)
    assert subclass.kind == "subclass"
    assert subclass.general == DOG and subclass.special == BUS  # buses all look like dogs, few dogs like buses
    assert rows[0].score >= rows[-1].score
    assert len(rank_outliers(_tiny_tree(), labels_a, index, prob, limit=1)) == 1


def test_single_child_chains_do_not_count_as_distance() -> None:
    # all -> {A -> {x, y}, B -> C -> {z, w}}: B is a chain, so x and z sit 4 apart, as the viewer draws it.
    names = ["all", "A", "x", "y", "B", "C", "z", "w"]
    tree = Tree.from_arrays(names, np.array([-1, 0, 1, 1, 0, 4, 5, 5]), np.array([-1, -1, 0, 1, -1, -1, 2, 3]))
    labels = np.array([0, 0, 2, 2])
    index = np.array([[2, 0], [0, 2], [2, 3], [2, 3]])
    prob = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])
    (row,) = rank_outliers(tree, labels, index, prob)
    assert (row.true, row.predicted, row.distance) == (0, 2, 4)
    assert names[row.common_ancestor] == "all"


def test_mislabels_rank_every_wrong_sample_by_log_ratio() -> None:
    labels = np.array([0, 1, 2, 0])
    index = np.array([[1, 0], [1, 0], [0, 2], [2, 0]])
    prob = np.array([[0.99, 0.01], [0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
    true_prob = np.array([1e-5, 0.9, 0.4, 0.5])
    rows = rank_mislabels(labels, index, prob, true_prob)
    assert [r.sample for r in rows] == [0, 2, 3]  # sample 1 is right
    assert rows[0].confident and not rows[1].confident
    assert rows[0].score == pytest.approx(np.log(0.99) - np.log(1e-5))
    assert rows[0].top_classes == (1, 0) and rows[0].top_probs == pytest.approx((0.99, 0.01))


def test_sensitive_groups_leave_out_classes_and_small_drops() -> None:
    tree = _tiny_tree()
    labels = np.array([CAT, DOG, CAR, BUS, VAN] * 4)
    after = labels.copy()
    after[labels == CAR] = CAT  # vehicles lose a third of their recall
    after[labels == CAT] = DOG  # inside animals: the group keeps its recall
    rows = sensitive_groups(tree, labels, labels, after)
    assert [TINY_NODE_NAMES[r.node] for r in rows] == ["vehicles"]
    assert rows[0].before == 1.0 and rows[0].drop == pytest.approx(1 / 3) and rows[0].support == 12


def test_analysis_never_reads_ground_truth() -> None:
    for module in (triage_module, report_module):
        assert "ground_truth" not in Path(module.__file__).read_text()


# -- the checks on the demo -------------------------------------------------------
def _demo(demo_cache: Path):
    cache = open_cache(demo_cache)
    h = cache.hierarchy
    return cache, Tree.from_hierarchy(h), cache.ground_truth()


def test_demo_planted_redundant_pair_is_the_top_outlier(demo_cache: Path) -> None:
    cache, tree, truth = _demo(demo_cache)
    with cache:
        r = cache.result("original")
        top = rank_outliers(tree, cache.labels, r.topk_index, r.topk_prob)[0]
    assert {top.true, top.predicted} == set(truth["redundant_pair"])
    assert top.kind == "redundant"


def test_demo_planted_subclass_pair_is_in_the_top_five_marked_asymmetric(demo_cache: Path) -> None:
    cache, tree, truth = _demo(demo_cache)
    general, special = truth["subclass_pair"]["general"], truth["subclass_pair"]["special"]
    with cache:
        r = cache.result("original")
        rows = rank_outliers(tree, cache.labels, r.topk_index, r.topk_prob, limit=5)
    found = [row for row in rows if {row.true, row.predicted} == {general, special}]
    assert len(found) == 1
    assert found[0].kind == "subclass"
    assert (found[0].general, found[0].special) == (general, special)


def test_demo_planted_mislabels_fill_the_top_of_the_ranking(demo_cache: Path) -> None:
    cache, _, truth = _demo(demo_cache)
    planted = np.asarray(truth["mislabeled"]["indices"])
    with cache:
        r = cache.result("original")
        rows = rank_mislabels(cache.labels, r.topk_index, r.topk_prob, r.true_prob, limit=2 * len(planted))
    found = np.isin(planted, [row.sample for row in rows]).mean()
    assert len(planted) > 0 and found >= 0.8


def test_demo_sensitive_groups_are_the_planted_ones(demo_cache: Path) -> None:
    cache, tree, truth = _demo(demo_cache)
    with cache:
        before = cache.result("original").predicted
        for result, group in (("grayscale", truth["colour_group"]), ("rot90", truth["orientation_group"])):
            rows = sensitive_groups(tree, cache.labels, before, cache.result(result).predicted)
            assert tree.names[rows[0].node] == group and rows[0].drop >= 0.3
