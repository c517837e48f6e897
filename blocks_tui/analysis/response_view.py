"""What one screenful of the response map shows (paper Fig. 3a), as small arrays.

Rows are classes in the matrix's display order and bins; columns are
neurons, each neuron's d×d cells laid side by side, neurons sorted by
relevance to the selected group.  Values are per-class mean responses,
each neuron scaled to [0, 1] over its own range (see :func:`scaled_cells`),
and drawn by their rank among that neuron's class cells (see
:func:`cell_quantiles`): a threshold T of 0.9 paints each neuron's top 10%
yellow, so a neuron relevant to a group is yellow on the group's rows and
blue elsewhere, as in the paper's Fig. 3.  A frame touches only the visible
columns: O(window classes × visible columns), whatever the channel count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .relevance import ResponseIndex, node_means, response_map


@dataclass(frozen=True)
class LayerView:
    """One layer, ready for the viewer: scaled class means, per-neuron tops, and a relevance index.

    ``cells`` is (classes, channels, d·d) float32 in [0, 1]; ``node_mean``
    inputs are ``class_channel`` (classes, channels) float64 mean collective
    responses and ``class_count`` (classes,) samples per class;
    ``top_samples`` (channels, ≤ n) the strongest-responding sample ids per
    channel, best first.  ``rows`` are the sample ids the relevance index
    holds when the layer was too big for memory (a per-class sample, see
    :mod:`~blocks_tui.analysis.response_sampling`); None when it holds all.
    ``index`` is None in a view of the class means alone (:func:`class_view`):
    the map can be drawn from it while the samples are still being read.
    ``quantiles`` is (channels, :data:`RANK_POINTS`) each neuron's cells at
    evenly spaced ranks (:func:`cell_quantiles`), what a value's rank is read from.
    """

    name: str
    d: int
    cells: np.ndarray
    class_channel: np.ndarray
    class_count: np.ndarray
    top_samples: np.ndarray
    index: ResponseIndex | None
    rows: np.ndarray | None = None
    quantiles: np.ndarray = field(default_factory=lambda: np.zeros((0, RANK_POINTS), dtype=np.float32))

    def ranks(self, values: np.ndarray, channels: np.ndarray) -> np.ndarray:
        """:func:`cell_ranks` of ``values`` (rows × the d·d cells of each of ``channels``) in this layer."""
        return cell_ranks(values, channels, self.quantiles, self.d * self.d)

    def relevance(self, in_group: np.ndarray) -> np.ndarray:
        """(channels,) R_G of Eq. 2 for a (samples,) bool mask over *all* samples, on the rows the index holds."""
        if self.index is None:
            raise ValueError(f"layer {self.name}: its samples are not read yet, so nothing can be ranked")
        in_group = np.asarray(in_group, dtype=bool)
        return self.index.relevance(in_group if self.rows is None else in_group[self.rows])

    @property
    def nbytes(self) -> int:
        """Memory the view holds (its arrays and its relevance index)."""
        arrays = [self.cells, self.class_channel, self.class_count, self.top_samples, self.quantiles]
        if self.rows is not None:
            arrays.append(self.rows)
        return int(sum(a.nbytes for a in arrays) + (self.index.nbytes if self.index is not None else 0))

    @property
    def n_channels(self) -> int:
        return self.cells.shape[1]


def scaled_cells(class_mean: np.ndarray) -> np.ndarray:
    """(classes, channels, d, d) means → (classes, channels, d·d) float32 in [0, 1].

    Each neuron is scaled between its own weakest and strongest class-mean
    cell, so a threshold T reads the same for every neuron: yellow marks
    the classes (and image regions) where that neuron is in the top 1 - T
    of its range.  One scale for the whole layer would paint broadly-firing
    early-layer neurons yellow everywhere and leave sparse ones black, and
    scaling by the peak alone does the first for neurons with a high floor.
    """
    cm = np.asarray(class_mean, dtype=np.float32)
    if cm.ndim == 2:
        cm = cm[:, :, None, None]
    if cm.ndim != 4:
        raise ValueError(f"class_mean must be (classes, channels, d, d), got shape {cm.shape}")
    flat = cm.reshape(cm.shape[0], cm.shape[1], -1)
    if flat.size == 0:
        return flat
    low = flat.min(axis=(0, 2))[None, :, None]
    span = flat.max(axis=(0, 2))[None, :, None] - low
    return np.divide(flat - low, span, out=np.zeros_like(flat), where=span > 0)


def class_view(name: str, class_mean: np.ndarray, labels: np.ndarray, n_classes: int) -> LayerView:
    """A layer's map from its class means alone, without the per-sample index: what the response map
    draws first, while a second job reads the samples (a second at 10,000 classes against several)."""
    labels = np.asarray(labels, dtype=np.int64)
    cells = scaled_cells(class_mean)
    d = int(round(np.sqrt(cells.shape[2])))
    return LayerView(name, d, cells, response_map(class_mean).astype(np.float32),
                     np.bincount(labels, minlength=n_classes).astype(np.float64),
                     np.zeros((cells.shape[1], 0), dtype=np.int64), None, quantiles=cell_quantiles(cells))


DEFAULT_THRESHOLD = 0.9
"""Yellow for each neuron's top 10% of class cells: a neuron relevant to a group lights its rows, as in Fig. 3."""
RANK_GAMMA = 3.0
"""Below T, a cell's shade rises with the cube of its rank over T: a neuron's middling cells stay dark and
only those near T turn light, so its yellow rows stand out as in Fig. 3 instead of a map of even blue."""
RANK_POINTS = 512
"""Order statistics kept per neuron: ranks to 0.2%, where T moves in steps of 5%."""
RANK_SAMPLE = 8192
"""Class cells per neuron the order statistics are read from; a layer with more draws this many (fixed seed)."""
QUANTILE_CHANNELS = 128
"""Channels sorted at a time for the table: 4 MB of temporaries at :data:`RANK_SAMPLE` cells."""


