"""Confusion counts as a list of non-zero cells, never a classes × classes array.

A confusion matrix has at most one non-zero cell per sample: 146k of the
10^8 cells at 10,000 classes and 1,000,000 samples, where the dense int64
array is 800 MB and every pass over it (a copy, a cell filter, a reorder, a
prefix sum) costs a second.  :class:`CellCounts` keeps the non-zero cells as
coordinate lists sorted by cell code (``true · classes + predicted``), so
every question the viewer asks of the counts costs O(cells) or a binary
search, and dense arrays are built only for the few classes a caller names
(a window to seriate, a small cache's report).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._checks import class_indices


@dataclass(frozen=True, eq=False)  # eq=False: the fields are arrays, which have no truth value
class CellCounts:
    """The non-zero cells of an ``(n_classes, n_classes)`` count matrix, rows true, columns predicted.

    ``true``, ``predicted`` and ``count`` are (cells,) int64, sorted by
    :attr:`codes` and with no zero counts, so two equal matrices have equal
    lists.
    """

    n_classes: int
    true: np.ndarray
    predicted: np.ndarray
    count: np.ndarray

    @classmethod
    def of_sorted_codes(cls, codes: np.ndarray, n_classes: int) -> "CellCounts":
        """Count runs of equal cell codes, already sorted (one per sample): O(samples)."""
        codes = np.asarray(codes, dtype=np.int64)
        if not len(codes):
            return cls.empty(n_classes)
        starts = np.concatenate([[0], np.flatnonzero(codes[1:] != codes[:-1]) + 1])
        count = np.diff(np.append(starts, len(codes)))
        cells = codes[starts]
        return cls(n_classes, cells // n_classes, cells % n_classes, count.astype(np.int64))

    @classmethod
    def of_pairs(cls, labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> "CellCounts":
        """The cells of (label, prediction) pairs: O(samples · log samples) whatever the class count."""
        labels = class_indices(labels, n_classes, "labels")
        predicted = class_indices(predicted, n_classes, "predicted")
        if labels.shape != predicted.shape:
            raise ValueError(f"labels {labels.shape} and predicted {predicted.shape} differ in shape")
        return cls.of_sorted_codes(np.sort(labels * n_classes + predicted), n_classes)

    @classmethod
    def of_dense(cls, matrix: np.ndarray) -> "CellCounts":
        """The non-zero cells of a dense square count matrix (for tests and small callers)."""
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"matrix must be square, got shape {matrix.shape}")
        true, predicted = np.nonzero(matrix)  # row-major: already in code order
        return cls(matrix.shape[0], true.astype(np.int64), predicted.astype(np.int64),
                   matrix[true, predicted].astype(np.int64))

    @classmethod
    def empty(cls, n_classes: int) -> "CellCounts":
        nothing = np.empty(0, dtype=np.int64)
        return cls(n_classes, nothing, nothing, nothing)

    def __len__(self) -> int:
        return len(self.count)

    @cached_property
    def codes(self) -> np.ndarray:
        """(cells,) int64 ``true · classes + predicted``, ascending."""
        return self.true * self.n_classes + self.predicted

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def at(self, true: int, predicted: int) -> int:
        """The count of one cell: a binary search."""
        code = int(true) * self.n_classes + int(predicted)
        i = int(np.searchsorted(self.codes, code))
        return int(self.count[i]) if i < len(self) and self.codes[i] == code else 0

    @cached_property
    def row_totals(self) -> np.ndarray:
        """(classes,) int64: each true class's samples in these cells (its row sum)."""
        return np.bincount(self.true, weights=self.count, minlength=self.n_classes).astype(np.int64)

    @cached_property
    def diagonal(self) -> np.ndarray:
        """(classes,) int64: each class's correct predictions."""
        on = self.true == self.predicted
        return np.bincount(self.true[on], weights=self.count[on], minlength=self.n_classes).astype(np.int64)

    def sum_within(self, rows: np.ndarray, columns: np.ndarray) -> int:
        """The sum of every cell whose true class is in ``rows`` and prediction in ``columns``: O(cells)."""
        return int(self.count[self._inside(rows)[self.true] & self._inside(columns)[self.predicted]].sum())

    def select(self, rows: np.ndarray, columns: np.ndarray) -> "CellCounts":
        """The cells in ``rows`` × ``columns`` (class indices), still in global class numbers.

        Walks the cells, O(cells), unless the block has fewer cells than the
        list, when it looks each one up instead, O(block · log cells).
        """
        rows, columns = np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)
        if len(rows) * len(columns) < len(self):
            codes = np.unique((rows[:, None] * self.n_classes + columns[None, :]).ravel())
            at = np.minimum(np.searchsorted(self.codes, codes), max(len(self) - 1, 0))
            hit = at[self.codes[at] == codes] if len(self) else at[:0]
        else:
            hit = np.flatnonzero(self._inside(rows)[self.true] & self._inside(columns)[self.predicted])
        return CellCounts(self.n_classes, self.true[hit], self.predicted[hit], self.count[hit])

    def dense(self, rows: np.ndarray | None = None, columns: np.ndarray | None = None) -> np.ndarray:
        """(len(rows), len(columns)) int64 counts of those classes, in the order given (default: all).

        O(cells + rows · columns): call it for a window, not for 10,000 classes.
        """
        n = self.n_classes
        rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
        columns = np.arange(n) if columns is None else np.asarray(columns, dtype=np.int64)
        out = np.zeros((len(rows), len(columns)), dtype=np.int64)
        row_at, column_at = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        row_at[rows], column_at[columns] = np.arange(len(rows)), np.arange(len(columns))
        r, c = row_at[self.true], column_at[self.predicted]
        keep = (r >= 0) & (c >= 0)
        out[r[keep], c[keep]] = self.count[keep]  # cells are unique: no two land on one place
        return out

    def shown(self, diagonal: bool = True, min_count: int = 0) -> "CellCounts":
        """The cells the viewer's cell filters leave: the diagonal blanked or not, small cells dropped."""
        keep = self.count >= max(min_count, 1)
        if not diagonal:
            keep &= self.true != self.predicted
        if keep.all():
            return self
        return CellCounts(self.n_classes, self.true[keep], self.predicted[keep], self.count[keep])

    def _inside(self, classes: np.ndarray) -> np.ndarray:
        inside = np.zeros(self.n_classes, dtype=bool)
        inside[np.asarray(classes, dtype=np.int64)] = True
        return inside
