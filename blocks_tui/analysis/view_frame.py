"""What one screenful of the confusion matrix shows, as small integer arrays.

The viewer draws a window ``[start, stop)`` of the display order in at most
``max_bins`` bins per side (sums from a :class:`~blocks_tui.analysis.Pyramid`,
O(bins²) whatever the class count) and encodes every bin as a *code*: a
colour level for a non-zero count, or what an empty bin lies in (a child
block, a false-negative or false-positive band, the highlighted node's own
block).  Rows and columns share the same edges so the diagonal stays the
diagonal and child blocks stay square.  The terminal layer only maps codes
to colours; nothing here knows about styles, and nothing loops over samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pyramid import Pyramid, bin_edges

# Codes of empty bins (count 0), in rising precedence, then the overlays.
EMPTY = 0
BLOCK = 1  # inside a diagonal child block
FN_BAND = 2  # rows of the highlighted node, outside its columns: its false negatives
FP_BAND = 3  # columns of the highlighted node, outside its rows: its false positives
NODE_BLOCK = 4  # the highlighted node's own block (the bands' intersection)
CURSOR = 5
GUTTER = 6  # GUTTER + 2·level + shade: the hierarchy gutter, alternating shades per group
MAX_GUTTER_LEVELS = 3
LEVEL0 = GUTTER + 2 * MAX_GUTTER_LEVELS  # LEVEL0 + k: a non-zero count at colour level k
SCALES = ("linear", "log")


def aligned_edges(start: int, stop: int, n_bins: int, boundaries: list[int] | np.ndarray) -> np.ndarray:
    """Near-equal bin edges over ``[start, stop)``, with edges moved onto block ``boundaries``.

    A child block's border then falls between two bins instead of inside
    one, so the block outlines stay crisp when 1000 classes share 120 bins.
    An edge moves only to its nearest boundary and only while the edges stay
    strictly increasing, so no bin is ever empty.
    """
    edges = bin_edges(start, stop, n_bins).copy()
    if len(edges) - 1 == stop - start:
        return edges  # one bin per class: every boundary is an edge already
    snapped: set[int] = set()
    for b in sorted(int(x) for x in boundaries):
        if not start < b < stop:
            continue
        i = int(np.searchsorted(edges, b))
        if edges[i] == b:
            snapped.add(i)
            continue
        j = i - 1 if b - edges[i - 1] < edges[i] - b else i
        if 0 < j < len(edges) - 1 and j not in snapped and edges[j - 1] < b < edges[j + 1]:
            edges[j] = b
            snapped.add(j)
    return edges


def scale_levels(values: np.ndarray, n_levels: int, scale: str = "linear", top: float | None = None) -> np.ndarray:
    """(same shape) int64 colour level 0..n_levels-1 of each positive value; -1 where the value is 0.

    ``linear`` splits ``(0, top]`` into equal steps, ``log`` does the same
    on log(1 + v), which keeps single confusions visible beside a cell of
    thousands.  ``top`` defaults to the largest value; any positive value
    gets at least level 0, so 0 alone stays the background.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    if n_levels < 1:
        raise ValueError(f"n_levels must be 1 or more, got {n_levels}")
    v = np.asarray(values, dtype=np.float64)
    top = float(v.max()) if top is None and v.size else float(top or 0.0)
    out = np.full(v.shape, -1, dtype=np.int64)
    positive = v > 0
    if top <= 0 or not positive.any():
        return out
    ratio = np.log1p(v) / np.log1p(top) if scale == "log" else v / top
    out[positive] = np.clip(np.ceil(n_levels * ratio[positive]).astype(np.int64) - 1, 0, n_levels - 1)
    return out


@dataclass(frozen=True)
class MatrixFrame:
    """One window of the matrix, binned and encoded.

    ``edges`` ((bins+1,) display positions) are the bins of rows and columns
    alike; ``counts`` ((bins, bins) int64) their sums; ``codes`` ((bins,
    bins) uint8) what each bin shows; ``block`` ((bins,) int64) the child
    block each bin starts in; ``gutter`` ((bins, levels) uint8) the icicle
    codes; ``magnify`` how many columns and half rows one bin takes when the
    window has fewer classes than the screen has room for.
    """

    start: int
    stop: int
    edges: np.ndarray
    counts: np.ndarray
    codes: np.ndarray
    block: np.ndarray
    gutter: np.ndarray
    top: int
    n_levels: int
    scale: str
    magnify: int

    @property
    def bins(self) -> int:
        return len(self.edges) - 1

    @property
    def gutter_width(self) -> int:
        """Columns left of the matrix: one per gutter level and a gap, or none without a gutter."""
        levels = self.gutter.shape[1]
        return levels + 1 if levels else 0

    def bin_of(self, position: int) -> int:
        """The bin holding a display position (clamped into the window)."""
        return int(np.clip(np.searchsorted(self.edges, position, side="right") - 1, 0, self.bins - 1))

    def raster(self) -> np.ndarray:
        """(half rows, columns) uint8 codes of the whole drawing: gutter, gap, magnified matrix.

        Two consecutive half rows make one terminal line (upper half block
        in the foreground, lower in the background); an odd count is padded
        with an empty half row.
        """
        m = self.magnify
        body = np.repeat(np.repeat(self.codes, m, axis=0), m, axis=1)
        parts = [body]
        if self.gutter.shape[1]:
            gutter = np.repeat(self.gutter, m, axis=0)
            gap = np.full((body.shape[0], 1), EMPTY, dtype=np.uint8)
            parts = [gutter, gap, body]
        out = np.concatenate(parts, axis=1)
        if out.shape[0] % 2:
            out = np.concatenate([out, np.full((1, out.shape[1]), EMPTY, dtype=np.uint8)])
        return out


