"""The demo's planted-property checks, measured with the analysis the viewer uses.

Reads the cache's ground truth, so only tests and benchmarks call this: the
analysis and the UI must find the planted structure without it.  The same
function backs the test suite (fast configuration) and ``blocks-tui bench
demo`` (the full one), so the README's figures and the tests cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import Tree, confusion_matrix, group_metrics, topk_accuracy, within_group_fraction
from ..analysis.confusion import nesting_fraction
from ..analysis.triage import rank_mislabels
from ..cache import Cache


@dataclass(frozen=True)
class PlantedCheck:
    name: str
    value: float  # in points (percent) for rates and drops
    goal: str
    passed: bool


def shape_groups(tree: Tree, colour_group: str, orientation_group: str) -> list[str]:
    """The mid-level groups defined by shape alone: every child of a top-level group but the two planted ones."""
    return [tree.names[c] for top in tree.children(tree.root) for c in tree.children(top)
            if tree.names[c] not in (colour_group, orientation_group) and not tree.is_leaf(c)]


def _recall(tree: Tree, labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return group_metrics(tree, labels, predicted).recall


def planted_apart(truth: dict, labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(samples,) bool: the planted flips, and the confusions between the planted redundant and subclass
    pairs, which sit in different depth-2 groups by design (the block outliers the demo exists to show)."""
    out = np.zeros(len(labels), dtype=bool)
    out[np.asarray(truth["mislabeled"]["indices"], dtype=np.int64)] = True
    sub = truth["subclass_pair"]
    for a, b in (tuple(truth["redundant_pair"]), (sub["general"], sub["special"])):
        out |= ((labels == a) & (predicted == b)) | ((labels == b) & (predicted == a))
    return out


NESTING_GOALS = {2: 70.0, 3: 50.0}
"""Share of confusions inside the depth-2 and depth-3 groups, planted flips and pairs left out (issue 18)."""


def nesting_checks(truth: dict, tree: Tree, labels: np.ndarray, predicted: np.ndarray) -> list[PlantedCheck]:
    """The nested blocks below the top level: for each depth, the share of confusions whose true class has
    a group there that stay in it, without the flips and the planted pairs."""
    keep = ~planted_apart(truth, labels, predicted)
    checks = []
    for depth, goal in NESTING_GOALS.items():
        share, count = nesting_fraction(labels, predicted, tree, depth, keep)
        value = 100 * share
        checks.append(PlantedCheck(f"confusions inside the depth-{depth} groups, of {count} (flips and planted "
                                   "pairs apart)", value, f">= {goal:g}", value >= goal))
    return checks


def planted_checks(cache: Cache) -> list[PlantedCheck]:
    """Accuracy, confusions inside the top-level groups and the nested groups below them, and the grayscale
    and rot90 drops."""
    truth = cache.ground_truth()
    tree = Tree.from_hierarchy(cache.hierarchy)
    labels = cache.labels
    original = cache.result("original")
    accuracy = 100 * topk_accuracy(labels, original.topk_index, 1)
    inside = 100 * within_group_fraction(confusion_matrix(labels, original.predicted, tree.n_classes), tree, 1)
    before = _recall(tree, labels, original.predicted)
    shapes = shape_groups(tree, truth["colour_group"], truth["orientation_group"])
    checks = [
        PlantedCheck("top-1 accuracy of original", accuracy, ">= 85", accuracy >= 85),
        PlantedCheck("off-diagonal confusions inside the top-level groups", inside, ">= 90", inside >= 90),
        *nesting_checks(truth, tree, labels, original.predicted),
    ]
    flips = np.asarray(truth["mislabeled"]["indices"], dtype=np.int64)
    candidates = rank_mislabels(labels, original.topk_index, original.topk_prob, original.true_prob,
                                limit=2 * len(flips))
    found = 100 * float(np.isin(flips, [row.sample for row in candidates]).mean()) if len(flips) else float("nan")
    checks.append(PlantedCheck("flips among the top 2x mislabel candidates", found, ">= 80", found >= 80))
    for result, group in (("grayscale", truth["colour_group"]), ("rot90", truth["orientation_group"])):
        drop = 100 * (before - _recall(tree, labels, cache.result(result).predicted))
        planted = float(drop[tree.node_index(group)])
        worst = max(shapes, key=lambda g: drop[tree.node_index(g)])
        worst_drop = float(drop[tree.node_index(worst)])
        checks.append(PlantedCheck(f"{result}: recall drop of {group!r}", planted, ">= 30", planted >= 30))
        checks.append(PlantedCheck(f"{result}: largest drop among shape groups ({worst})", worst_drop, "<= 10",
                                   worst_drop <= 10))
    return checks
