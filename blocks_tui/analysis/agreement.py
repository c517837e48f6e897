"""Agreement between two groupings of the same items: the adjusted Rand index.

Used to check that seriation and partitioning recover planted or known
groups (a hierarchy level, a synthetic data set's blocks).  Written here
because scikit-learn is not a dependency; it is the Hubert–Arabie formula.
"""

from __future__ import annotations

import numpy as np


def _pairs(counts: np.ndarray) -> float:
    counts = counts.astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two (n,) labelings: 1 for identical groupings, about 0 for chance.

    Labels are any integers; only which items share a label matters, so the
    index is invariant to renaming groups.  Two groupings that are both all
    singletons or both one group score 1.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a {a.shape} and b {b.shape} must be equal 1-D shapes")
    n = len(a)
    if n < 2:
        return 1.0
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.bincount(ai * (bi.max() + 1) + bi)
    index = _pairs(table)
    rows = _pairs(np.bincount(ai))
    cols = _pairs(np.bincount(bi))
    expected = rows * cols / (n * (n - 1) / 2)
    best = (rows + cols) / 2
    if best == expected:  # both trivial groupings: nothing to adjust for
        return 1.0
    return float((index - expected) / (best - expected))
