"""Similarity matrices that seriation and partitioning work on.

A confusion matrix is neither symmetric nor comparable across classes of
different sizes, and its diagonal (correct predictions) says nothing about
which classes belong together.  :func:`confusion_similarity` turns it into
a symmetric, non-negative similarity of confusion rates.
"""

from __future__ import annotations

import numpy as np

from ._checks import square_matrix


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