def cell_quantiles(cells: np.ndarray, points: int = RANK_POINTS, max_cells: int = RANK_SAMPLE,
                   seed: int = 0) -> np.ndarray:
    """(channels, points) float32: each neuron's (classes × d·d) cells at ``points`` evenly spaced ranks.

    Why ranks: a neuron's class means are rarely spread evenly over its range.
    Scaled to [0, 1] and cut at T = 0.5, broadly-firing neurons were yellow
    on many rows, and a neuron relevant to one group did not always stand
    out (on the demo's last stage, the top neuron of 'plants' had no yellow
    cell on its own rows).  Cut at a rank instead, T = 0.9 paints exactly a neuron's top 10%
    of cells, wherever its values sit.  Exact up to ``max_cells`` cells per
    neuron; past that (10,000 classes × 9 cells) read from a fixed random
    sample of cells, the same for every neuron, so building it stays one
    small sort per layer, done :data:`QUANTILE_CHANNELS` channels at a time
    so that its temporaries stay a few MB whatever the layer's width.
    """
    classes, channels = cells.shape[:2]
    width = cells.shape[2] if cells.ndim == 3 else 1
    flat = cells.reshape(classes, channels, width)
    n = classes * width
    if n == 0:
        return np.zeros((channels, points), dtype=np.float32)
    chosen = None if n <= max_cells else np.sort(np.random.default_rng(seed).choice(n, max_cells, replace=False))
    at = np.round(np.linspace(0, min(n, max_cells) - 1, points)).astype(np.int64)
    out = np.empty((channels, points), dtype=np.float32)
    for first in range(0, channels, QUANTILE_CHANNELS):
        part = flat[:, first : first + QUANTILE_CHANNELS]
        if chosen is None:
            picked = part.transpose(1, 0, 2).reshape(part.shape[1], n)
        else:
            picked = part[chosen // width, :, chosen % width].T  # (channels of this part, max_cells)
        out[first : first + part.shape[1]] = np.sort(picked, axis=1)[:, at]
    return out


def cell_ranks(values: np.ndarray, channels: np.ndarray, quantiles: np.ndarray, width: int) -> np.ndarray:
    """Share of its neuron's cells each value exceeds, in [0, 1): ``values`` is (rows, len(channels) · width),
    each channel's ``width`` cells side by side, as :func:`response_rows` gives them.

    Ties count as not exceeded, so a neuron's silent cells (often most of
    them after a ReLU) rank 0 and stay dark, never yellow.
    """
    channels = np.asarray(channels, dtype=np.int64)
    return (_count_below(values, quantiles[channels], width) / quantiles.shape[1]).astype(np.float32)


def rank_levels(values: np.ndarray, channels: np.ndarray, quantiles: np.ndarray, width: int, threshold: float,
                n_levels: int, gamma: float) -> np.ndarray:
    """``threshold_levels(cell_ranks(values, ...), threshold, n_levels, gamma)``, found without the ranks.

    Each level starts at a rank, hence at one entry of the neuron's table: a
    frame compares its cells with n_levels boundaries per visible neuron
    instead of searching the whole table for every cell (0.7 ms a frame).
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    channels = np.asarray(channels, dtype=np.int64)
    points = quantiles.shape[1]
    starts = threshold * (np.arange(1, n_levels + 1) / n_levels) ** (1.0 / gamma)  # rank where level l begins
    # rank >= r  <=>  more than r·points entries lie below  <=>  the value exceeds entry ceil(r·points) - 1
    entry = np.ceil(np.round(starts * points, 9)).astype(np.int64) - 1
    table = quantiles[channels][:, np.clip(entry, 0, points - 1)].astype(np.float64)
    table[:, entry < 0] = -0.5  # below every cell: always passed
    table[:, entry >= points] = 1.5  # above every cell: never passed
    return _count_below(values, table, width)


def _count_below(values: np.ndarray, tables: np.ndarray, width: int) -> np.ndarray:
    """(rows, columns) int64: entries of each column's table (row k of ``tables`` for the k-th ``width``
    columns; each row sorted, within [-0.5, 1.5]) strictly below the value there.

    One search for every visible neuron: values lie in [0, 1], so shifting
    neuron k's table and values by 3k lays the tables end to end in one
    sorted array; a Python loop of searches cost a millisecond a frame.
    """
    values = np.asarray(values, dtype=np.float64)
    n = tables.shape[1]
    if values.size == 0:
        return np.zeros(values.shape, dtype=np.int64)
    shift = 3.0 * np.arange(tables.shape[0])
    k = np.repeat(np.arange(tables.shape[0]), width)[None, :]
    found = np.searchsorted((tables + shift[:, None]).ravel(), values + 3.0 * k, side="left")
    return found - k * n


def with_index(view: LayerView, collective: np.ndarray, n_top: int = 48, rows: np.ndarray | None = None,
               top_samples: np.ndarray | None = None) -> LayerView:
    """``view`` with its relevance index over ``collective``: every sample, or only the sorted sample ids
    ``rows`` with ``top_samples`` found over all of them."""
    index = ResponseIndex(collective)
    if rows is None:
        return replace(view, top_samples=index.top_samples(n_top), index=index, rows=None)
    if top_samples is None:
        raise ValueError("a layer held as a sample of rows needs the top samples found over all rows")
    return replace(view, top_samples=top_samples, index=index, rows=np.asarray(rows, dtype=np.int64))


def build_layer_view(name: str, class_mean: np.ndarray, collective: np.ndarray, labels: np.ndarray,
                     n_classes: int, n_top: int = 48, rows: np.ndarray | None = None,
                     top_samples: np.ndarray | None = None) -> LayerView:
    """Everything the viewer needs from one layer: :func:`class_view` then :func:`with_index`.

    The per-class mean collective response is the class mean's d×d cells
    summed (the collective response is that sum per sample), so it needs no
    pass over the samples.
    """
    return with_index(class_view(name, class_mean, labels, n_classes), collective, n_top, rows, top_samples)


def node_channel_means(view: LayerView, order: np.ndarray, start: np.ndarray, stop: np.ndarray,
                       channel: int) -> np.ndarray:
    """(nodes,) mean response of ``channel`` for every node given as ``[start, stop)`` ranges of ``order``.

    From the class means weighted by class size, so colouring a 2000-node
    tree costs O(classes + nodes) and no pass over samples.
    """
    sums = np.nan_to_num(view.class_channel[:, channel]) * view.class_count
    return node_means(order, start, stop, sums, view.class_count)


def spread_to_unit(values: np.ndarray) -> np.ndarray:
    """``values`` mapped linearly onto [0, 1], the smallest finite one to 0 and the largest to 1.

    The tree's bars show a neuron's mean response per node on the same 0-1
    scale as a group metric; a neuron's raw means may all sit in a narrow
    band, which unscaled bars would not tell apart.  All equal (or none
    finite): zeros.  Otherwise NaN stays NaN (a node without samples has no bar).
    """
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low, top = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    span = top - low
    return (values - low) / span if span > 0 else np.zeros_like(values)


def response_rows(cells: np.ndarray, order: np.ndarray, edges: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """(bins, len(channels) · d·d) float32: mean scaled response of each row bin, for the given channels.

    ``edges`` are the matrix frame's bin edges (display positions),
    ``order`` the display order (position → class), ``channels`` the
    visible channels in screen order; their d·d cells sit side by side.
    """
    edges = np.asarray(edges, dtype=np.int64)
    rows = np.asarray(order, dtype=np.int64)[edges[0]:edges[-1]]
    # One gather of the window's rows × the visible channels: copying every channel of every row cost 20 MB
    # at 1000 x 512, and picking channels and then rows copied twice (46 against 32 ms at 10,000 classes).
    block = cells[np.ix_(rows, np.asarray(channels, dtype=np.int64))].reshape(len(rows), -1)
    sums = np.add.reduceat(block, edges[:-1] - edges[0], axis=0) if len(rows) else block
    sizes = np.diff(edges).astype(np.float32)[:, None]
    return (sums / sizes).astype(np.float32)


ROW_BLOCK = 16
"""Display positions per block of :func:`position_block_sums`."""


def position_block_sums(cells: np.ndarray, order: np.ndarray, block: int = ROW_BLOCK) -> np.ndarray:
    """(ceil(classes / block) + 1, channels · d·d) float64 running sums of ``cells`` over blocks of ``block``
    display positions: row i is the sum of positions [0, i · block).

    With it a bin's sum is its whole blocks' difference plus at most
    2 · block rows at its ends, so a frame costs O(bins · block · visible
    columns) instead of O(window classes · visible columns): 14.7 ms at
    10,000 classes.  Built a chunk of blocks at a time (temporaries of a
    few MB); one pass over the layer, once per layer and display order.
    """
    order = np.asarray(order, dtype=np.int64)
    n = len(order)
    n_blocks = -(-n // block)
    flat = cells.reshape(cells.shape[0], -1)
    sums = np.zeros((n_blocks + 1, flat.shape[1]), dtype=np.float64)
    step = max(1, (8 << 20) // max(1, block * flat.shape[1] * flat.itemsize))  # blocks per chunk
    for first in range(0, n_blocks, step):
        last = min(n_blocks, first + step)
        rows = flat[order[first * block : min(n, last * block)]]
        padded = np.zeros(((last - first) * block, flat.shape[1]), dtype=np.float64)
        padded[: len(rows)] = rows
        sums[first + 1 : last + 1] = padded.reshape(last - first, block, -1).sum(axis=1)
    return np.cumsum(sums, axis=0, out=sums)


def blocked_response_rows(cells: np.ndarray, order: np.ndarray, edges: np.ndarray, channels: np.ndarray,
                          block_sums: np.ndarray, block: int = ROW_BLOCK) -> np.ndarray:
    """:func:`response_rows` from :func:`position_block_sums`: the same values (to float rounding)."""
    edges = np.asarray(edges, dtype=np.int64)
    channels = np.asarray(channels, dtype=np.int64)
    width = cells.shape[2] if cells.ndim == 3 else 1
    columns = (channels[:, None] * width + np.arange(width)[None, :]).ravel()
    start, stop = edges[:-1], edges[1:]
    inner_lo = -(-start // block)  # first whole block of each bin
    inner_hi = stop // block  # one past its last whole block
    whole = inner_hi > inner_lo
    sums = np.zeros((len(start), len(columns)), dtype=np.float64)
    sums[whole] = block_sums[np.ix_(inner_hi[whole], columns)] - block_sums[np.ix_(inner_lo[whole], columns)]
    # The rows outside whole blocks: each bin's head and tail (or all of a bin without a whole block), laid
    # out bin by bin so that one reduceat sums them.
    head_end = np.where(whole, np.minimum(inner_lo * block, stop), stop)
    tail_start = np.where(whole, np.maximum(inner_hi * block, head_end), stop)
    seg_start = np.stack([start, tail_start], axis=1).ravel()
    seg_len = np.stack([head_end - start, stop - tail_start], axis=1).ravel()
    total = int(seg_len.sum())
    if total:
        # Consecutive runs [seg_start, seg_start + seg_len) as one index array, without a Python loop.
        offsets = np.repeat(seg_start - np.concatenate([[0], np.cumsum(seg_len)[:-1]]), seg_len)
        positions = offsets + np.arange(total)
        picked = cells.reshape(cells.shape[0], -1)[np.ix_(np.asarray(order)[positions], columns)]
        per_bin = seg_len.reshape(-1, 2).sum(axis=1)
        has = per_bin > 0
        firsts = np.concatenate([[0], np.cumsum(per_bin)[:-1]])[has]
        sums[has] += np.add.reduceat(picked, firsts, axis=0)
    return (sums / np.diff(edges).astype(np.float64)[:, None]).astype(np.float32)


def threshold_levels(values: np.ndarray, threshold: float, n_levels: int, gamma: float = 1.0) -> np.ndarray:
    """Colour level of each value: 0..n_levels-1 rising towards ``threshold``, ``n_levels`` at or above it.

    The paper draws values below T from black to light blue and those at or
    above T in yellow, so the neurons that pass T stand out at a glance.
    ``gamma`` > 1 keeps the light steps for values close to T: ranks are
    spread evenly, and an even ramp of them paints half the map light blue.
    """
    if n_levels < 1:
        raise ValueError(f"n_levels must be 1 or more, got {n_levels}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    v = np.asarray(values, dtype=np.float32)
    below = np.clip((np.clip(v / threshold, 0, 1) ** gamma * n_levels).astype(np.int64), 0, n_levels - 1)
    return np.where(v >= threshold, n_levels, below)


def yellow_shares(view: LayerView, in_group: np.ndarray, channel: int, threshold: float) -> tuple[float, float]:
    """Share of ``channel``'s class cells drawn yellow at ``threshold``, on the rows of the classes in
    ``in_group`` ((classes,) bool) and on the others: how much a neuron relevant to a group stands out on
    its rows (nan for an empty side)."""
    in_group = np.asarray(in_group, dtype=bool)
    width = view.d * view.d
    yellow = view.ranks(view.cells[:, channel].reshape(-1, width), np.array([channel])) >= threshold
    inside = float(yellow[in_group].mean()) if in_group.any() else float("nan")
    outside = float(yellow[~in_group].mean()) if (~in_group).any() else float("nan")
    return inside, outside
