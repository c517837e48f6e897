"""Responses: the class × channel map, neuron relevance (Eq. 2) and top-activating samples.

Shapes follow the cache: ``collective`` is (samples, channels), each
channel's d×d cells summed (the paper's f_N(x)), float16 as stored;
``class_mean`` is (classes, channels, d, d).

Relevance of neuron N to a group G of samples (Eq. 2) is

    R_G(N) = Q1/4({f_N(x) : x ∈ G}) / Q3/4({f_N(x) : x ∉ G})

high when N fires for three quarters of G more than it does for all but a
quarter of the rest.  The out-group is nearly all of the 50k samples, so
taking its quartile per query would cost a partial sort of the whole layer
(about 0.3 s for 512 channels).  A :class:`ResponseIndex` sorts each
channel once; a query then sorts only the smaller side (the group, for a
class) and finds the other side's quartile in the global sort by binary
search, counting the removed samples.  Quantiles are numpy's default
("linear"), computed exactly.
"""

from __future__ import annotations

import numpy as np

from .hierarchy import Tree


def _keys(values: np.ndarray) -> np.ndarray:
    """Unsigned integer keys whose order is the float order (IEEE bit trick), same width."""
    if values.dtype == np.float16:
        bits, top, full = values.view(np.uint16), np.uint16(0x8000), np.uint16(0xFFFF)
    else:
        values = values.astype(np.float32, copy=False)
        bits, top, full = values.view(np.uint32), np.uint32(0x80000000), np.uint32(0xFFFFFFFF)
    negative = (bits & top) != 0
    return np.where(negative, bits ^ full, bits | top)


