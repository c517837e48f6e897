"""Filtered confusion matrices and the samples behind each cell.

The viewer rebuilds the confusion matrix on every filter change (diagonal
on or off, a minimum cell count, top-k error, probability ranges, a sample
subset), so the build is one boolean mask over samples and one sort of
their cell ids, O(samples) whatever the number of classes.  The same sort
that counts the cells also indexes them: samples are kept grouped by cell,
so the samples of any cell are one slice, found in time proportional to the
cell's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._checks import topk_rows
from .cells import CellCounts

GROUP_PARTS = ("tp", "fn", "fp")


@dataclass(frozen=True, eq=False)  # eq=False: ``samples`` may be an array, which has no truth value
class ConfusionFilter:
    """Which samples and cells a confusion matrix shows.  The default shows everything.

    ``top_k``: keep only the samples whose label is *not* among the first k
    predictions, so the matrix shows the top-k error (k = 1 drops the
    correct ones).  ``predicted_prob`` and ``true_prob`` are closed ranges
    ``(low, high)`` on the top-1 probability and on the probability of the
    labelled class.  ``samples`` restricts to a subset: sample indices or a
    (samples,) bool mask.  ``min_count`` blanks cells with fewer samples,
    ``diagonal=False`` blanks the correct predictions.  Sample filters apply
    first, cell filters last, so they combine in any mix.
    """

    diagonal: bool = True
    min_count: int = 0
    top_k: int | None = None
    predicted_prob: tuple[float, float] | None = None
    true_prob: tuple[float, float] | None = None
    samples: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.min_count < 0:
            raise ValueError(f"min_count must be 0 or more, got {self.min_count}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be 1 or more, got {self.top_k}")
        for name in ("predicted_prob", "true_prob"):
            bounds = getattr(self, name)
            if bounds is not None and (len(bounds) != 2 or bounds[0] > bounds[1]):
                raise ValueError(f"{name} must be a (low, high) pair with low <= high, got {bounds}")


def sample_mask(
    flt: ConfusionFilter,
    labels: np.ndarray,
    topk_index: np.ndarray,
    topk_prob: np.ndarray | None = None,
    true_prob: np.ndarray | None = None,
) -> np.ndarray:
    """(samples,) bool: the samples that pass ``flt``'s sample filters.

    ``labels`` (samples,) int, ``topk_index`` (samples, k) int best first,
    ``topk_prob`` (samples, k) float, ``true_prob`` (samples,) float.  The
    probability arrays are needed only by the filters that use them.
    """
    labels = np.asarray(labels)
    n = len(labels)
    topk_index = topk_rows(topk_index, n, "topk_index")
    keep = np.ones(n, dtype=bool)
    if flt.samples is not None:
        subset = np.asarray(flt.samples)
        if subset.dtype == bool:
            if subset.shape != (n,):
                raise ValueError(f"samples mask must have shape ({n},), got {subset.shape}")
            keep &= subset
        else:
            subset = subset.astype(np.int64, copy=False)
            if subset.size and (subset.min() < 0 or subset.max() >= n):
                raise ValueError(f"samples indices must lie in [0, {n})")
            chosen = np.zeros(n, dtype=bool)
            chosen[subset] = True
            keep &= chosen
    if flt.top_k is not None:
        if flt.top_k > topk_index.shape[1]:
            raise ValueError(f"top_k must be at most {topk_index.shape[1]}, the stored k, got {flt.top_k}")
        keep &= ~(topk_index[:, : flt.top_k] == labels[:, None]).any(axis=1)
    if flt.predicted_prob is not None:
        if topk_prob is None:
            raise ValueError("topk_prob is needed to filter on predicted_prob")
        p = np.asarray(topk_prob)[:, 0]
        keep &= (p >= flt.predicted_prob[0]) & (p <= flt.predicted_prob[1])
    if flt.true_prob is not None:
        if true_prob is None:
            raise ValueError("true_prob is needed to filter on true_prob")
        p = np.asarray(true_prob)
        keep &= (p >= flt.true_prob[0]) & (p <= flt.true_prob[1])
    return keep


@dataclass(frozen=True, eq=False)  # eq=False: the fields are arrays
class FilteredConfusion:
    """A filtered confusion matrix, as its non-zero cells, and an index from its cells to their samples.

    ``cells``: the counts after every filter, rows true class, columns
    predicted (:class:`~blocks_tui.analysis.cells.CellCounts`; :attr:`matrix`
    is the dense array, for small caches).  ``mask`` (samples,) bool: the
    samples that passed the sample filters.  ``by_cell`` holds the kept
    samples' indices grouped by cell (row-major) and ``codes`` their cells
    (``true · classes + predicted``), sorted, so a cell's samples are the
    slice a binary search finds: O(samples) memory, where an offsets table
    was 800 MB at 10,000 classes.
    """

    cells: CellCounts
    mask: np.ndarray
    by_cell: np.ndarray
    codes: np.ndarray

    @property
    def n_classes(self) -> int:
        return self.cells.n_classes

    @cached_property
    def matrix(self) -> np.ndarray:
        """(classes, classes) int64, dense: O(classes²), so for reports and small caches, not the viewer."""
        return self.cells.dense()

    def cell_samples(self, true: int, predicted: int) -> np.ndarray:
        """(count,) int64 sample indices in cell (true, predicted), ascending; O(count + log samples).

        Empty for a cell that a cell filter (diagonal, minimum count) blanked.
        """
        n = self.n_classes
        if not (0 <= true < n and 0 <= predicted < n):
            raise ValueError(f"cell ({true}, {predicted}) lies outside the {n}x{n} matrix")
        if self.cells.at(true, predicted) == 0:
            return np.empty(0, dtype=np.int64)
        return self._samples_of(np.array([true * n + predicted]))

    def block_samples(self, rows: np.ndarray, columns: np.ndarray, shown: CellCounts | None = None) -> np.ndarray:
        """Sample indices of every shown cell in ``rows`` × ``columns`` (class indices), ascending.

        For a selected block of the matrix.  ``shown`` replaces :attr:`cells`
        as the cells to include, for cell filters applied after this index
        was built.  Costs O(non-zero cells + samples found), or less for a
        block of fewer cells than that.
        """
        chosen = (self.cells if shown is None else shown).select(rows, columns)
        return np.sort(self._samples_of(chosen.codes))

    def _samples_of(self, cells: np.ndarray) -> np.ndarray:
        """The kept samples of ``cells`` (codes, ascending), cell by cell."""
        if not len(cells):
            return np.empty(0, dtype=np.int64)
        starts, stops = np.searchsorted(self.codes, cells, "left"), np.searchsorted(self.codes, cells, "right")
        lengths = stops - starts
        if not lengths.sum():
            return np.empty(0, dtype=np.int64)
        starts, stops, lengths = starts[lengths > 0], stops[lengths > 0], lengths[lengths > 0]
        # One gather: the positions start, start+1, ..., stop-1 of every cell at once.
        ends = np.cumsum(lengths)
        steps = np.ones(int(ends[-1]), dtype=np.int64)
        steps[0] = starts[0]
        steps[ends[:-1]] = starts[1:] - stops[:-1] + 1
        return self.by_cell[np.cumsum(steps)]

    def group_samples(self, classes: np.ndarray, part: str) -> np.ndarray:
        """A group's true positives (``"tp"``), false negatives (``"fn"``) or false positives (``"fp"``).

        A group is a set of class indices (a tree node's): TP are truly in it
        and predicted into it, FN truly in it and predicted out, FP predicted
        into it from outside (the paper's bands, §3.2).  Sample indices,
        ascending; the diagonal counts whatever the cell filters hide.
        """
        if part not in GROUP_PARTS:
            raise ValueError(f"part must be one of {GROUP_PARTS}, got {part!r}")
        inside = np.zeros(self.n_classes, dtype=bool)
        inside[np.asarray(classes, dtype=np.int64)] = True
        # From the kept samples' cells, O(samples): a group of most classes has classes² cells to walk.
        truly, into = inside[self.codes // self.n_classes], inside[self.codes % self.n_classes]
        chosen = {"tp": truly & into, "fn": truly & ~into, "fp": ~truly & into}[part]
        return np.sort(self.by_cell[chosen])


def filtered_confusion(
    labels: np.ndarray,
    topk_index: np.ndarray,
    n_classes: int,
    flt: ConfusionFilter | None = None,
    topk_prob: np.ndarray | None = None,
    true_prob: np.ndarray | None = None,
) -> FilteredConfusion:
    """The confusion matrix of one result set under ``flt``, with its cell index.

    Shapes as in :func:`sample_mask`.  A mask and one sort of the kept
    samples' cell codes: O(samples · log samples), nothing of size classes².
    """
    flt = flt or ConfusionFilter()
    labels = np.asarray(labels, dtype=np.int64)
    topk_index = np.asarray(topk_index)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    mask = sample_mask(flt, labels, topk_index, topk_prob, true_prob)
    kept = np.flatnonzero(mask)
    predicted = topk_index[kept, 0].astype(np.int64)
    if predicted.size and (predicted.min() < 0 or predicted.max() >= n_classes):
        raise ValueError(f"topk_index must lie in [0, {n_classes})")
    cell = labels[kept] * n_classes + predicted
    order = np.argsort(cell, kind="stable")
    by_cell, codes = kept[order], cell[order]
    cells = CellCounts.of_sorted_codes(codes, n_classes).shown(flt.diagonal, flt.min_count)
    return FilteredConfusion(cells=cells, mask=mask, by_cell=by_cell, codes=codes)
