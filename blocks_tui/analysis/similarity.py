"""Similarity matrices that seriation and partitioning work on.

A confusion matrix is neither symmetric nor comparable across classes of
different sizes, and its diagonal (correct predictions) says nothing about
which classes belong together.  :func:`confusion_similarity` turns it into
a symmetric, non-negative similarity of confusion rates;
:func:`cells_similarity` builds the same one, sparse, from the non-zero
cells of 10,000 classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._checks import square_matrix
from .cells import CellCounts

if TYPE_CHECKING:  # scipy costs 0.45 s to import: only the sparse function needs it, at call time
    import scipy.sparse as sp


def confusion_similarity(matrix: np.ndarray, normalize: bool = True) -> np.ndarray:
    """(n, n) float64 symmetric similarity from a (n, n) confusion matrix (rows true, columns predicted).

    With ``normalize`` (the default) each row is first divided by its total,
    so a cell is the share of class i's samples predicted as j: a class with
    many samples does not outweigh a small one.  The similarity of i and j is
    then the confusion in both directions, ``R[i, j] + R[j, i]``, with a zero
    diagonal.  Rows without samples stay zero.
    """
    m = square_matrix(matrix, "matrix")
    if m.size and m.min() < 0:
        raise ValueError("matrix must hold non-negative counts")
    if normalize:
        totals = m.sum(axis=1, keepdims=True)
        m = np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)
    s = m + m.T
    np.fill_diagonal(s, 0.0)
    return s


def cells_similarity(cells: CellCounts, classes: np.ndarray) -> "sp.csr_array":
    """:func:`confusion_similarity` of ``classes`` (in that order) as a sparse array, from non-zero cells.

    The same numbers as the dense function on ``cells.dense(classes,
    classes)``, in O(cells) time and memory: the dense (n, n) float64 is
    800 MB at 10,000 classes, and a confusion similarity has at most two
    entries per confused pair.  Rows are normalised by each class's total
    within ``classes``, as the dense function does on its sub-matrix.
    """
    import scipy.sparse as sp

    classes = np.asarray(classes, dtype=np.int64)
    n = len(classes)
    at = np.full(cells.n_classes, -1, dtype=np.int64)
    at[classes] = np.arange(n)
    rows, columns = at[cells.true], at[cells.predicted]
    keep = (rows >= 0) & (columns >= 0)
    rows, columns, count = rows[keep], columns[keep], cells.count[keep].astype(np.float64)
    totals = np.bincount(rows, weights=count, minlength=n)
    rate = count / totals[rows]
    off = rows != columns
    rows, columns, rate = rows[off], columns[off], rate[off]
    both = sp.coo_array((np.concatenate([rate, rate]), (np.concatenate([rows, columns]),
                                                          np.concatenate([columns, rows]))), shape=(n, n))
    return both.tocsr()  # duplicates (i→j and j→i) are summed here