def _values(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_keys`, as float64."""
    if keys.dtype == np.uint16:
        top, full, kind = np.uint16(0x8000), np.uint16(0xFFFF), np.float16
    else:
        top, full, kind = np.uint32(0x80000000), np.uint32(0xFFFFFFFF), np.float32
    positive = (keys & top) != 0
    bits = np.where(positive, keys ^ top, keys ^ full)
    return bits.view(kind).astype(np.float64)


def _count_le(rows: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row of the row-sorted (C, L) ``rows``: how many entries are ≤ ``value[c]``."""
    channels, length = rows.shape
    lo = np.zeros(channels, dtype=np.int64)
    hi = np.full(channels, length, dtype=np.int64)
    at = np.arange(channels)
    while np.any(active := lo < hi):
        mid = (lo + hi) // 2
        below = rows[at, np.minimum(mid, length - 1)] <= value
        lo = np.where(active & below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    return lo


class ResponseIndex:
    """One layer's responses sorted per channel, for fast quartiles of any sample group.

    ``collective`` is (samples, channels) float16 (or float32).  Building
    costs one radix sort of the layer (about 0.1 s for 50k × 512 float16) and
    keeps a same-sized integer copy.
    """

    def __init__(self, collective: np.ndarray) -> None:
        collective = np.asarray(collective)
        if collective.ndim != 2:
            raise ValueError(f"collective must be (samples, channels), got shape {collective.shape}")
        if collective.dtype.kind != "f":
            collective = collective.astype(np.float32)
        self.collective = collective
        samples, channels = collective.shape
        key_type = np.uint16 if collective.dtype == np.float16 else np.uint32
        self._sorted = np.empty((channels, samples), dtype=key_type)  # (channels, samples)
        # A few channels at a time: the keys' temporaries stay near 16 MB, not several copies of the layer.
        step = max(1, (16 << 20) // max(1, samples * self._sorted.itemsize))
        for c in range(0, channels, step):
            part = self._sorted[c : c + step]
            part[...] = _keys(collective[:, c : c + step]).T
            part.sort(axis=1, kind="stable")

    @property
    def n_samples(self) -> int:
        return self._sorted.shape[1]

    @property
    def nbytes(self) -> int:
        """Memory the index holds: the responses and their sorted keys."""
        return int(self.collective.nbytes + self._sorted.nbytes)

    @property
    def n_channels(self) -> int:
        return self._sorted.shape[0]

    def _quantile_of(self, side: np.ndarray, q: float) -> np.ndarray:
        """(channels,) quantile ``q`` of the samples in the row-sorted (C, m) keys ``side``."""
        m = side.shape[1]
        h = q * (m - 1)
        lo = int(np.floor(h))
        hi = min(lo + 1, m - 1)
        low, high = _values(side[:, lo]), _values(side[:, hi])
        return low + (h - lo) * (high - low)

    def _quantile_without(self, removed: np.ndarray, q: float) -> np.ndarray:
        """(channels,) quantile ``q`` of all samples except those whose row-sorted keys are ``removed``."""
        total = self.n_samples
        g = removed.shape[1]
        m = total - g
        h = q * (m - 1)
        lo = int(np.floor(h))
        hi = min(lo + 1, m - 1)
        low, high = _values(self._kth_without(removed, lo)), _values(self._kth_without(removed, hi))
        return low + (h - lo) * (high - low)

    def _kth_without(self, removed: np.ndarray, k: int) -> np.ndarray:
        """Per channel, the key of the k-th smallest (0-based) sample after dropping ``removed``.

        It is the global key at the first position t (between k and k+g) where
        the keys ≤ that key, minus the dropped ones ≤ it, exceed k.
        """
        channels = self.n_channels
        g = removed.shape[1]
        at = np.arange(channels)
        lo = np.full(channels, k, dtype=np.int64)
        hi = np.full(channels, k + g, dtype=np.int64)
        while np.any(active := lo < hi):
            mid = (lo + hi) // 2
            key = self._sorted[at, mid]
            enough = _count_le(self._sorted, key) - (_count_le(removed, key) if g else 0) >= k + 1
            hi = np.where(active & enough, mid, hi)
            lo = np.where(active & ~enough, mid + 1, lo)
        return self._sorted[at, lo]

    def top_samples(self, n: int) -> np.ndarray:
        """(channels, min(n, samples)) int64 ids of each channel's strongest responses, best first.

        The sort is already done: each channel's n-th largest key is a
        threshold, and one vectorised comparison finds the samples at or
        above it (ties at the threshold included, then cut by sample id).
        """
        n = min(max(n, 0), self.n_samples)
        if n == 0:
            return np.zeros((self.n_channels, 0), dtype=np.int64)
        cut = self._sorted[:, self.n_samples - n]  # (channels,) n-th largest key
        rows, channels = np.nonzero(_keys(self.collective) >= cut[None, :])
        keys = _keys(self.collective[rows, channels])
        # By channel, then strongest first, then lowest sample id; then keep n per channel.
        order = np.lexsort((rows, -keys.astype(np.int64), channels))
        rows, channels = rows[order], channels[order]
        first = np.searchsorted(channels, np.arange(self.n_channels))
        take = first[:, None] + np.arange(n)[None, :]
        return rows[take].astype(np.int64)

    def relevance(self, in_group: np.ndarray, eps: float = 1e-3) -> np.ndarray:
        """(channels,) float64 R_G(N) of Eq. 2 for the group ``in_group`` ((samples,) bool mask).

        The denominator is guarded: max(Q3/4 out-group, eps · scale), where
        scale is the largest out-group Q3/4 over the layer's channels (1 if
        none is positive).  So a neuron silent outside G is ranked by how
        strongly it fires inside G instead of dividing by zero, whatever the
        layer's units.  All nan when G or its complement is empty.
        """
        in_group = np.asarray(in_group)
        if in_group.dtype != bool or in_group.shape != (self.n_samples,):
            raise ValueError(f"in_group must be a ({self.n_samples},) bool mask")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        inside = int(in_group.sum())
        if inside == 0 or inside == self.n_samples:
            return np.full(self.n_channels, np.nan)
        small = in_group if inside <= self.n_samples // 2 else ~in_group
        side = np.ascontiguousarray(_keys(self.collective[small]).T)
        side.sort(axis=1, kind="stable")
        if small is in_group:
            q_in, q_out = self._quantile_of(side, 0.25), self._quantile_without(side, 0.75)
        else:
            q_in, q_out = self._quantile_without(side, 0.25), self._quantile_of(side, 0.75)
        scale = q_out.max() if np.any(q_out > 0) else 1.0
        return q_in / np.maximum(q_out, eps * scale)


def top_neurons(
    index: ResponseIndex, in_group: np.ndarray, n: int = 10, eps: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` most relevant channels for a group: ((n,) int64 channels, (n,) float64 R_G), best first.

    For a class, ``in_group = labels == c``; for a hierarchy node,
    ``tree.contains(node, labels)``.  Ties rank by channel index.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    score = index.relevance(in_group, eps)
    order = relevance_order(score)
    best = order[~np.isnan(score[order])][:n]
    return best, score[best]


def top_activating(collective: np.ndarray, neuron: int, n: int = 20, samples: np.ndarray | None = None) -> np.ndarray:
    """(≤ n,) int64 sample indices where channel ``neuron`` responds most, strongest first.

    ``collective`` is (samples, channels); ``samples`` restricts the search to
    those indices (e.g. one class).  O(samples) by partial selection.
    """
    collective = np.asarray(collective)
    if not 0 <= neuron < collective.shape[1]:
        raise ValueError(f"neuron must lie in [0, {collective.shape[1]}), got {neuron}")
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    ids = np.arange(collective.shape[0]) if samples is None else np.asarray(samples, dtype=np.int64)
    column = collective[ids, neuron].astype(np.float64)
    if n < len(ids):
        keep = np.argpartition(-column, n)[:n]
    else:
        keep = np.arange(len(ids))
    keep = keep[np.lexsort((ids[keep], -column[keep]))]
    return ids[keep].astype(np.int64)


def response_map(class_mean: np.ndarray, order: np.ndarray | None = None,
                 channel_order: np.ndarray | None = None) -> np.ndarray:
    """(classes, channels) float32 response per class and channel, rows in ``order``.

    ``class_mean`` is (classes, channels, d, d) (or already (classes,
    channels)); the d×d cells are summed, matching f_N.  ``order`` is the
    unified class order (``tree.order`` or a seriation), ``channel_order``
    e.g. :func:`peak_channel_order`.
    """
    cm = np.asarray(class_mean, dtype=np.float32)
    if cm.ndim == 4:
        cm = cm.sum(axis=(2, 3))
    if cm.ndim != 2:
        raise ValueError(f"class_mean must be (classes, channels[, d, d]), got shape {np.shape(class_mean)}")
    rows = np.arange(cm.shape[0]) if order is None else np.asarray(order, dtype=np.int64)
    columns = np.arange(cm.shape[1]) if channel_order is None else np.asarray(channel_order, dtype=np.int64)
    if rows.shape != (cm.shape[0],) or columns.shape != (cm.shape[1],):
        raise ValueError(f"order must have {cm.shape[0]} entries and channel_order {cm.shape[1]}")
    return cm[np.ix_(rows, columns)]


def peak_channel_order(response: np.ndarray) -> np.ndarray:
    """(channels,) int64 channels sorted by the row (class position) where each peaks.

    Applied to a :func:`response_map` in unified order, channels that fire
    for the same group end up side by side and the map shows a diagonal
    band following the hierarchy.  Ties by peak height, strongest first.
    """
    r = np.asarray(response, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError(f"response must be (classes, channels), got shape {r.shape}")
    peak = np.argmax(r, axis=0)
    return np.lexsort((np.arange(r.shape[1]), -r.max(axis=0), peak)).astype(np.int64)


def node_average_response(tree: Tree, labels: np.ndarray, collective: np.ndarray,
                          neuron: int | None = None) -> np.ndarray:
    """Mean response per hierarchy node over the samples labelled under it, to colour the tree.

    ``labels`` (samples,) int; ``collective`` (samples, channels).  Returns
    (nodes,) float64 for one ``neuron``, or (nodes, channels) for all.  nan
    for a node without samples.
    """
    labels = np.asarray(labels, dtype=np.int64)
    collective = np.asarray(collective)
    if collective.ndim != 2 or collective.shape[0] != len(labels):
        raise ValueError(f"collective must be ({len(labels)}, channels), got shape {collective.shape}")
    counts = np.bincount(labels, minlength=tree.n_classes).astype(np.float64)
    if neuron is not None:
        if not 0 <= neuron < collective.shape[1]:
            raise ValueError(f"neuron must lie in [0, {collective.shape[1]}), got {neuron}")
        sums = np.bincount(labels, weights=collective[:, neuron].astype(np.float64), minlength=tree.n_classes)
    else:
        by = np.argsort(labels, kind="stable")
        firsts = np.flatnonzero(np.r_[True, labels[by][1:] != labels[by][:-1]]) if len(by) else by
        sums = np.zeros((tree.n_classes, collective.shape[1]))
        if len(by):
            sums[labels[by][firsts]] = np.add.reduceat(collective[by].astype(np.float32), firsts, axis=0)
    return node_means(tree.order, tree.start, tree.stop, sums, counts)


def node_means(order: np.ndarray, start: np.ndarray, stop: np.ndarray, class_sums: np.ndarray,
               class_counts: np.ndarray) -> np.ndarray:
    """Sample-weighted mean per node, from per-class sums and sample counts.

    Nodes are ``[start, stop)`` runs of ``order`` (a tree's unified or
    display order); ``class_sums`` is (classes,) or (classes, channels),
    ``class_counts`` (classes,).  Prefix sums in that order make every node
    one subtraction: O(classes + nodes).  nan for a node without samples.
    """
    ordered = np.asarray(class_sums, dtype=np.float64)[order]
    prefix = np.concatenate([np.zeros((1,) + ordered.shape[1:]), np.cumsum(ordered, axis=0)])
    count_prefix = np.concatenate([[0.0], np.cumsum(np.asarray(class_counts, dtype=np.float64)[order])])
    node_sum = prefix[stop] - prefix[start]
    node_count = count_prefix[stop] - count_prefix[start]
    if node_sum.ndim == 2:
        node_count = node_count[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(node_count > 0, node_sum / node_count, np.nan)


def relevance_order(scores: np.ndarray) -> np.ndarray:
    """(channels,) int64 channel order: most relevant first, undefined (nan) scores last, ties by index."""
    s = np.asarray(scores, dtype=np.float64)
    key = np.where(np.isnan(s), -np.inf, s)
    return np.lexsort((np.arange(len(s)), -key)).astype(np.int64)
