"""Confusion matrices and the pairs that dominate them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import class_indices
from .hierarchy import Tree


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts; rows are true classes, columns predictions."""
    labels = class_indices(labels, n_classes, "labels")
    predicted = class_indices(predicted, n_classes, "predicted")
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predicted {predicted.shape} differ in shape")
    flat = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


@dataclass(frozen=True)
class ConfusionPair:
    """One off-diagonal cell: ``count`` samples of class ``true`` predicted as ``predicted``."""

    true: int
    predicted: int
    count: int


def top_confusions(matrix: np.ndarray, n: int = 10) -> list[ConfusionPair]:
    """The ``n`` heaviest off-diagonal cells, heaviest first (ties by index)."""
    off = np.array(matrix, dtype=np.int64, copy=True)
    np.fill_diagonal(off, 0)
    flat = off.ravel()
    cells = np.flatnonzero(flat)
    best = cells[np.lexsort((cells, -flat[cells]))][:n]
    size = matrix.shape[1]
    return [ConfusionPair(int(i // size), int(i % size), int(flat[i])) for i in best]


def within_group_fraction(matrix: np.ndarray, tree: Tree, depth: int = 1) -> float:
    """Share of off-diagonal confusions whose two classes share their depth-``depth`` group.

    With ``depth=1`` this is the paper's headline: how many confusions stay
    inside the top-level groups.  Returns nan when there are no confusions.
    """
    group = tree.ancestor_at_depth(depth)
    same = group[:, None] == group[None, :]
    off = np.array(matrix, dtype=np.int64, copy=True)
    np.fill_diagonal(off, 0)
    total = off.sum()
    return float(off[same].sum() / total) if total else float("nan")


def off_diagonal_cells(labels: np.ndarray, predicted: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """``(true, predicted, count)`` of every non-zero off-diagonal confusion cell, sorted by (true, predicted).

    The confusion matrix without building it: at most one cell per sample, in
    O(samples · log samples) time and O(samples) memory whatever ``n``, where
    a dense (n, n) array is 800 MB at 10,000 classes.
    """
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    wrong = labels != predicted
    codes, count = np.unique(labels[wrong] * n + predicted[wrong], return_counts=True)
    return codes // n, codes % n, count.astype(np.float64)


def top_confusions_of(labels: np.ndarray, predicted: np.ndarray, n_classes: int, n: int = 10) -> list[ConfusionPair]:
    """:func:`top_confusions` from samples, without the dense matrix (the same pairs, the same order)."""
    a, b, count = off_diagonal_cells(labels, predicted, n_classes)
    best = np.lexsort((a * n_classes + b, -count))[:n]
    return [ConfusionPair(int(a[i]), int(b[i]), int(count[i])) for i in best]


def within_group_fraction_of(labels: np.ndarray, predicted: np.ndarray, tree: Tree, depth: int = 1) -> float:
    """:func:`within_group_fraction` from samples, without the dense matrix."""
    a, b, count = off_diagonal_cells(labels, predicted, tree.n_classes)
    group = tree.ancestor_at_depth(depth)
    total = count.sum()
    return float(count[group[a] == group[b]].sum() / total) if total else float("nan")
def nesting_fraction(labels: np.ndarray, predicted: np.ndarray, tree: Tree, depth: int,
                     keep: np.ndarray | None = None) -> tuple[float, int]:
    """(share, count): of the off-diagonal confusions whose true class lies under an inner node at ``depth``,
    the share whose prediction lies under the same node; ``keep`` (samples,) bool restricts the samples.

    The paper's nested blocks, level by level.  Unlike :func:`within_group_fraction`,
    a class with no group at that depth (a leaf shallower than it) is left
    out rather than counted as its own group, so the depth-3 figure of a
    tree where only one branch goes that deep speaks of that branch alone.
    nan (and 0) when no confusion qualifies.
    """
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    group = tree.ancestor_at_depth(depth)
    inner = tree.class_index[group] < 0  # an inner node, not the class's own leaf
    chosen = (labels != predicted) & inner[labels]
    if keep is not None:
        chosen &= np.asarray(keep, dtype=bool)
    count = int(chosen.sum())
    if count == 0:
        return float("nan"), 0
    return float((group[labels[chosen]] == group[predicted[chosen]]).mean()), count


