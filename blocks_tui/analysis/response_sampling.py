"""A layer too big for memory: a per-class sample for relevance, exact top samples, one streaming pass.

The relevance index (:class:`~blocks_tui.analysis.relevance.ResponseIndex`)
holds a layer's per-sample responses and a sorted copy: 4 bytes per sample
and channel, 8 GB for 2048 channels over 1,000,000 samples.  Past a memory
budget the viewer keeps instead a *stratified sample*: up to k samples of
every class, drawn with a fixed seed, so every class and every group is
represented in proportion to its classes and the relevance of Eq. 2 is
estimated from at least k samples per class.  The rows are read in one
pass over the chunked dataset, in blocks of bounded size, and the same pass
finds each channel's strongest samples among *all* samples, exactly, so
the pane's top-activating samples do not depend on the sample.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .relevance import _keys

READ_BYTES = 64 << 20
"""Largest block of rows read at once in the streaming pass."""


def stratified_rows(labels: np.ndarray, n_classes: int, max_rows: int, seed: int = 0) -> np.ndarray | None:
    """Sorted sample ids, at most ``max(1, max_rows // n_classes)`` of each class; None when all fit.

    Within a class the samples are drawn uniformly at random (``seed``), so
    the sample is the same on every load.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    if n <= max_rows:
        return None
    per_class = max(1, max_rows // max(n_classes, 1))
    order = np.lexsort((np.random.default_rng(seed).random(n), labels))  # by class, shuffled within
    counts = np.bincount(labels, minlength=n_classes)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(n) - np.repeat(first, counts)
    return np.sort(order[rank < per_class])


def stream_layer(
    read: Callable[[int, int], np.ndarray], n_rows: int, rows: np.ndarray, n_top: int,
    block_bytes: int = READ_BYTES,
) -> tuple[np.ndarray, np.ndarray]:
    """One pass over a (samples, channels) dataset: the responses of ``rows`` and every channel's top samples.

    ``read(a, b)`` returns rows ``[a, b)``.  Returns ``(kept, top)``:
    ``kept`` (len(rows), channels) the responses of the sorted sample ids
    ``rows``, and ``top`` (channels, min(n_top, n_rows)) int64 the ids of
    each channel's strongest responses over all samples, strongest first,
    ties to the lower id: what :meth:`ResponseIndex.top_samples` gives on
    the whole layer.  Memory: the kept rows, one block, and n_top per channel.

    Blocks arrive in id order, so a later sample enters a channel's top only
    with a response strictly above the n-th best so far: once the first
    n_top rows have filled it, one comparison per value finds the few
    candidates.
    """
    rows = np.asarray(rows, dtype=np.int64)
    first = read(0, min(n_rows, 1))
    channels = first.shape[1]
    step = max(1, block_bytes // max(1, channels * first.dtype.itemsize))
    kept = np.empty((len(rows), channels), dtype=first.dtype)
    n_top = min(max(n_top, 0), n_rows)
    top = _Tops(channels, n_top)
    # The first n_top rows alone fill every channel's top; each later block then only offers what beats it.
    # Blocks double in size up to ``step``: a block as big as all rows seen so far offers about n_top / 2
    # candidates per channel when the order is random, where one big block after 48 rows offered them all.
    start = 0
    while start < n_rows:
        stop = min(n_rows, start + min(step, max(n_top - start, start, 1)))
        block = read(start, stop)
        lo, hi = np.searchsorted(rows, [start, stop])
        kept[lo:hi] = block[rows[lo:hi] - start]
        if n_top:
            top.add(_keys(block), start)
        start = stop
    return kept, top.ids()


class _Tops:
    """Each channel's best ``n`` (key, id) pairs so far: larger key first, then lower id."""

    def __init__(self, channels: int, n: int) -> None:
        self.channels, self.n = channels, n
        self.keys = np.zeros((channels, 0), dtype=np.int64)
        self.idx = np.zeros((channels, 0), dtype=np.int64)

    def add(self, keys: np.ndarray, start: int) -> None:
        """Merge a block of (rows, channels) order keys whose sample ids start at ``start``."""
        if self.keys.shape[1] < self.n:  # not full yet: every value of the block is a candidate
            row, channel = np.nonzero(np.ones(keys.shape, dtype=bool))
        else:  # full: only what beats the n-th best (ties lose: their ids are higher)
            beats = keys > self.keys[:, -1].astype(keys.dtype)[None, :]
            if np.count_nonzero(beats) > 4 * self.n * self.channels and len(keys) > self.n:
                # Responses that grow along the file (samples sorted by class): keep only the block's own top.
                own = np.partition(keys.T, len(keys) - self.n, axis=1)[:, len(keys) - self.n]
                beats &= keys >= own[None, :]
            row, channel = np.nonzero(beats)
        if not len(row):
            return
        key = np.concatenate([self.keys.ravel(), keys[row, channel].astype(np.int64)])
        ids = np.concatenate([self.idx.ravel(), row + start])
        owner = np.concatenate([np.repeat(np.arange(self.channels), self.keys.shape[1]), channel])
        order = np.lexsort((ids, -key, owner))
        owner, key, ids = owner[order], key[order], ids[order]
        first = np.searchsorted(owner, np.arange(self.channels))
        count = np.diff(np.append(first, len(owner)))
        width = int(min(self.n, count.min()))  # every channel has the same count of candidates
        take = first[:, None] + np.arange(width)[None, :]
        self.keys, self.idx = key[take], ids[take]

    def ids(self) -> np.ndarray:
        return self.idx.copy() if self.n else np.zeros((self.channels, 0), dtype=np.int64)
