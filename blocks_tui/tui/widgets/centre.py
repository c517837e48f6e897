"""The centre of the main screen: the confusion matrix or the response map, and every message they send.

The matrix and the response map are two views of one window of classes (the
same rows, the same blocks), so one container owns both: their viewports,
the response map's layer, threshold and neuron ranking, and the redraws.
It handles its children's messages itself (a cursor key, a zoom, a resize)
and hands every change of selection to the app's
:class:`~blocks_tui.tui.selection_flow.SelectionFlow`.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import ContentSwitcher

from ...analysis.response_view import LayerView, spread_to_unit
from ..responses import Ranking, ResponseState, index_layer, layer_bytes, load_class_view, rank_neurons
from ..samples import Selection
from ..selection_flow import CellTarget, NeuronTarget
from ..status_text import neuron_status, threshold_meaning
from .matrix import LABEL_CELLS, ConfusionMatrix
from .responses import ResponseDrawing, ResponseMap

if TYPE_CHECKING:
    from ..viewer import Viewer


class Centre(ContentSwitcher):
    """Shows ``#matrix`` or ``#responses``; redraws them from the viewer's model."""

    def __init__(self, viewer: "Viewer", *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(initial="matrix", id=id)
        self.viewer = viewer
        self.responses = ResponseState(list(getattr(viewer.model.cache, "layer_names", [])), viewer.layer_budget)
        self.viewport: tuple[int, int] | None = None  # the matrix's size in cells, once laid out
        self._response_viewport: tuple[int, int] | None = None
        self._rows_cache: tuple[tuple[Any, ...], Any] | None = None  # the response map's row layout
        self._tree_shows: tuple[object, ...] | None = None  # (layer, neuron, tree) the tree's bars show
        self._wanted_group: tuple[str, int] | None = None  # (layer, base node) the last ranking asked for
        self._reading: tuple[str, threading.Event] | None = None  # the layer whose samples are being read

    def compose(self) -> ComposeResult:
        yield ConfusionMatrix(id="matrix")
        yield ResponseMap(id="responses")

    @property
    def matrix(self) -> ConfusionMatrix:
        return self.query_one("#matrix", ConfusionMatrix)

    @property
    def response_map(self) -> ResponseMap:
        return self.query_one("#responses", ResponseMap)

    @property
    def showing_responses(self) -> bool:
        return self.current == "responses"

    def focus_view(self) -> None:
        """Focus whichever view is shown."""
        (self.response_map if self.showing_responses else self.matrix).focus()

    # -- the matrix ------------------------------------------------------------------------
    def redraw(self) -> None:
        """Recompute the frame for the current window and show it (a zoom, a filter, a resize)."""
        if self.viewport is None:
            return
        matrix, m = self.matrix, self.viewer.model
        frame = m.frame(*self.viewport, n_levels=matrix.palette.n_levels)
        labels: list[str] = []
        if frame.magnify >= LABEL_CELLS and frame.bins == frame.stop - frame.start:  # a few classes, large
            labels = [m.cache.class_names[c] for c in m.display.order[frame.start : frame.stop]]
        matrix.show_frame(frame, m.cursor_bins(), labels)
        self.viewer.refresh_header()
        if self.showing_responses:
            self.redraw_responses()
        else:
            self.viewer.flow.refresh()

    def on_confusion_matrix_viewport_changed(self, message: ConfusionMatrix.ViewportChanged) -> None:
        message.stop()
        if message.width <= 0 or message.height <= 0:
            return  # hidden behind the response map
        first = self.viewport is None
        self.viewport = (message.width, message.height)
        self.redraw()
        if first and self.viewer.flow.target is None:  # the first frame: fill the pane now
            self.viewer.flow.select(CellTarget(), now=True)

    def on_confusion_matrix_cursor_requested(self, message: ConfusionMatrix.CursorRequested) -> None:
        message.stop()
        self.viewer.model.set_cursor_bins(message.row, message.column)
        self.matrix.move_cursor_to(message.row, message.column)
        self.viewer.flow.select(CellTarget())

    def on_confusion_matrix_zoom_in(self, message: ConfusionMatrix.ZoomIn) -> None:
        message.stop()
        reason = self.viewer.model.zoom.into_cell(message.row, message.column)
        if reason:
            self.viewer.flow.select(CellTarget(), now=True)  # Enter on a cell shows its samples either way
            self.viewer.status.say(Text(reason, style="yellow"))
            return
        self.viewer.after_zoom()

    def cursor_moved(self) -> None:
        """The model's cursor was put on a cell (a jump): show it in whichever view is shown."""
        self.matrix.move_cursor_to(*self.viewer.model.cursor_bins())
        self.sync_response_row()

    # -- switching views ---------------------------------------------------------------------
    def toggle(self) -> None:
        """Matrix → response map → matrix."""
        if self.current == "matrix":
            if not self.responses.layer_names:
                self.viewer.notify("this cache has no layer responses (extract with --layers)", severity="warning")
                return
            self.current = "responses"
            self.viewer.refresh_bindings()  # the footer's t/T and [/] apply now, n/N no more
            self.response_map.focus()
            self.ensure_layer()
        else:
            self.current = "matrix"
            self.viewer.refresh_bindings()
            self.matrix.focus()
            self._tree_shows = None
            self.viewer.refresh_tree_values()
            self.viewer.refresh_header()
            if self.viewport is not None:
                self.viewer.flow.select(CellTarget())

    def tree_values(self) -> tuple[np.ndarray, bool] | None:
        """The cursor neuron's mean response per display node (spread over [0, 1]) while the response map
        is shown; None when the tree should show the group metric."""
        if not self.showing_responses:
            return None
        d = self.viewer.model.display
        means = self.responses.node_means(d.order, d.start, d.stop)
        return None if means is None else (spread_to_unit(means), False)

    # -- the response map ----------------------------------------------------------------------
    def ensure_layer(self) -> None:
        """Load the current layer unless it is loaded, in two worker jobs: its class means (the map is drawn
        from them at once), then its samples (for ranking the neurons and their top samples)."""
        r = self.responses
        name = r.layer_name
        if name is None:
            return
        if self._reading is not None and self._reading[0] != name:
            self._stop_reading()  # the user moved on: that layer's samples can wait until it is shown again
        view = r.views.get(name)
        if view is not None:
            if view.index is None:
                self._read_samples(view)  # left half-read when the user moved on: read it now
            self.rank_for(self.viewer.model.focus_node())
            self.redraw_responses()
            return
        self.response_map.show_message(Text(f"loading layer {name} …", style="dim"))
        cache = self.viewer.model.cache
        r.make_room(layer_bytes(cache.layer(name), len(cache.class_names), len(cache.labels), r.budget))
        job = partial(load_class_view, cache, name, len(cache.class_names))
        self.viewer.run_job("layer", f"loading layer {name}", job, self._layer_loaded)

    def _layer_loaded(self, view: LayerView) -> None:
        self.responses.remember(view)  # under a memory budget: the least recently loaded layers go
        if view.name != self.responses.layer_name:
            return  # the user has moved to another layer: this one's samples are read when it is shown again
        if self.showing_responses:
            self.redraw_responses()
        self._read_samples(view)

    def _read_samples(self, view: LayerView) -> None:
        """Index a layer whose map is shown; a layer still being read for is stopped, so that one read runs
        at a time: a thread cannot be killed, and each holds up to the memory budget."""
        if self._reading is not None:
            if self._reading[0] == view.name:
                return  # already reading it
            self._stop_reading()
        stop = threading.Event()
        self._reading = (view.name, stop)
        job = partial(index_layer, self.viewer.model.cache, view, self.responses.budget, stop.is_set)
        self.viewer.run_job("samples", f"reading {view.name}'s samples to rank its neurons", job,
                            self._samples_read, failed=self._samples_failed)

    def _stop_reading(self) -> None:
        if self._reading is not None:
            self._reading[1].set()
            self.viewer.cancel_jobs(("samples",))
            self._reading = None

    def _samples_failed(self) -> None:
        self._reading = None

    def _samples_read(self, view: LayerView) -> None:
        self._reading = None
        r = self.responses
        if view.name not in r.views:
            return  # dropped for memory since: the map without it is loaded again when asked for
        r.remember(view)
        if view.name == r.layer_name and self.showing_responses:
            self.rank_for(self.viewer.model.focus_node())
            self.redraw_responses()
            self._neuron_to_pane()

    def _neuron_to_pane(self) -> None:
        """Select the cursor neuron unless the user asked for another selection (the tree's node)."""
        flow = self.viewer.flow
        if flow.pending:
            return  # a newer request (the tree cursor's node) is on its way to the pane
        if self.viewer.focused is self.response_map or isinstance(flow.target, NeuronTarget):
            flow.select(NeuronTarget(), now=True)

    def forget_ranking(self) -> None:
        """The base tree was replaced: a ranking's base node id means another node now."""
        self.responses.ranking = None
        self._wanted_group = None

    def rank_for(self, node: int) -> None:
        """Rank the current layer's neurons by relevance to a display node (a worker; cheap for a class)."""
        r, m = self.responses, self.viewer.model
        view = r.view
        if view is None or view.index is None or not self.showing_responses:
            return
        base = m.to_base(node)
        self._wanted_group = (view.name, base)
        if r.ranking is not None and r.ranking.layer == view.name and r.ranking.group == base:
            return
        d = m.display
        if d.size(node) == d.n_classes:  # every sample is in the group: Eq. 2 has no out-group
            if r.ranking is not None:
                r.ranking, r.neuron, r.first = None, 0, 0
                self.redraw_responses()
            self._wanted_group = None
            return
        classes = d.order[int(d.start[node]) : int(d.stop[node])].copy()
        job = partial(rank_neurons, view, m.cache.labels, classes, base, d.names[node])
        self.viewer.run_job("rank", f"ranking {view.n_channels} neurons for {d.names[node]}", job, self._ranked)

    def _ranked(self, ranking: Ranking) -> None:
        r = self.responses
        if (ranking.layer, ranking.group) != self._wanted_group:  # the cursor has moved on since
            return
        r.ranking = ranking
        r.neuron = r.first = 0
        self.redraw_responses()
        if self.showing_responses:
            self._neuron_to_pane()

    def on_response_map_viewport_changed(self, message: ResponseMap.ViewportChanged) -> None:
        message.stop()
        if message.width > 0 and message.height > 0:
            self._response_viewport = (message.width, message.height)
            self.redraw_responses()

    def response_rows(self) -> Any:
        """Row bins for the response map: the matrix's window, blocks and gutter, as many as fit its height.

        Kept until the window, its blocks, the tree or the height change: a neuron or threshold key
        redraws the map with the same rows.
        """
        m = self.viewer.model
        key = (m.zoom.window(), tuple(m.zoom.blocks()), id(m.display), id(m.pyramid), self.response_map.rows_height)
        if self._rows_cache is None or self._rows_cache[0] != key:
            self._rows_cache = (key, m.frame(10**6, key[-1], n_levels=1, store=False))
        return self._rows_cache[1]

    def forget_row_layout(self) -> None:
        """Drop the kept row layout: the next frame computes it as after a zoom (for the benchmarks)."""
        self._rows_cache = None

    def _visible_neurons(self, rows: Any, d: int) -> int:
        return max(1, self.response_map.cells_width(rows.gutter.shape[1]) // (d ** 2))

    def redraw_responses(self) -> None:
        r = self.responses
        view = r.view
        if not self.showing_responses or self._response_viewport is None or view is None:
            return
        rows = self.response_rows()
        visible = self._visible_neurons(rows, view.d)
        r.row = min(r.row, rows.bins - 1)
        r.scroll_to_cursor(visible)
        frame = r.frame(self.viewer.model.display.order, rows.edges, visible)
        if frame is None:
            return
        ranked = r.ranking is not None and r.ranking.layer == view.name
        unranked = " · channel order (reading the samples to rank …)" if view.index is None else \
            " · channel order (pick a group to rank)"
        title = Text.assemble(
            (f"{view.name}", "bold"), (f" · {view.n_channels} neurons of {view.d}×{view.d} cells", "dim"),
            (" · T ", "dim"), (f"{r.threshold:.2f}", "bold yellow"), (threshold_meaning(r.threshold), "dim"),
            (" · by relevance to ", "dim") if ranked else (unranked, "dim"),
            (r.ranking.group_name if ranked and r.ranking else "", "bold"),
            # Past --memory the ranking comes from a per-class sample: say so, with its size.
            (f" (on {len(view.rows):,} sampled)" if ranked and view.rows is not None else "", "dim"),
            (f" · neurons {frame.first + 1}–{frame.first + len(frame.channels)}", "dim"),
        )
        self.response_map.show(ResponseDrawing(frame.levels, rows.gutter, rows.magnify, view.d, frame.relevance,
                                                title), (r.row, r.neuron - r.first))
        self.viewer.flow.say()
        shown = (view.name, r.channel(), id(self.viewer.model.display))  # identity: Trees hold arrays
        if shown != self._tree_shows:  # relabelling every tree node costs more than the map: only on a change
            self._tree_shows = shown
            self.viewer.refresh_tree_values()
            self.viewer.refresh_header()

    def neuron_status(self) -> Text | None:
        """The status line for the response map's cursor: its row of classes, its neuron, their mean response."""
        r, m = self.responses, self.viewer.model
        view, channel = r.view, r.channel()
        if view is None or channel is None or not self.showing_responses:
            return None
        rows = self.response_rows()
        a, b = int(rows.edges[r.row]), int(rows.edges[r.row + 1])
        ranked = r.ranking is not None and r.ranking.layer == view.name
        score = float(r.ranking.scores[channel]) if ranked and r.ranking else float("nan")
        rank = f"rank {r.neuron + 1}, R = {score:.2f}" if ranked else f"{r.neuron + 1} of {view.n_channels}"
        cells = view.cells[m.display.order[a:b], channel]
        value = float(cells.mean())
        ranked_at = float(view.ranks(cells.reshape(-1, view.d * view.d).mean(axis=0, keepdims=True),
                                     np.array([channel])).max())
        return neuron_status(m.range_name(a, b), channel, rank, value, ranked_at, r.threshold)

    def neuron_selection(self) -> Selection | None:
        """The cursor neuron's strongest-responding samples."""
        r = self.responses
        channel = r.channel()
        if channel is None or r.view is None:
            return None
        return self.viewer.model.selections.ranked("neuron", f"{r.view.name} #{channel}: strongest responses",
                                                  r.top_samples())

    def on_response_map_cursor_requested(self, message: ResponseMap.CursorRequested) -> None:
        message.stop()
        r = self.responses
        if r.view is None:
            return
        rows = self.response_rows()
        visible = self._visible_neurons(rows, r.view.d)
        before = r.channel()
        if message.to is not None:
            r.neuron = 0 if message.to == 0 else len(r.order()) - 1
            r.scroll_to_cursor(visible)
        else:
            r.move(message.rows, message.neurons, rows.bins, visible)
        if r.channel() != before or not isinstance(self.viewer.flow.target, NeuronTarget):
            self.viewer.flow.select(NeuronTarget(), now=True)  # the pane follows the cursor last moved
        self.redraw_responses()

    def needs_responses(self) -> bool:
        if self.showing_responses:
            return True
        self.viewer.status.say(Text("Tab shows the response map, where t/T and [/] apply", style="yellow"))
        return False

    def step_threshold(self, step: int) -> None:
        if self.needs_responses():
            self.responses.step_threshold(step)
            self.redraw_responses()

    def step_layer(self, step: int) -> None:
        if self.needs_responses():
            self.responses.step_layer(step)
            self.ensure_layer()

    def on_response_map_zoom_in(self, message: ResponseMap.ZoomIn) -> None:
        message.stop()
        if self.responses.view is None:
            return  # still loading: the rows on screen are not this window's yet
        rows = self.response_rows()
        reason = self.viewer.model.zoom.into_position(int(rows.edges[min(self.responses.row, rows.bins - 1)]))
        if reason:
            self.viewer.status.say(Text(reason, style="yellow"))
            return
        self.responses.row = 0
        self.viewer.after_zoom()

    def sync_response_row(self) -> None:
        """Put the response map's row cursor on the matrix cursor's row (its bin), when the map is shown."""
        if self.showing_responses and self.responses.view is not None:
            rows = self.response_rows()
            at = int(np.searchsorted(rows.edges, self.viewer.model.cursor[0], side="right")) - 1
            self.responses.row = min(max(at, 0), rows.bins - 1)
            self.redraw_responses()
