"""Block outliers: confusions between classes that the blocks say are unrelated.

Once the matrix is cut into diagonal blocks (by :func:`partition` or by a
hierarchy level), most confusions fall inside blocks.  The cells outside
are the interesting exceptions: the paper's missile/projectile pair, or a
mislabeled cluster.  Raw counts favour big, error-prone classes, so each
cell also gets a surprise score normalised by its row and column totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import blocks_cover, square_matrix
from .hierarchy import Tree
from .partitioning import block_labels

RANKINGS = ("count", "surprise")


@dataclass(frozen=True)
class BlockOutliers:
    """Off-block cells, ranked; every array is (cells,) and in rank order.

    ``true``/``predicted`` are class indices (row, column), ``count`` the
    cell, ``surprise`` = count / sqrt(row confusions · column confusions),
    in (0, 1]: 1 when the cell holds every confusion of its true class and
    every confusion into its predicted class.  ``common_ancestor`` (the
    lowest common ancestor node of the two classes) and ``distance`` (edges
    between their leaves) are -1 when no tree was given.
    """

    true: np.ndarray
    predicted: np.ndarray
    count: np.ndarray
    surprise: np.ndarray
    common_ancestor: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.true)


def block_outliers(
    matrix: np.ndarray,
    blocks: list[tuple[int, int]],
    order: np.ndarray | None = None,
    tree: Tree | None = None,
    by: str = "count",
    min_count: int = 1,
    limit: int | None = None,
) -> BlockOutliers:
    """The non-zero cells of a confusion ``matrix`` whose classes lie in different blocks.

    ``matrix`` is (n, n) counts, rows true class, columns predicted, in
    class-index order.  ``blocks`` are ``(start, stop)`` position ranges of
    ``order`` (default the identity), e.g. ``partition`` of the seriated
    similarity with the seriation as ``order``, or ``tree.level_blocks(d)``
    with ``tree.order``.  ``by`` ranks by ``"count"`` or ``"surprise"``
    (ties by the other, then by cell); ``min_count`` drops thinner cells,
    ``limit`` keeps the first ones.
    """
    if by not in RANKINGS:
        raise ValueError(f"by must be one of {RANKINGS}, got {by!r}")
    if min_count < 1:
        raise ValueError(f"min_count must be 1 or more, got {min_count}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    m = square_matrix(matrix, "matrix")
    n = m.shape[0]
    block = block_labels(blocks_cover(blocks, n, "blocks"), order)
    if len(block) != n:
        raise ValueError(f"blocks must cover all {n} positions")
    off = m.copy()
    np.fill_diagonal(off, 0.0)
    rows, cols = np.nonzero((off >= min_count) & (block[:, None] != block[None, :]))
    count = off[rows, cols]
    row_total = off.sum(axis=1)
    col_total = off.sum(axis=0)
    surprise = count / np.sqrt(row_total[rows] * col_total[cols])
    primary, secondary = (count, surprise) if by == "count" else (surprise, count)
    rank = np.lexsort((cols, rows, -secondary, -primary))[:limit]
    rows, cols = rows[rank], cols[rank]
    if tree is not None:
        if tree.n_classes != n:
            raise ValueError(f"tree has {tree.n_classes} classes but matrix has {n}")
        common = tree.common_ancestors(rows, cols)
        distance = tree.class_distance(rows, cols)
    else:
        common = distance = np.full(len(rows), -1, dtype=np.int64)
    return BlockOutliers(
        true=rows.astype(np.int64),
        predicted=cols.astype(np.int64),
        count=count[rank].astype(np.int64),
        surprise=surprise[rank],
        common_ancestor=common,
        distance=distance,
    )
