"""Accuracy and the paper's group-level precision, recall and F1 (Eq. 1).

For a group G of classes, a sample counts as a true positive of G when both
its true and its predicted class lie in G.  Precision is TP over the samples
predicted in G, recall TP over the samples truly in G, F1 their harmonic mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .confusion import confusion_matrix
from .hierarchy import Tree


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
    """Precision, recall and F1 of every hierarchy node, in O(classes² + nodes).

    Reorders the confusion matrix into the tree's unified order, where each
    node is a contiguous block, and reads every block sum from 2-D prefix sums.
    """
    matrix = confusion_matrix(labels, predicted, tree.n_classes)
    ordered = matrix[np.ix_(tree.order, tree.order)]
    prefix = np.zeros((tree.n_classes + 1, tree.n_classes + 1), dtype=np.int64)
    prefix[1:, 1:] = ordered.cumsum(0).cumsum(1)
    a, b = tree.start, tree.stop
    tp = prefix[b, b] - prefix[a, b] - prefix[b, a] + prefix[a, a]
    rows = ordered.sum(1)
    cols = ordered.sum(0)
    row_prefix = np.concatenate([[0], rows.cumsum()])
    col_prefix = np.concatenate([[0], cols.cumsum()])
    true_count = row_prefix[b] - row_prefix[a]
    predicted_count = col_prefix[b] - col_prefix[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, tp / predicted_count, np.nan)
        recall = np.where(true_count > 0, tp / true_count, np.nan)
        # 2PR/(P+R) rewritten as 2TP/(true+predicted): identical where P and R
        # exist, and still defined (0) when a node has samples but no hits.
        total = true_count + predicted_count
        f1 = np.where(total > 0, 2 * tp / total, np.nan)
    return GroupMetrics(tp, true_count, predicted_count, precision, recall, f1)
