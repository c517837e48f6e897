"""The viewer's state and what each key press computes from it.

Textual-free on purpose: the app asks this model for a frame, a cell's
description, the next outlier; the widgets only draw what comes back, and
tests drive the model without a terminal.  The expensive steps are split in
two: a pure ``compute_*`` function that may loop over samples or seriate
(run in a worker thread) and an ``apply_*`` method that installs its result
in O(classes + non-zero cells) at most, never classes².  A key press only ever
reaches the second kind.

Three parts live beside it, each with the model as its only state:
:class:`~blocks_tui.tui.zoom_path.ZoomPath` (``model.zoom``: where the window
is), :class:`~blocks_tui.tui.pane_selections.PaneSelections`
(``model.selections``: what the sample pane can show) and
:class:`~blocks_tui.tui.outlier_steps.OutlierSteps` (``model.outlier_steps``:
n / N).

Node numbers: the model keeps a *base* tree (the cache's hierarchy with
single-child chains contracted, plus any adopted seriation) and shows a
*display* tree (the base with its children sorted).  Every node number that
crosses this module's boundary is a display node.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import numpy as np

from ..analysis import CellCounts, FilteredConfusion, GroupMetrics, Pyramid, Tree
from ..analysis.metrics import group_metrics
from ..analysis.find import Found, find
from ..analysis.seriation import METHODS as SERIATION_METHODS
from ..analysis.view_frame import MAX_GUTTER_LEVELS, MatrixFrame, frame_layout, matrix_frame
from ..cache.result_names import default_result
from ..analysis.view_tree import contract_chains, covering_node, sort_children, subtree_stop
from .jobs import CacheLike, Filters, SampleData, Seriated, compute_sample_data
from .outlier_steps import OutlierStep, OutlierSteps
from .pane_selections import PaneSelections
from .zoom_path import ZoomPath

METRICS = ("f1", "precision", "recall")
SORTS = ("order", "name", "size", "metric")
__all__ = ["SERIATION_METHODS", "METRICS", "SORTS", "CellInfo", "NodeStats", "OutlierStep", "ViewerModel"]


@dataclass(frozen=True)
class CellInfo:
    """What the status line says about the cell under the cursor."""

    rows: tuple[int, int]  # display positions
    columns: tuple[int, int]
    true: str
    predicted: str
    count: int
    share: float | None  # of the true rows' samples, when there are any
    diagonal: bool
    hidden: bool = False  # a diagonal cell the cell filters hide: ``count`` is still its true count


@dataclass(frozen=True)
class NodeStats:
    """A tree node's group counts and metrics (paper Eq. 1) under the current filters."""

    name: str
    classes: int
    support: int
    tp: int
    fn: int
    fp: int
    precision: float
    recall: float
    f1: float


_Counted = tuple[GroupMetrics, GroupMetrics | None, tuple[np.ndarray, np.ndarray]]
"""Group metrics of a base tree, of the compared result set, and the (label, top-1) pairs counted."""


@dataclass
class _Preview:
    """An adopted-on-trial seriation, with what to restore on discard."""

    node: int
    method: str
    old_base: Tree
    old_sort: str
    old_metrics: _Counted  # the old base's metrics, and the pairs they were counted from


