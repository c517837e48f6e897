"""The response map's state: layer, threshold, neuron order and cursor (Textual-free, like the model).

Loading a layer (reading its per-sample responses, sorting them for
relevance) takes up to a second at 50k samples, so it is a worker job
(:func:`load_layer`); ranking the neurons for a new group is a second,
shorter job (:func:`rank_neurons`).  Everything a key press needs after
that (a frame, the neuron under the cursor, the tree's colours) is
computed from the loaded :class:`~blocks_tui.analysis.response_view.LayerView`
in O(visible cells) or O(classes).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..analysis.response_view import (
    ROW_BLOCK,
    DEFAULT_THRESHOLD,
    RANK_GAMMA,
    RANK_POINTS,
    LayerView,
    blocked_response_rows,
    class_view,
    node_channel_means,
    position_block_sums,
    response_rows,
    rank_levels,
    with_index,
)
from ..analysis.relevance import relevance_order
from ..analysis.response_sampling import stratified_rows, stream_layer
from .layer_budget import LAYER_BUDGET

THRESHOLD_STEP = 0.05
TOP_SAMPLES = 48
"""Strongest-responding samples kept per neuron, for the pane."""
RESPONSE_LEVELS = 16  # colour steps below the threshold; one more (yellow) at or above it


@dataclass(frozen=True)
class Ranking:
    """Neurons ranked by relevance R_G(N) to a group (computed in a worker)."""

    layer: str
    group: int  # base node
    group_name: str
    scores: np.ndarray  # (channels,) float64, nan where undefined
    order: np.ndarray  # (channels,) int64, most relevant first


@dataclass(frozen=True)
class ResponseFrame:
    """One screenful: ``levels`` (row bins, visible neurons · d·d) colour levels, and what they are."""

    levels: np.ndarray
    channels: np.ndarray  # visible channels, screen order
    relevance: np.ndarray  # (visible,) float64 R_G of each, nan if unranked
    d: int
    first: int  # rank of the first visible neuron


def load_layer(cache: Any, name: str, n_classes: int, budget: int = LAYER_BUDGET) -> LayerView:
    """Read one layer's class means and per-sample responses and index them: both jobs in one."""
    return index_layer(cache, load_class_view(cache, name, n_classes), budget)


def load_class_view(cache: Any, name: str, n_classes: int) -> LayerView:
    """The first job of a layer: its class means, enough to draw the map (0.6 s for 256 channels at 10,000
    classes, where reading a million samples' responses takes several)."""
    layer = cache.layer(name)
    try:
        return class_view(name, layer.class_mean(), cache.labels, n_classes)
    finally:
        layer.release()


class LoadStopped(Exception):
    """A layer's samples stopped being read: the user moved on to another layer."""


def index_layer(cache: Any, view: LayerView, budget: int = LAYER_BUDGET,
                stop: Callable[[], bool] = lambda: False) -> LayerView:
    """The second job: ``view`` with its relevance index and top samples, from the per-sample responses.

    The index takes 4 bytes per sample and channel.  When that and the class
    arrays exceed ``budget`` bytes, it holds a per-class sample that fits
    (read in one streaming pass, which also finds the exact top samples);
    see :mod:`~blocks_tui.analysis.response_sampling`.  ``stop`` is asked
    before every block of that pass: a thread cannot be killed, so a layer
    left behind would otherwise go on reading, and holding, its samples;
    it raises :class:`LoadStopped`.
    """
    layer = cache.layer(view.name)
    labels = cache.labels
    n_classes = len(view.class_count)

    def read(start: int, stop_row: int) -> np.ndarray:
        if stop():
            raise LoadStopped(view.name)
        return layer.collective(slice(start, stop_row))

    try:
        rows = stratified_rows(labels, n_classes, index_rows(layer, n_classes, budget))
        if rows is None:
            return with_index(view, layer.collective(), TOP_SAMPLES)
        kept, top = stream_layer(read, len(labels), rows, TOP_SAMPLES)
    finally:
        layer.release()
    return with_index(view, kept, TOP_SAMPLES, rows=rows, top_samples=top)


