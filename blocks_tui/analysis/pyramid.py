"""Multiscale binning of a matrix by sum, over any row and column order.

The viewer shows 1000 classes on about 120 half-block rows and zooms into
any range, so it needs "the sum of every cell in this rectangle" for a grid
of rectangles on every frame.  A :class:`Pyramid` precomputes, once per
matrix and order, the summed-area table (2-D prefix sums) of the reordered
matrix.  Every scale of the pyramid is then read from it: a grid of
``r × c`` bins with *any* edges costs O(r·c), independent of how many
classes each bin covers, and the sums are exact (integers stay integers).
Power-of-two levels, the classic pyramid, are cached on first use for
callers that want them as arrays.
"""

from __future__ import annotations

import numpy as np

from ._checks import permutation


def summed_area_table(matrix: np.ndarray) -> np.ndarray:
    """(rows+1, columns+1) 2-D prefix sums: ``t[i, j]`` is the sum of ``matrix[:i, :j]``.

    Any rectangle's sum is then four lookups.  Integers stay exact in int64;
    anything else is summed in float64.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
    dtype = np.int64 if matrix.dtype.kind in "biu" else np.float64
    table = np.zeros((matrix.shape[0] + 1, matrix.shape[1] + 1), dtype=dtype)
    np.cumsum(matrix, axis=0, out=table[1:, 1:], dtype=dtype)
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    return table


def bin_edges(start: int, stop: int, n_bins: int) -> np.ndarray:
    """(bins + 1,) int64 edges splitting ``[start, stop)`` into ``n_bins`` near-equal bins.

    Never more bins than items: with ``stop - start < n_bins`` every item gets
    its own bin.  Edges are strictly increasing, so no bin is empty.
    """
    if stop < start:
        raise ValueError(f"stop ({stop}) must not be below start ({start})")
    if n_bins < 1:
        raise ValueError(f"n_bins must be 1 or more, got {n_bins}")
    count = stop - start
    bins = max(1, min(n_bins, count))
    return start + (np.arange(bins + 1, dtype=np.int64) * count) // bins


class Pyramid:
    """Bin sums of a (rows, columns) matrix, reordered, at any scale.

    ``matrix`` may be counts (integer, kept exact in int64) or responses
    (float, summed in float64).  ``row_order``/``column_order`` give the
    original row at each displayed position (default: as is), e.g. a
    hierarchy's unified order or a seriation.  Building costs one pass over
    the matrix; the table takes (rows+1)·(columns+1) numbers.
    """

    def __init__(
        self,
        matrix: np.ndarray,
        row_order: np.ndarray | None = None,
        column_order: np.ndarray | None = None,
    ) -> None:
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
        rows, columns = matrix.shape
        self.row_order = _order(row_order, rows, "row_order")
        self.column_order = _order(column_order, columns, "column_order")
        self._table = summed_area_table(matrix[np.ix_(self.row_order, self.column_order)])
        self._levels: dict[int, np.ndarray] = {}

    @property
    def shape(self) -> tuple[int, int]:
        return self._table.shape[0] - 1, self._table.shape[1] - 1

    def bins(self, row_edges: np.ndarray, column_edges: np.ndarray) -> np.ndarray:
        """(len(row_edges)-1, len(column_edges)-1) sums of the cells between consecutive edges.

        Edges are displayed positions (after reordering), non-decreasing, in
        ``[0, rows]`` and ``[0, columns]``; they need not be evenly spaced, so
        bins can follow hierarchy nodes.
        """
        r = _edges(row_edges, self.shape[0], "row_edges")
        c = _edges(column_edges, self.shape[1], "column_edges")
        t = self._table[np.ix_(r, c)]
        return t[1:, 1:] - t[:-1, 1:] - t[1:, :-1] + t[:-1, :-1]

    def view(
        self,
        n_row_bins: int,
        n_column_bins: int,
        rows: tuple[int, int] | None = None,
        columns: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """The window ``rows`` × ``columns`` (displayed positions, default all) in about that many bins.

        What a frame of the viewer draws: e.g. ``view(120, 120)`` for 1000
        classes on 120 rows, or a zoomed window at full resolution.
        """
        r0, r1 = rows if rows is not None else (0, self.shape[0])
        c0, c1 = columns if columns is not None else (0, self.shape[1])
        return self.bins(bin_edges(r0, r1, n_row_bins), bin_edges(c0, c1, n_column_bins))

    def level(self, k: int) -> np.ndarray:
        """Level ``k`` of the power-of-two pyramid: bins of 2^k × 2^k cells (the last ones partial)."""
        if k < 0:
            raise ValueError(f"level must be 0 or more, got {k}")
        if k not in self._levels:
            step = 1 << k
            rows, columns = self.shape
            r = np.minimum(np.arange(0, rows + step, step), rows)
            c = np.minimum(np.arange(0, columns + step, step), columns)
            self._levels[k] = self.bins(np.unique(r), np.unique(c))
        return self._levels[k]


def _order(order: np.ndarray | None, size: int, name: str) -> np.ndarray:
    return np.arange(size, dtype=np.int64) if order is None else permutation(order, size, name)


def _edges(edges: np.ndarray, size: int, name: str) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.int64)
    if edges.ndim != 1 or len(edges) < 2:
        raise ValueError(f"{name} must hold at least two edges")
    if edges[0] < 0 or edges[-1] > size or np.any(np.diff(edges) < 0):
        raise ValueError(f"{name} must be non-decreasing within [0, {size}]")
    return edges