def frame_layout(n_classes: int, width: int, height: int, gutter_levels: int) -> tuple[int, int]:
    """``(bins, magnify)`` for a window of ``n_classes`` on a ``width`` x ``height`` cell area.

    One bin is one column and one half row, so the square matrix fits in
    ``min(width - gutter, 2·height)`` bins; a window with fewer classes is
    magnified by the largest whole factor that still fits.
    """
    room = max(1, min(width - (gutter_levels + 1 if gutter_levels else 0), 2 * height))
    bins = max(1, min(n_classes, room))
    return bins, max(1, room // bins) if bins == n_classes else 1


def matrix_frame(
    pyramid: Pyramid,
    start: int,
    stop: int,
    bins: int,
    *,
    blocks: list[tuple[int, int]] | None = None,
    band: tuple[int, int] | None = None,
    groups: list[np.ndarray] | None = None,
    n_levels: int = 32,
    scale: str = "linear",
    magnify: int = 1,
    with_counts: bool = True,
) -> MatrixFrame:
    """Bin and encode the window ``[start, stop)`` of ``pyramid`` (display positions).

    ``blocks`` are the child blocks to outline (position ranges inside the
    window), ``band`` the highlighted node's range (its FN rows and FP
    columns get tinted), ``groups`` one (stop - start,) int array per gutter
    level giving each position's group id (-1: none).  The colour scale runs
    from the smallest to the largest count of this window.  ``with_counts=False``
    lays out the bins alone (counts all zero), for a view drawn over the
    same rows.
    """
    if not 0 <= start < stop <= pyramid.shape[0]:
        raise ValueError(f"window [{start}, {stop}) must lie within [0, {pyramid.shape[0]}]")
    blocks = blocks or [(start, stop)]
    edges = aligned_edges(start, stop, bins, [a for a, _ in blocks[1:]])
    n_bins = len(edges) - 1
    counts = pyramid.bins(edges, edges) if with_counts else np.zeros((n_bins, n_bins), dtype=np.int64)
    levels = scale_levels(counts, n_levels, scale)
    lo = edges[:-1]
    starts = np.array([a for a, _ in blocks])
    block = np.clip(np.searchsorted(starts, lo, side="right") - 1, 0, len(blocks) - 1)
    empty = np.full(counts.shape, EMPTY, dtype=np.int64)
    if len(blocks) > 1:
        empty[block[:, None] == block[None, :]] = BLOCK
    if band is not None:
        inside = (lo < band[1]) & (edges[1:] > band[0])
        empty[inside[:, None] & ~inside[None, :]] = FN_BAND
        empty[~inside[:, None] & inside[None, :]] = FP_BAND
        empty[inside[:, None] & inside[None, :]] = NODE_BLOCK
    codes = np.where(levels >= 0, LEVEL0 + levels, empty).astype(np.uint8)
    gutter = _gutter(groups or [], lo - start)
    return MatrixFrame(start, stop, edges, counts, codes, block, gutter, int(counts.max(initial=0)),
                       n_levels, scale, magnify)


def _gutter(groups: list[np.ndarray], offsets: np.ndarray) -> np.ndarray:
    """(bins, levels) uint8: each level's group at each bin's first position, shades alternating per group."""
    out = np.full((len(offsets), min(len(groups), MAX_GUTTER_LEVELS)), EMPTY, dtype=np.uint8)
    for level, ids in enumerate(groups[:MAX_GUTTER_LEVELS]):
        ids = np.asarray(ids)
        # Shade by run: every change of group along the positions flips it.
        run = np.concatenate([[0], np.cumsum(ids[1:] != ids[:-1])])
        at = offsets
        shade = run[at] % 2
        out[:, level] = np.where(ids[at] >= 0, GUTTER + 2 * level + shade, EMPTY)
    return out