def _class_bytes(layer: Any, n_classes: int) -> int:
    """What a layer's class arrays take while it loads: its class means, their scaled copy, per-class sums."""
    return n_classes * layer.channels * (2 * layer.d * layer.d + 1) * 4


def index_rows(layer: Any, n_classes: int, budget: int) -> int:
    """How many samples' responses a layer's relevance index may hold within ``budget`` bytes (4 per channel)."""
    return max(0, budget - _class_bytes(layer, n_classes)) // (4 * layer.channels)


def layer_bytes(layer: Any, n_classes: int, n_samples: int, budget: int) -> int:
    """What :func:`load_layer` will hold for ``layer`` (:attr:`LayerView.nbytes`), known from its shape before
    it is read: scaled class means, per-class sums, the rank table, the index's rows, their ids and the top
    samples."""
    rows = index_rows(layer, n_classes, budget)
    sampled = n_samples > rows
    rows = min(n_samples, max(rows, n_classes) if sampled else n_samples)
    held = n_classes * layer.channels * (layer.d * layer.d + 1) * 4 + n_classes * 8
    tops = layer.channels * min(TOP_SAMPLES, n_samples) * 8
    held += layer.channels * RANK_POINTS * 4
    return held + rows * (4 * layer.channels + (8 if sampled else 0)) + tops


def rank_neurons(view: LayerView, labels: np.ndarray, classes: np.ndarray, group: int, group_name: str) -> Ranking:
    """Eq. 2 relevance of every neuron of the layer to the samples labelled with ``classes``."""
    inside = np.zeros(view.class_count.shape[0], dtype=bool)
    inside[classes] = True
    scores = view.relevance(inside[np.asarray(labels)])
    return Ranking(view.name, group, group_name, scores, relevance_order(scores))


