"""Accuracy and the paper's group-level precision, recall and F1 (Eq. 1).

For a group G of classes, a sample counts as a true positive of G when both
its true and its predicted class lie in G.  Precision is TP over the samples
predicted in G, recall TP over the samples truly in G, F1 their harmonic mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hierarchy import Tree
from .pyramid import summed_area_table


def topk_accuracy(labels: np.ndarray, topk_index: np.ndarray, k: int) -> float:
    """Share of samples whose label is among the first ``k`` predictions."""
    topk_index = np.asarray(topk_index)
    if k < 1 or k > topk_index.shape[1]:
        raise ValueError(f"k must lie in [1, {topk_index.shape[1]}], got {k}")
    hits = (topk_index[:, :k] == np.asarray(labels)[:, None]).any(axis=1)
    return float(hits.mean()) if len(hits) else float("nan")


@dataclass(frozen=True)
class GroupMetrics:
    """Per-node counts and scores; every array is indexed by hierarchy node.

    ``precision`` is nan for a node nothing was predicted into, ``recall`` for
    a node without samples; ``f1`` only for a node with neither.
    """

    tp: np.ndarray  # true and predicted class both in the node
    true_count: np.ndarray  # samples whose true class is in the node (support)
    predicted_count: np.ndarray  # samples predicted into the node
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray


def group_metrics(tree: Tree, labels: np.ndarray, predicted: np.ndarray) -> GroupMetrics:
    """Precision, recall and F1 of every hierarchy node, in O(samples · depth + nodes), from samples.

    A sample is a true positive of exactly the nodes that hold both its
    classes: the lowest common ancestor of the two and every node above it.
    So TP counts each sample at that ancestor and sums up the tree, as the
    support and the predictions are summed from the leaves; no classes² array
    is built (800 MB at 10,000 classes).
    """
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    leaf = tree.leaf_of_class()
    n_nodes = tree.n_nodes
    tp = _up_the_tree(tree, np.bincount(tree.common_ancestors(labels, predicted), minlength=n_nodes))
    true_count = _up_the_tree(tree, np.bincount(leaf[labels], minlength=n_nodes))
    predicted_count = _up_the_tree(tree, np.bincount(leaf[predicted], minlength=n_nodes))
    return _scores(tp, true_count, predicted_count)


def _up_the_tree(tree: Tree, at_node: np.ndarray) -> np.ndarray:
    """Each node's value plus those of every node below it (one vectorised step per level)."""
    total = np.asarray(at_node, dtype=np.int64).copy()
    parent, depth = tree.parent, tree.depth
    for d in range(int(depth.max()), 0, -1):
        nodes = np.flatnonzero(depth == d)
        np.add.at(total, parent[nodes], total[nodes])
    return total


def group_metrics_from_counts(tree: Tree, counts: np.ndarray) -> GroupMetrics:
    """:func:`group_metrics` of an already built (classes, classes) confusion matrix.

    For callers that hold a filtered matrix (a sample subset, a probability
    range): rows are true classes, columns predictions, in class-index order.
    """
    counts = np.asarray(counts)
    if counts.shape != (tree.n_classes, tree.n_classes):
        raise ValueError(f"counts must be ({tree.n_classes}, {tree.n_classes}), got {counts.shape}")
    prefix = summed_area_table(counts[np.ix_(tree.order, tree.order)])
    a, b = tree.start, tree.stop
    tp = prefix[b, b] - prefix[a, b] - prefix[b, a] + prefix[a, a]
    true_count = prefix[b, -1] - prefix[a, -1]  # whole rows: everything truly in the node
    predicted_count = prefix[-1, b] - prefix[-1, a]  # whole columns: everything predicted into it
    return _scores(tp, true_count, predicted_count)