@dataclass
class ViewerModel:
    """All view state; see the module docstring for the split between compute and apply."""

    cache: CacheLike
    filters: Filters
    metric: str = "f1"
    delta: bool = False
    sort: str = "order"
    scale: str = "linear"
    base: Tree = field(init=False)
    display: Tree = field(init=False)
    zoom: ZoomPath = field(init=False)  # where the window is in the hierarchy
    cursor: tuple[int, int] = (0, 0)  # display positions (true class row, predicted class column)
    highlight: int | None = None  # base node
    preview: _Preview | None = None
    kept: int = 0  # samples that passed the sample filters
    last_frame: MatrixFrame | None = None
    # Aggregates of the current pass over samples; a key press reads only these.  Nothing is classes ×
    # classes: at 10,000 classes one such array is 800 MB, and the matrix has at most one cell per sample.
    counts: CellCounts = field(init=False, repr=False)  # sample-filtered non-zero cells, diagonal kept
    pairs: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)  # (label, top-1) of the kept samples
    compare_pairs: tuple[np.ndarray, np.ndarray] | None = field(init=False, repr=False)
    shown: CellCounts = field(init=False, repr=False)  # the cells left by the cell filters
    pyramid: Pyramid = field(init=False, repr=False)  # ``shown`` at its display positions, binned per frame
    metrics: GroupMetrics = field(init=False, repr=False)  # per base node
    compare_metrics: GroupMetrics | None = field(init=False, repr=False)
    index: FilteredConfusion = field(init=False, repr=False)  # cells → samples of the active result set
    _within_last: tuple[tuple[int, int], CellCounts, Tree, int] | None = field(default=None, init=False, repr=False)
    _old_of_new: np.ndarray = field(init=False, repr=False)
    _new_of_old: np.ndarray = field(init=False, repr=False)
    selections: PaneSelections = field(init=False, repr=False)  # what the sample pane can show
    outlier_steps: OutlierSteps = field(init=False, repr=False)  # n / N through the window's block outliers

    @classmethod
    def open(cls, cache: CacheLike, result: str | None = None) -> "ViewerModel":
        """The model of a cache with its first frame's data: one pass over one result set."""
        names = cache.result_names
        result = result or default_result(names)
        others = [n for n in names if n != result]
        model = cls(cache, Filters(result=result, compare=others[0] if others else None))
        h = cache.hierarchy
        model._set_base(contract_chains(Tree.from_hierarchy(h))[0])
        model.zoom = ZoomPath(model, model.base.root)
        model.selections = PaneSelections(model)
        model.outlier_steps = OutlierSteps(model)
        model.apply_sample_data(compute_sample_data(cache, model.filters))
        return model

    # -- trees and aggregates ---------------------------------------------------------
    def _set_base(self, base: Tree) -> None:
        self.base = base
        self.display, self._old_of_new = base, np.arange(base.n_nodes)
        self._new_of_old = self._old_of_new.copy()

    def _resort(self) -> None:
        """Rebuild the display tree from the base and the sort key; keep the cursor on its classes."""
        before = self.display.order
        values = self.metric_values(display=False) if self.sort == "metric" else None
        self.display, self._old_of_new = sort_children(self.base, self.sort, values)
        self._new_of_old = np.empty_like(self._old_of_new)
        self._new_of_old[self._old_of_new] = np.arange(len(self._old_of_new))
        if not np.array_equal(before, self.display.order):
            pos = self.display.position
            self.cursor = (int(pos[before[self.cursor[0]]]), int(pos[before[self.cursor[1]]]))
            self.zoom.drop_partitions()
        self._rebuild_pyramid()

    def _rebuild_pyramid(self) -> None:
        n, shown, order = self.counts.n_classes, self.shown, self.display.order
        self.pyramid = Pyramid.from_cells(shown.true, shown.predicted, shown.count, (n, n), order, order)
        self.outlier_steps.forget()

    def apply_sample_data(self, data: SampleData) -> None:
        """Install a finished pass over samples (keeps the cell filters of the current filters)."""
        self.filters = replace(data.filters, diagonal=self.filters.diagonal, min_count=self.filters.min_count)
        self.counts = data.index.cells
        self.pairs, self.compare_pairs = data.pairs, data.compare_pairs
        self.kept = data.kept
        self.index = data.index
        self._count_metrics()
        if self.compare_metrics is None:
            self.delta = False
        self._cell_filter()
        if self.sort == "metric":
            self._resort()
        else:
            self._rebuild_pyramid()

    def _count_metrics(self) -> None:
        """Group metrics of the base tree from the kept samples: O(samples · depth), where the dense
        classes² prefix sums took half of the start-up at 10,000 classes (7.8 of 15.8 s, 1.6 GB)."""
        self.metrics = group_metrics(self.base, *self.pairs)
        self.compare_metrics = group_metrics(self.base, *self.compare_pairs) if self.compare_pairs else None

    def _cell_filter(self) -> None:
        self.shown = self.counts.shown(self.filters.diagonal, self.filters.min_count)

    def set_cell_filters(self, diagonal: bool | None = None, min_count: int | None = None) -> None:
        """Diagonal on/off and the minimum count: O(non-zero cells), no samples."""
        self.filters = replace(
            self.filters,
            diagonal=self.filters.diagonal if diagonal is None else diagonal,
            min_count=self.filters.min_count if min_count is None else min_count,
        )
        self._cell_filter()
        self._rebuild_pyramid()

    def set_metric(self, metric: str, delta: bool = False) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        if delta and self.compare_metrics is None:
            raise ValueError("no second result set to compare with")
        self.metric, self.delta = metric, delta
        if self.sort == "metric":
            self._resort()

    def cycle_metric(self) -> str:
        """F1 → precision → recall → their changes against the compared result set → F1."""
        options = [(m, False) for m in METRICS]
        if self.compare_metrics is not None:
            options += [(m, True) for m in METRICS]
        i = options.index((self.metric, self.delta)) if (self.metric, self.delta) in options else -1
        self.set_metric(*options[(i + 1) % len(options)])
        return self.metric_label()

    def metric_label(self) -> str:
        return f"Δ{self.metric} vs {self.filters.compare}" if self.delta else self.metric

    def metric_values(self, display: bool = True) -> np.ndarray:
        """(nodes,) float: the chosen metric of every node (display order unless ``display=False``)."""
        values = getattr(self.metrics, self.metric).astype(np.float64)
        if self.delta and self.compare_metrics is not None:
            values = values - getattr(self.compare_metrics, self.metric)
        return values[self._old_of_new] if display else values

    def set_sort(self, sort: str) -> None:
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
        self.sort = sort
        self._resort()

    def set_scale(self, scale: str) -> None:
        self.scale = scale

    # -- node numbering ------------------------------------------------------------
    def to_display(self, base_node: int) -> int:
        return int(self._new_of_old[base_node])

    def to_base(self, display_node: int) -> int:
        return int(self._old_of_new[display_node])

    def clamp_cursor(self) -> None:
        """Put the cursor back in the window (on its first cell) when a zoom left it outside."""
        start, stop = self.zoom.window()
        r, c = self.cursor
        if not (start <= r < stop and start <= c < stop):
            self.cursor = (start, start)
        self.outlier_steps.forget()

    # -- highlight, frame and cursor ----------------------------------------------------
    def set_highlight(self, display_node: int | None) -> None:
        self.highlight = None if display_node is None else self.to_base(display_node)

    def focus_node(self) -> int:
        """The display node the tree's cursor and the response map's ranking are on: the highlighted node,
        else the node the window belongs to."""
        return self.to_display(self.highlight) if self.highlight is not None else self.zoom.node()

    def band(self) -> tuple[int, int] | None:
        """The highlighted node's position range, unless it covers the whole window."""
        if self.highlight is None:
            return None
        d = self.to_display(self.highlight)
        a, b = int(self.display.start[d]), int(self.display.stop[d])
        start, stop = self.zoom.window()
        return None if a <= start and stop <= b else (a, b)

    def frame(self, width: int, height: int, n_levels: int, store: bool = True) -> MatrixFrame:
        """The current window drawn on ``width`` x ``height`` cells with ``n_levels`` colours.

        ``store=False`` lays out rows for another view (the response map)
        without replacing the matrix's frame that cursor moves refer to; its
        counts are left at zero, as that view draws only the bins (a pass
        over the non-zero cells saved: 3 ms at 10,000 classes).
        """
        start, stop = self.zoom.window()
        top = self.zoom.node()
        groups = self._gutter_groups(top, start, stop)
        bins, magnify = frame_layout(stop - start, width, height, len(groups))
        frame = matrix_frame(
            self.pyramid, start, stop, bins, blocks=self.zoom.blocks(), band=self.band(), groups=groups,
            n_levels=n_levels, scale=self.scale, magnify=magnify, with_counts=store,
        )
        if store:
            self.last_frame = frame
        return frame

    def drawn_frame(self) -> MatrixFrame:
        """The matrix's last frame, which cursor bins refer to."""
        if self.last_frame is None:
            raise RuntimeError("no frame drawn yet")
        return self.last_frame

    def _gutter_groups(self, top: int, start: int, stop: int) -> list[np.ndarray]:
        """Group ids per position for the levels below ``top`` (-1 where a class is shallower)."""
        tree = self.display
        depth0 = int(tree.depth[top])
        leaves = tree.leaf_of_class()[tree.order[start:stop]]
        deepest = int(tree.depth[leaves].max()) - 1  # the last level with internal nodes
        out = []
        for depth in range(depth0 + 1, min(deepest, depth0 + MAX_GUTTER_LEVELS) + 1):
            at = tree.ancestor_at_depth(depth)[tree.order[start:stop]]
            out.append(np.where(tree.depth[at] == depth, at, -1))
        return out

    def cursor_bins(self) -> tuple[int, int]:
        frame = self.drawn_frame()
        return frame.bin_of(self.cursor[0]), frame.bin_of(self.cursor[1])

    def set_cursor_bins(self, row_bin: int, col_bin: int) -> None:
        frame = self.drawn_frame()
        self.cursor = (int(frame.edges[row_bin]), int(frame.edges[col_bin]))

    def range_name(self, a: int, b: int) -> str:
        names = self.cache.class_names
        order = self.display.order
        if b - a == 1:
            return names[order[a]]
        node = covering_node(self.display, a, b)
        return f"{b - a} classes in {self.display.names[node]} ({names[order[a]]} … {names[order[b - 1]]})"

    def cell_info(self, row_bin: int, col_bin: int) -> CellInfo:
        frame = self.drawn_frame()
        rows = (int(frame.edges[row_bin]), int(frame.edges[row_bin + 1]))
        cols = (int(frame.edges[col_bin]), int(frame.edges[col_bin + 1]))
        count = int(frame.counts[row_bin, col_bin])
        true_classes = self.display.order[rows[0] : rows[1]]
        support = int(self.counts.row_totals[true_classes].sum())
        hidden = rows == cols and not self.filters.diagonal
        if hidden:  # the drawn cell is blank, but its samples are there: say how many
            count = self._within(rows, true_classes)
        return CellInfo(
            rows, cols, self.range_name(*rows), self.range_name(*cols), count,
            count / support if support else None, rows == cols, hidden,
        )

    def _within(self, rows: tuple[int, int], classes: np.ndarray) -> int:
        """Samples confused among ``classes`` (display positions ``rows``), kept for the cell under a resting
        cursor: the status line asks on every frame, and a pass over the cells is 0.3 ms at 10,000 classes."""
        last = self._within_last
        # The objects themselves, not their ids: a new result set's counts may reuse a freed one's id.
        if last is None or last[0] != rows or last[1] is not self.counts or last[2] is not self.display:
            last = self._within_last = (rows, self.counts, self.display, self.counts.sum_within(classes, classes))
        return last[3]

    def node_stats(self, display_node: int) -> NodeStats:
        m, b = self.metrics, self.to_base(display_node)
        return NodeStats(
            self.display.names[display_node], self.display.size(display_node), int(m.true_count[b]),
            int(m.tp[b]), int(m.true_count[b] - m.tp[b]), int(m.predicted_count[b] - m.tp[b]),
            float(m.precision[b]), float(m.recall[b]), float(m.f1[b]),
        )

    def find(self, query: str, limit: int = 20) -> list[Found]:
        """Classes, groups (nodes of the tree on screen) and samples matching ``query``, best first."""
        cache = self.cache
        return find(query, self.display, cache.class_names, getattr(cache, "class_ids", None), cache.labels, limit)

    def predicted(self, sample: int) -> int:
        """The active result set's top-1 class for ``sample``."""
        return int(self.cache.result(self.filters.result).topk_index[sample, 0])

    def focus_cell(self, true_class: int, predicted_class: int) -> None:
        """Put the cursor on a cell given by class indices, zooming out until the window holds it."""
        r, c = int(self.display.position[true_class]), int(self.display.position[predicted_class])
        self.zoom.hold(min(r, c), max(r, c) + 1)
        self.cursor = (r, c)

    def cycled_result(self, step: int) -> Filters:
        """The filters with the next (or previous) result set active; the compared one stays unless equal."""
        names = self.cache.result_names
        result = names[(names.index(self.filters.result) + step) % len(names)]
        compare = self.filters.compare
        if compare == result:
            compare = self.filters.result
        return replace(self.filters, result=result, compare=compare)

    # -- partition and seriation ------------------------------------------------------
    def window_classes(self) -> np.ndarray:
        """The window's classes in display order (a copy: a worker reads it while the view moves on)."""
        start, stop = self.zoom.window()
        return self.display.order[start:stop].copy()

    def apply_seriation(self, result: Seriated) -> None:
        """Show a seriation as the hierarchy, on trial: :meth:`adopt` keeps it, :meth:`discard` undoes it.

        The worker built the tree and its metrics; this only installs them: O(non-zero cells + nodes).
        """
        old = self.base
        stop = subtree_stop(old, result.node)
        self.preview = _Preview(result.node, result.method, old, self.sort,
                                (self.metrics, self.compare_metrics, self.pairs))
        shift = result.tree.n_nodes - old.n_nodes
        if self.highlight is not None:
            if result.node < self.highlight < stop:
                self.highlight = None
            elif self.highlight >= stop:
                self.highlight += shift
        self._set_base(result.tree)
        self.sort = "order"  # a seriation is an order: sorting children would undo it
        counted = (result.metrics, result.compare_metrics, result.counted_from)
        self._refresh_for_new_base(counted)

    def adopt(self) -> None:
        self.preview = None

    def discard(self) -> None:
        if self.preview is None:
            return
        preview, self.preview = self.preview, None
        self._set_base(preview.old_base)
        self.highlight = None
        self.sort = preview.old_sort
        self._refresh_for_new_base(preview.old_metrics)

    def _refresh_for_new_base(self, counted: _Counted) -> None:
        """Metrics for the new base: those given, unless a filter changed the kept samples since."""
        metrics, compare_metrics, pairs = counted
        if pairs is self.pairs:
            self.metrics, self.compare_metrics = metrics, compare_metrics
        else:
            self._count_metrics()
        self.zoom.drop_partitions()
        self._resort()