@dataclass
class ResponseState:
    """What the response map shows; the app owns one and asks it for frames."""

    layer_names: list[str]
    budget: int = LAYER_BUDGET  # bytes the loaded layers may hold (``view --memory``)
    layer: int = 0
    threshold: float = DEFAULT_THRESHOLD  # a rank: yellow marks each neuron's top 1 - T of cells
    views: dict[str, LayerView] = field(default_factory=dict)
    ranking: Ranking | None = None
    neuron: int = 0  # rank position of the cursor's neuron in the current order
    first: int = 0  # rank position of the first visible neuron
    row: int = 0  # cursor row bin
    _blocks: tuple[weakref.ref, weakref.ref, np.ndarray] | None = field(default=None, repr=False)  # _block_sums

    @property
    def layer_name(self) -> str | None:
        return self.layer_names[self.layer] if self.layer_names else None

    @property
    def view(self) -> LayerView | None:
        name = self.layer_name
        return self.views.get(name) if name else None

    def remember(self, view: LayerView, budget: int | None = None) -> list[str]:
        """Keep a loaded layer, and drop the least recently loaded others while the kept ones hold more than
        ``budget`` bytes (default :attr:`budget`; the current layer is never dropped); the names dropped.  A
        layer of 2048 channels over 50k samples holds about 0.6 GB, so keeping every one opened grew the
        viewer past 1 GB."""
        budget = self.budget if budget is None else budget
        self.views.pop(view.name, None)
        self.views[view.name] = view  # the newest last
        dropped = []
        for name in list(self.views):
            if sum(v.nbytes for v in self.views.values()) <= budget:
                break
            if name not in (view.name, self.layer_name):
                del self.views[name]
                dropped.append(name)
        return dropped

    def make_room(self, expected: int) -> list[str]:
        """Before a layer of about ``expected`` bytes loads: drop the least recently loaded ones until it fits
        beside the rest within :attr:`budget`, so the viewer never holds two full budgets at once; the names
        dropped."""
        dropped = []
        for name in list(self.views):
            if sum(v.nbytes for v in self.views.values()) + expected <= self.budget:
                break
            del self.views[name]
            dropped.append(name)
        return dropped

    def step_layer(self, step: int) -> str | None:
        if not self.layer_names:
            return None
        self.layer = (self.layer + step) % len(self.layer_names)
        self.neuron = self.first = 0
        return self.layer_name

    def step_threshold(self, step: int) -> float:
        """Move T by one step (5 points) within [0.05, 1]."""
        self.threshold = float(np.clip(round(self.threshold + step * THRESHOLD_STEP, 2), THRESHOLD_STEP, 1.0))
        return self.threshold

    def order(self) -> np.ndarray:
        """The current neuron order: by relevance when ranked for this layer, else channel order."""
        view = self.view
        if view is None:
            return np.zeros(0, dtype=np.int64)
        if self.ranking is not None and self.ranking.layer == view.name:
            return self.ranking.order
        return np.arange(view.n_channels)

    def channel(self) -> int | None:
        """The channel under the cursor."""
        order = self.order()
        return int(order[min(self.neuron, len(order) - 1)]) if len(order) else None

    def move(self, rows: int, neurons: int, n_rows: int, visible: int) -> None:
        """Move the cursor, scrolling the neurons so the cursor stays in the ``visible`` ones."""
        count = len(self.order())
        self.row = int(np.clip(self.row + rows, 0, max(n_rows - 1, 0)))
        self.neuron = int(np.clip(self.neuron + neurons, 0, max(count - 1, 0)))
        self.scroll_to_cursor(visible)

    def scroll_to_cursor(self, visible: int) -> None:
        visible = max(visible, 1)
        if self.neuron < self.first:
            self.first = self.neuron
        elif self.neuron >= self.first + visible:
            self.first = self.neuron - visible + 1

    def frame(self, order: np.ndarray, edges: np.ndarray, visible: int) -> ResponseFrame | None:
        """Levels of the window's row bins for the ``visible`` neurons from :attr:`first` on."""
        view = self.view
        if view is None:
            return None
        ranked = self.order()
        channels = ranked[self.first : self.first + max(visible, 1)]
        if edges[-1] - edges[0] >= ROW_BLOCK * (len(edges) - 1):  # bins of a block or more on average
            values = blocked_response_rows(view.cells, order, edges, channels, self._block_sums(view, order))
        else:
            values = response_rows(view.cells, order, edges, channels)
        levels = rank_levels(values, channels, view.quantiles, view.d * view.d, self.threshold, RESPONSE_LEVELS,
                             RANK_GAMMA)
        if self.ranking is not None and self.ranking.layer == view.name:
            relevance = self.ranking.scores[channels]
        else:
            relevance = np.full(len(channels), np.nan)
        return ResponseFrame(levels, channels, relevance, view.d, self.first)

    def _block_sums(self, view: LayerView, order: np.ndarray) -> np.ndarray:
        """The layer's running block sums in this display order, kept for the next frame (19 MB for 256
        channels of 4×4 cells at 10,000 classes; built in 0.2 s once per layer and order)."""
        # Weak references: an id can be reused by the next array, and a strong one would keep a dropped
        # layer's cells alive.
        if self._blocks is None or self._blocks[0]() is not view.cells or self._blocks[1]() is not order:
            self._blocks = (weakref.ref(view.cells), weakref.ref(order), position_block_sums(view.cells, order))
        return self._blocks[2]

    def node_means(self, order: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray | None:
        """(nodes,) mean response of the cursor's neuron per display node, to colour the tree."""
        view, channel = self.view, self.channel()
        if view is None or channel is None:
            return None
        return node_channel_means(view, order, start, stop, channel)

    def top_samples(self) -> np.ndarray:
        """The cursor neuron's strongest-responding samples, best first."""
        view, channel = self.view, self.channel()
        if view is None or channel is None:
            return np.zeros(0, dtype=np.int64)
        return view.top_samples[channel]