def _scores(tp: np.ndarray, true_count: np.ndarray, predicted_count: np.ndarray) -> GroupMetrics:
    """Precision, recall and F1 from the three counts (NaN where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, tp / predicted_count, np.nan)
        recall = np.where(true_count > 0, tp / true_count, np.nan)
        # 2PR/(P+R) rewritten as 2TP/(true+predicted): identical where P and R
        # exist, and still defined (0) when a node has samples but no hits.
        total = true_count + predicted_count
        f1 = np.where(total > 0, 2 * tp / total, np.nan)
    return GroupMetrics(tp, true_count, predicted_count, precision, recall, f1)


class NodeSamples:
    """The TP, FP and FN sample indices of any hierarchy node, each in O(its size).

    Built once per (tree, result set): samples are sorted by the unified
    position of their true class, and separately of their predicted class,
    so "samples truly in node v" and "samples predicted into v" are slices.
    ``labels``/``predicted`` are (samples,) class indices; ``samples`` maps
    them to the sample ids to report (default 0..samples-1), so a filtered
    subset still reports the cache's ids.
    """

    def __init__(
        self, tree: Tree, labels: np.ndarray, predicted: np.ndarray, samples: np.ndarray | None = None
    ) -> None:
        labels = np.asarray(labels, dtype=np.int64)
        predicted = np.asarray(predicted, dtype=np.int64)
        if labels.shape != predicted.shape or labels.ndim != 1:
            raise ValueError(f"labels {labels.shape} and predicted {predicted.shape} must be equal 1-D shapes")
        ids = np.arange(len(labels)) if samples is None else np.asarray(samples, dtype=np.int64)
        if ids.shape != labels.shape:
            raise ValueError(f"samples {ids.shape} must match labels {labels.shape}")
        self.tree = tree
        self._labels = labels
        self._predicted = predicted
        true_at = tree.position[labels]
        pred_at = tree.position[predicted]
        self._by_true = np.argsort(true_at, kind="stable")
        self._by_pred = np.argsort(pred_at, kind="stable")
        self._true_sorted = true_at[self._by_true]
        self._pred_sorted = pred_at[self._by_pred]
        self._ids = ids

    def _truly_in(self, node: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._true_sorted, [self.tree.start[node], self.tree.stop[node]])
        return self._by_true[lo:hi]

    def _predicted_in(self, node: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._pred_sorted, [self.tree.start[node], self.tree.stop[node]])
        return self._by_pred[lo:hi]

    def tp(self, node: int) -> np.ndarray:
        """Sample ids whose true and predicted classes both lie under ``node``, ascending."""
        rows = self._truly_in(node)
        return np.sort(self._ids[rows[self.tree.contains(node, self._predicted[rows])]])

    def fn(self, node: int) -> np.ndarray:
        """Sample ids truly under ``node`` but predicted outside it, ascending."""
        rows = self._truly_in(node)
        return np.sort(self._ids[rows[~self.tree.contains(node, self._predicted[rows])]])

    def fp(self, node: int) -> np.ndarray:
        """Sample ids predicted into ``node`` whose true class lies outside it, ascending."""
        rows = self._predicted_in(node)
        return np.sort(self._ids[rows[~self.tree.contains(node, self._labels[rows])]])


@dataclass(frozen=True)
class MetricChange:
    """One metric of every node under two result sets, and the nodes ranked by their drop.

    ``before``/``after``/``change`` are (nodes,) float (``change = after -
    before``, nan where either is undefined).  ``ranked`` lists node indices,
    biggest drop first, leaving out undefined changes and nodes with fewer
    than ``min_support`` samples.
    """

    metric: str
    before: np.ndarray
    after: np.ndarray
    change: np.ndarray
    support: np.ndarray
    ranked: np.ndarray


_METRICS = ("precision", "recall", "f1")


def metric_change(
    tree: Tree,
    labels: np.ndarray,
    predicted_before: np.ndarray,
    predicted_after: np.ndarray,
    metric: str = "recall",
    min_support: int = 1,
) -> MetricChange:
    """Per-node change of a group metric between two result sets (grayscale, rotation, epochs).

    ``labels`` (samples,) and the two (samples,) top-1 predictions are class
    indices.  The paper's Fig. 6, 8 and 9 compare recall; ``metric`` may also
    be ``"precision"`` or ``"f1"``.  Ties in the drop rank shallower nodes first.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    before_m = group_metrics(tree, labels, predicted_before)
    after_m = group_metrics(tree, labels, predicted_after)
    return rank_change(tree, before_m, after_m, metric, min_support)


def rank_change(tree: Tree, before_m: GroupMetrics, after_m: GroupMetrics, metric: str = "recall",
                min_support: int = 1, min_classes: int = 1) -> MetricChange:
    """:func:`metric_change` from two result sets' group metrics (e.g. from filtered confusion counts).

    The viewer has counts, not predictions, once filters apply; this ranks
    them the same way.  ``min_classes=2`` ranks groups only: a single class
    always moves more than the group around it, so a list of classes would
    hide the finding that a whole group depends on colour or orientation.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    before = getattr(before_m, metric).astype(np.float64)
    after = getattr(after_m, metric).astype(np.float64)
    change = after - before
    support = before_m.true_count
    sizes = tree.stop - tree.start
    usable = np.flatnonzero(~np.isnan(change) & (support >= min_support) & (sizes >= min_classes))
    ranked = usable[np.lexsort((usable, tree.depth[usable], change[usable]))]
    return MetricChange(metric, before, after, change, support, ranked)
