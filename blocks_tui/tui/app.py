"""The Textual app: wires the widgets' messages to the model and runs slow work in workers.

State lives in :class:`~blocks_tui.tui.model.ViewerModel`; widgets draw what
it computes.  Handlers here follow one pattern: ask the model, then hand the
widgets their new content (a frame, labels, a line of text).  Anything that
may take longer than a frame (a pass over samples, seriation, partitioning)
goes through :meth:`BlocksApp.run_job`, which shows a spinner in the status
line while a thread works and applies the result on the main thread.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from functools import partial
from typing import Any, Callable

import numpy as np
from rich.text import Text
from textual import events
from textual.app import App
from textual.widget import Widget
from textual.widgets import ContentSwitcher
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from .bindings import APP_KEYS, bindings
from .commands import BlocksCommands
from .keymap import LoadedKeymap, load_keymap
from ..analysis.dynamics import epoch_series
from ..analysis.find import Found
from ..analysis.probes import LayerSeparation, layer_separation, probe_columns
from ..analysis.response_view import LayerView
from ..cache.result_names import default_result, is_probe
from ..cache.triage import CacheIdentity, TriageStore
from ..analysis.sample_selection import group_by_class, outcomes
from ..safe_text import printable
from ..errors import CacheError
from .images import ImageBackend
from .jobs import (
    Filters,
    Seriated,
    compute_changes,
    compute_mislabel_rows,
    compute_outlier_rows,
    compute_partition,
    compute_sample_data,
    compute_seriation,
)
from .model import SORTS, ViewerModel
from .responses import Ranking, ResponseState, load_layer, rank_neurons
from .samples import Selection
from .screens.compare import CompareChoice, CompareScreen
from .screens.separation import SeparationChoice, SeparationScreen
from .screens.dialogs import AdoptDialog, PartitionDialog, SeriationDialog
from .screens.filter import FilterScreen
from .screens.find import FindScreen
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .screens.too_small import TooSmallScreen, too_small
from .widgets.header import Breadcrumb
from .widgets.hierarchy import HierarchyTree
from .widgets.matrix import ConfusionMatrix
from .widgets.responses import ResponseDrawing, ResponseMap
from .widgets.samples import PaneContent, SamplePane, ThumbGrid
from .widgets.triage import TriagePanel, TriageRows
from .widgets.status import StatusLine


class BlocksApp(App[None]):
    """The viewer.  Give it a model (``ViewerModel.open(cache)``); the CLI does."""

    CSS_PATH = "blocks.tcss"
    TITLE = "blocks-tui"
    BINDINGS = bindings(APP_KEYS)
    COMMANDS = App.COMMANDS | {BlocksCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, model: ViewerModel, keymap: LoadedKeymap | None = None,
                 images: ImageBackend | None = None) -> None:
        super().__init__()
        self.model = model
        self.keymap_file = keymap or load_keymap()
        self.images = images or ImageBackend("halfcell", "default")
        self.main = MainScreen(self.images)
        self.responses = ResponseState(list(getattr(model.cache, "layer_names", [])))
        self.selection: Selection | None = None
        self._response_viewport: tuple[int, int] | None = None
        self.viewport: tuple[int, int] | None = None
        self._jobs: dict[Worker[Any], tuple[str, Callable[[Any], None], Callable[[], None] | None]] = {}
        self._status_prefix = ""
        self._focused_node: int | None = None
        self._after_filters: Callable[[], None] | None = None  # what a finished filter pass shows next
        self._pane_timer: Timer | None = None
        self._tree_shows: tuple[object, ...] | None = None  # (layer, neuron, tree) the tree's bars show
        self._store: TriageStore | None = None
        self._wanted_group: tuple[str, int] | None = None  # (layer, base node) the last ranking asked for
        self._rows_cache: tuple[tuple[Any, ...], Any] | None = None  # the response map's row layout
        self.notices: list[str] = []  # every notification of this session, as shown

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notification (the app's, a screen's, Textual's) shown escaped and never as markup: they
        quote paths, names and error messages from the data (see :mod:`blocks_tui.safe_text`)."""
        self.notices.append(printable(message))
        super().notify(printable(message), title=printable(title), severity=severity, timeout=timeout, markup=False)

    # -- widgets ---------------------------------------------------------------------
    @property
    def matrix(self) -> ConfusionMatrix:
        return self.main.query_one("#matrix", ConfusionMatrix)

    @property
    def hierarchy(self) -> HierarchyTree:
        return self.main.query_one("#tree", HierarchyTree)

    @property
    def status(self) -> StatusLine:
        return self.main.query_one("#status", StatusLine)

    @property
    def response_map(self) -> ResponseMap:
        return self.main.query_one("#responses", ResponseMap)

    @property
    def samples(self) -> SamplePane:
        return self.main.query_one("#selection", SamplePane)

    @property
    def showing_responses(self) -> bool:
        return self.main.query_one("#centre", ContentSwitcher).current == "responses"

    # -- start-up and size -----------------------------------------------------------
    async def on_mount(self) -> None:
        self.set_keymap(self.keymap_file.keys)
        for warning in self.keymap_file.warnings:
            self.notify(warning, severity="warning", timeout=10)
        await self.push_screen(self.main)
        self.refresh_tree()
        self.refresh_header()
        self._check_size(self.size.width, self.size.height)
        # Everything built so far (widgets, styles, the model, the tree) lives as long as the app: move it
        # out of the collector's sight.  Frames allocate strips by the thousand, and each full collection
        # walked this heap too: the response map's cold frame took 4-8 ms instead of 3.3-3.9 ms.
        gc.freeze()

    def on_unmount(self) -> None:
        """Hand the frozen heap back to the collector: a process that runs the viewer again (the tests,
        a notebook) would otherwise keep every closed app's widget cycles for good."""
        gc.unfreeze()

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        small = isinstance(self.screen, TooSmallScreen)
        if too_small(width, height):
            if small:
                self.screen.resized(width, height)  # type: ignore[attr-defined]
            else:
                self.push_screen(TooSmallScreen(width, height))
        elif small:
            self.pop_screen()

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        """Recompute the frame for the current window and show it (a zoom, a filter, a resize)."""
        if self.viewport is None:
            return
        matrix = self.matrix
        frame = self.model.frame(*self.viewport, n_levels=matrix.palette.n_levels)
        matrix.show_frame(frame, self.model.cursor_bins())
        self.refresh_header()
        if self.showing_responses:
            self.redraw_responses()
        else:
            self.refresh_cell()

    def refresh_header(self) -> None:
        m = self.model
        result = m.filters.result + (f" vs {m.filters.compare}" if m.delta else "")
        channel = self.responses.channel() if self.showing_responses else None
        metric = f"neuron #{channel} response" if channel is not None else m.metric_label()
        facts = [("result", result), ("filters", ", ".join(m.filters.describe()) or "none"),
                 ("metric", metric), ("sort", m.sort), ("scale", m.scale),
                 ("samples", f"{m.kept:,}")]
        note = f"seriation ({m.preview.method}) on trial" if m.preview else ""
        self.main.query_one("#header", Breadcrumb).show(m.breadcrumb(), facts, note)

    def refresh_cell(self) -> None:
        info = self.model.cell_info(*self.matrix.cursor)
        text = Text.assemble(
            (self._status_prefix, "bold"),
            ("true ", "dim"), (info.true, "bold"), ("  →  predicted ", "dim"), (info.predicted, "bold"),
            ("  ·  ", "dim"), (f"{info.count:,}", "bold cyan"),
            ("" if info.share is None else f" ({100 * info.share:.1f}% of the row)", "dim"),
            ("  (diagonal)" if info.diagonal else "", "dim"),
        )
        self._status_prefix = ""
        self.status.say(text)
        # The pane follows the last cursor moved; not while another screen is on top (the too-small
        # screen has no focus, and a resize through it used to put a bin of the tiny matrix in the pane).
        if self.screen is self.main and (self.focused is None or self.focused is self.matrix):
            self.show_selection_soon(partial(self.model.cell_selection, *self.matrix.cursor))

    def refresh_tree(self) -> None:
        m = self.model
        focus = m.to_display(m.highlight) if m.highlight is not None else m.zoom_node()
        path = [n for n in m.zoom_path() if n is not None]
        self._show_node(focus)
        values, delta = self.tree_values()
        self.hierarchy.show_tree(m.display, values, delta, path, focus)

    def tree_values(self) -> tuple[np.ndarray, bool]:
        """What the tree's bars show: the cursor neuron's mean response per node in the response map
        (scaled to the largest node), the group metric otherwise."""
        if self.showing_responses:
            d = self.model.display
            means = self.responses.node_means(d.order, d.start, d.stop)
            if means is not None:
                finite = means[np.isfinite(means)]
                low, top = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
                span = top - low
                return ((means - low) / span if span > 0 else np.zeros_like(means)), False
        return self.model.metric_values(), self.model.delta

    def refresh_tree_values(self) -> None:
        self.hierarchy.show_values(*self.tree_values())

    # -- widget messages -----------------------------------------------------------------
    def on_confusion_matrix_viewport_changed(self, message: ConfusionMatrix.ViewportChanged) -> None:
        if message.width <= 0 or message.height <= 0:
            return  # hidden behind the response map
        self.viewport = (message.width, message.height)
        self.redraw()
        if self.selection is None and self._pane_timer is not None:  # the first frame: fill the pane now
            self.show_selection(self.model.cell_selection(*self.matrix.cursor))

    def on_confusion_matrix_cursor_requested(self, message: ConfusionMatrix.CursorRequested) -> None:
        self.model.set_cursor_bins(message.row, message.column)
        self.matrix.move_cursor_to(message.row, message.column)
        self.refresh_cell()

    def on_confusion_matrix_zoom_in(self, message: ConfusionMatrix.ZoomIn) -> None:
        reason = self.model.zoom_in_at(message.row, message.column)
        if reason:
            self.status.say(Text(reason, style="yellow"))
            return
        self._after_zoom()

    def on_hierarchy_tree_node_focused(self, message: HierarchyTree.NodeFocused) -> None:
        if message.node == self._focused_node:
            return  # the app moved the tree cursor itself and has shown this node already
        self._show_node(message.node)
        before = self.model.band()
        self.model.set_highlight(message.node)
        if self.model.band() != before:
            self.redraw()

    def _show_node(self, node: int) -> None:
        """The tree cursor is on ``node``: the sample pane shows its samples when the tree has the focus."""
        self._focused_node = node
        if self.hierarchy.has_focus:
            self.show_selection_soon(partial(self.model.node_selection, node))
        if self.showing_responses:
            self.rank_for(node)

    def on_hierarchy_tree_zoom_requested(self, message: HierarchyTree.ZoomRequested) -> None:
        """Enter in the tree: zoom there (to the parent, for a class) and open it; the tree cursor stays."""
        self.model.zoom_to(message.node)
        self.redraw()
        self.hierarchy.open_path([self.model.zoom_node()])

    def _after_zoom(self) -> None:
        """Show the new window; the tree cursor follows the zoom so the tree says where we are.

        Everything is updated here, in one go, so the key costs one repaint.
        """
        node = self.model.zoom_node()
        self.model.set_highlight(None)
        self.redraw()
        self._show_node(node)
        self.hierarchy.open_path([node])  # its children are the blocks on screen
        self.hierarchy.put_cursor(node)

    # -- actions ---------------------------------------------------------------------------
    RESPONSE_ONLY = frozenset({"threshold", "layer"})
    MATRIX_ONLY = frozenset({"next_outlier", "previous_outlier"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that mean nothing in the current centre view leave the footer (and do nothing)."""
        if action in self.RESPONSE_ONLY | self.MATRIX_ONLY and self.main.is_mounted:
            return self.showing_responses == (action in self.RESPONSE_ONLY)
        return True

    async def run_scoped_action(self, action: str, target: str | None) -> None:
        """Run a binding's action on its widget (for the command palette)."""
        widget: Widget | App[None] = self.main.query_one(target) if target else self
        await self.run_action(action, widget)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(dict(self.keymap_file.keys), str(self.keymap_file.path)))

    def action_find(self) -> None:
        self.push_screen(FindScreen(self.model.find), self._found)

    def _found(self, found: Found | None) -> None:
        """Go to what ``/`` found: a group in the tree (its bands in the matrix, its samples in the pane),
        a class's diagonal cell and leaf, or a sample's cell with the sample in the pane."""
        if found is None:
            return
        m = self.model
        self._status_prefix = f"{found.kind} {found.name} · "
        if found.kind == "group":
            m.reveal(found.index)  # its bands must be in the window
            self.select_node(found.index)
            self.hierarchy.focus()
            return
        if found.kind == "class":
            m.focus_cell(found.index, found.index)
            leaf = int(np.flatnonzero(m.display.class_index == found.index)[0])
            self._show_in_tree(leaf)
            self._focus_centre()
            self.show_selection_soon(partial(m.node_selection, leaf))  # its TP / FN / FP, not the empty diagonal
            return
        sample = found.index
        m.focus_cell(int(m.cache.labels[sample]), m.predicted(sample))
        self.redraw()
        self._focus_centre()
        selection = m.sample_selection(sample)
        self.show_selection_soon(lambda: selection)

    def select_node(self, node: int) -> None:
        """Select a display node from a jump (find, compare, the probe table): the tree cursor on it, its
        bands in the matrix and its samples in the pane, at once.  The pane is filled now, not after
        PANE_DELAY: a pending request would lose to the reselect that follows a filter pass, and the
        pane would keep the node it had before."""
        self._show_in_tree(node)
        self.show_selection(self.model.node_selection(node))

    def _show_in_tree(self, node: int) -> None:
        """Highlight a display node (its bands in the matrix) and put the tree cursor on it."""
        self.model.set_highlight(node)
        self.refresh_tree()
        self.redraw()
        self.hierarchy.put_cursor(node)

    def _focus_centre(self) -> None:
        """Focus whatever the centre shows, after a jump that moved the matrix cursor."""
        self._sync_response_row()
        (self.response_map if self.showing_responses else self.matrix).focus()

    def _sync_response_row(self) -> None:
        """Put the response map's row cursor on the matrix cursor's row (its bin), when the map is shown."""
        if self.showing_responses and self.responses.view is not None:
            rows = self._response_rows()
            at = int(np.searchsorted(rows.edges, self.model.cursor[0], side="right")) - 1
            self.responses.row = min(max(at, 0), rows.bins - 1)
            self.redraw_responses()

    def action_zoom_out(self) -> None:
        if self.model.zoom_out():
            self._after_zoom()
        else:
            self.status.say(Text("at the top of the hierarchy", style="yellow"))

    def action_zoom_top(self) -> None:
        while self.model.zoom_out():
            pass
        self._after_zoom()

    def action_toggle_diagonal(self) -> None:
        self.model.set_cell_filters(diagonal=not self.model.filters.diagonal)
        self.redraw()

    def action_toggle_scale(self) -> None:
        self.action_scale("log" if self.model.scale == "linear" else "linear")

    def action_scale(self, scale: str) -> None:
        self.model.set_scale(scale)
        self.redraw()

    def action_cycle_metric(self) -> None:
        self.model.cycle_metric()
        self._metric_changed()

    def action_metric(self, metric: str, delta: bool) -> None:
        try:
            self.model.set_metric(metric, delta)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        self._metric_changed()

    def _metric_changed(self) -> None:
        if self.model.sort == "metric":
            self.refresh_tree()
            self.redraw()
        else:
            self.refresh_tree_values()
            self.refresh_header()

    def action_cycle_sort(self) -> None:
        self.action_sort(SORTS[(SORTS.index(self.model.sort) + 1) % len(SORTS)])

    def action_sort(self, sort: str) -> None:
        self.model.set_sort(sort)
        self.refresh_tree()
        self.redraw()

    def action_next_outlier(self) -> None:
        self._step_outlier(1)

    def action_previous_outlier(self) -> None:
        self._step_outlier(-1)

    def _step_outlier(self, step: int) -> None:
        found = self.model.step_outlier(step)
        if found is None:
            self.status.say(Text("no block outliers here: no confusion leaves its block of classes", style="yellow"))
            return
        self.matrix.move_cursor_to(*self.model.cursor_bins())
        self._status_prefix = f"outlier {found.index}/{found.total} · "
        self.refresh_cell()

    # -- filters (a pass over samples: a worker) ------------------------------------------
    def action_filter(self) -> None:
        k = self.model.cache.result(self.model.filters.result).topk_index.shape[1]
        self.push_screen(FilterScreen(self.model.filters, list(self.model.cache.result_names), k), self.apply_filters)

    def apply_filters(self, filters: Filters | None, then: Callable[[], None] | None = None) -> None:
        """Install new filters; a sample-filter change is a worker pass, after which ``then`` (if given)
        shows the result instead of the default redraw."""
        if filters is None:
            return
        self._after_filters = then
        m = self.model
        m.set_cell_filters(filters.diagonal, filters.min_count)
        if filters.sample_key() == m.filters.sample_key():
            self._after_filters = None
            if then is not None:
                then()
            else:
                self.redraw()
            return
        previous, m.filters = m.filters, filters  # shown at once in the header; the counts follow
        self.refresh_header()
        self.run_job("filter", f"filtering {len(m.cache.labels):,} samples",
                     partial(compute_sample_data, m.cache, filters), self._filters_done,
                     failed=partial(self._filters_failed, previous))

    def _filters_failed(self, previous: Filters) -> None:
        """The header must not claim filters whose counts were never computed."""
        self.model.filters = previous
        self._after_filters = None
        self.refresh_header()

    def _filters_done(self, data: Any) -> None:
        self.model.apply_sample_data(data)
        follow, self._after_filters = self._after_filters, None
        if follow is not None:
            follow()  # it redraws
        else:
            self.refresh_tree()
            self.redraw()
        self.reselect()  # the pane's samples, tabs and outcome marks under the new result set
        listing = self.triage_panel.listing
        if self.triage_panel.is_open and listing is not None and listing.result != data.filters.result:
            self.action_triage(listing.kind, reopen=True)  # the panel's rows belong to one result set

    # -- partition and seriation (workers) ----------------------------------------------------
    def action_partition(self) -> None:
        start, stop = self.model.window()
        self.push_screen(PartitionDialog(stop - start), self._partition_chosen)

    def _partition_chosen(self, count: int | None) -> None:
        if count is None:
            return
        if count == PartitionDialog.RESTORE:
            self.restore_blocks()
        else:
            self.start_partition(None if count == PartitionDialog.AUTOMATIC else count)

    def restore_blocks(self) -> None:
        self.model.apply_partition(None)
        self.redraw()

    def start_partition(self, count: int | None) -> None:
        _, similarity = self.model.window_similarity()
        self.run_job("partition", f"partitioning {similarity.shape[0]:,} classes",
                     partial(compute_partition, similarity, count), self._partition_done)

    def _partition_done(self, blocks: Any) -> None:
        self.model.apply_partition(blocks)
        self.redraw()
        self.status.say(f"{len(blocks)} blocks; Enter on one zooms into it, b then 0 goes back to the hierarchy")

    def action_seriate(self) -> None:
        if self.model.preview is not None:
            self.notify("adopt or discard the seriation on trial first", severity="warning")
            return
        if self.model.seriation_target() is None:
            self.notify("partition blocks are not hierarchy nodes: zoom out to a node to seriate it",
                        severity="warning")
            return
        start, stop = self.model.window()
        name = self.model.breadcrumb()[-1]
        self.push_screen(SeriationDialog(name, stop - start), self._seriation_chosen)

    def _seriation_chosen(self, method: str | None) -> None:
        if method is not None:
            self.start_seriation(method)

    def start_seriation(self, method: str) -> None:
        node = self.model.seriation_target()
        if node is None:
            return
        classes, similarity = self.model.window_similarity()
        job = partial(compute_seriation, node, classes, similarity, self.model.cache.class_names, method)
        self.run_job("seriate", f"seriating {len(classes):,} classes ({method})", job, self._seriation_done)

    def _seriation_done(self, result: Seriated) -> None:
        self.model.apply_seriation(result)
        self._new_base()
        what = f"Seriated {self.model.breadcrumb()[-1]} with {result.method}: the matrix shows its order."
        self.push_screen(AdoptDialog(what), self._adopt_chosen)

    def _adopt_chosen(self, adopt: bool | None) -> None:
        if adopt:
            self.model.adopt()
            self.redraw()
        else:
            self.model.discard()
            self._new_base()

    def _new_base(self) -> None:
        """The base tree was replaced (seriation on trial, discarded): base node ids mean other nodes now."""
        self.responses.ranking = None
        self._wanted_group = None
        self.refresh_tree()
        self.redraw()
        if self.selection is not None and self.selection.kind == "node" and self._focused_node is not None:
            self.show_selection(self.model.node_selection(self._focused_node))
        if self.showing_responses:
            self.rank_for(self._group_node())

    # -- the sample pane -----------------------------------------------------------------------
    PANE_DELAY = 0.15
    """Seconds the pane waits after a cursor move: a held key repaints the matrix at key rate and the
    thumbnails once, when the cursor rests (decoding and drawing them costs more than the matrix)."""

    def show_selection_soon(self, selection: Callable[[], Selection]) -> None:
        """Show ``selection()`` once no newer request came within PANE_DELAY; the newest request wins."""
        if self._pane_timer is not None:
            self._pane_timer.stop()
        self._pane_timer = self.set_timer(self.PANE_DELAY, partial(self._show_pending, selection))

    def _show_pending(self, selection: Callable[[], Selection]) -> None:
        self._pane_timer = None
        if self.main.is_attached and self.main.is_mounted:  # not while the app shuts down
            self.show_selection(selection())

    def show_selection(self, selection: Selection) -> None:
        """Group a selection by true class and hand it to the pane (which decodes what it shows)."""
        if self._pane_timer is not None:  # a direct request supersedes a pending one
            self._pane_timer.stop()
            self._pane_timer = None
        self.selection = selection
        m = self.model
        cache = m.cache
        active = cache.result(m.filters.result).topk_index
        self.samples.show(PaneContent(
            selection=selection,
            groups=group_by_class(selection.ids, cache.labels),
            class_names=cache.class_names,
            outcome_of=lambda ids: outcomes(cache.labels, active, ids),
            thumbnails=cache.thumbnails,
            details=m.sample_details,
        ))

    def reselect(self) -> None:
        """Rebuild the pane's selection after a change (result set, filter, outcome filter)."""
        s = self.selection
        if s is None:
            return
        if s.kind == "node" and s.key:
            self.show_selection(self.model.node_selection(self.model.to_display(s.key[0]), s.tab))
        elif s.kind == "neuron":
            self.show_neuron_samples()
        elif s.kind == "cell":
            self.show_selection(self.model.cell_selection(*self.matrix.cursor))
        elif s.key:
            self.show_selection(self.model.ranked_selection(s.kind, *s.key))  # unfiltered title and ids

    def on_thumb_grid_tab_requested(self, message: ThumbGrid.TabRequested) -> None:
        s = self.selection
        if s is None or not s.tabs or not s.key:
            self.status.say(Text("tabs are for tree nodes: TP, FN and FP samples", style="yellow"))
            return
        self.show_selection(self.model.node_selection(self.model.to_display(s.key[0]), s.tab + 1))

    def on_thumb_grid_outcome_filter_requested(self, message: ThumbGrid.OutcomeFilterRequested) -> None:
        if self.model.filters.compare is None:
            self.status.say(Text("only one result set: nothing to compare outcomes with", style="yellow"))
            return
        self.model.cycle_outcome_filter()
        self.reselect()

    # -- result sets ------------------------------------------------------------------------------
    def action_cycle_result(self, step: int) -> None:
        if len(self.model.cache.result_names) < 2:
            self.status.say(Text("this cache has one result set", style="yellow"))
            return
        self.apply_filters(self.model.cycled_result(step))

    def action_compare(self) -> None:
        m = self.model
        names = list(m.cache.result_names)
        if len(names) < 2:
            self.notify("this cache has one result set: nothing to compare", severity="warning")
            return
        before = default_result(names)
        after = m.filters.result if m.filters.result != before else (m.filters.compare or names[1])
        base = m.base
        rank = partial(compute_changes, m.cache, base, m.filters)
        screen = CompareScreen(names, before, after, m.metric if m.metric != "f1" else "recall",
                               lambda b, a, metric: rank(b, a, metric),
                               list(base.names), [base.size(v) for v in range(base.n_nodes)])
        self.push_screen(screen, self._compare_chosen)

    def _compare_chosen(self, choice: CompareChoice | None) -> None:
        if choice is None:
            return
        m = self.model
        if choice.node is not None:
            m.set_highlight(m.to_display(choice.node))
        wanted = replace(m.filters, result=choice.after, compare=choice.before)

        def show_change() -> None:
            self.model.set_metric(choice.metric, delta=True)
            if choice.node is not None:
                self.select_node(self.model.to_display(choice.node))
            else:
                self.refresh_tree()
                self.redraw()

        self.apply_filters(wanted, then=show_change)

    def action_epoch(self, step: int) -> None:
        """Training dynamics: the previous or next epoch-N result set (the final model last)."""
        cache = self.model.cache
        try:
            series = epoch_series(cache.result_names, lambda name: cache.result(name).attrs)
        except ValueError as exc:
            self.status.say(Text(str(exc), style="yellow"))
            return
        names = [name for _, name in series]
        current = self.model.filters.result
        if current in names:
            at = min(max(names.index(current) + step, 0), len(names) - 1)
        else:
            at = 0 if step > 0 else len(names) - 1
        where = f"epoch {series[at][0]} of {series[-1][0]} ({names[at]}) · "
        if names[at] == current:
            self.status.say(Text(where + ("the first epoch" if step < 0 else "the final model"), style="yellow"))
            return
        self._status_prefix = where  # shown with the cell once the new counts are in
        self.apply_filters(replace(self.model.filters, result=names[at]))

    def action_separation(self) -> None:
        m = self.model
        cache = m.cache
        columns = probe_columns(getattr(cache, "layer_names", []), cache.result_names)
        if not any(is_probe(c) for c in columns):
            self.notify(f"no probe result sets yet: run `blocks-tui probe {getattr(cache, 'path', 'CACHE')}`",
                        severity="warning", timeout=10)
            return
        base, labels = m.base, cache.labels

        def compute(metric: str) -> LayerSeparation:
            predictions = {name: cache.result(name).predicted for name in columns}
            return layer_separation(base, labels, predictions, metric)

        d = m.display
        rows = [(v, m.to_base(v), d.names[v], int(d.depth[v])) for v in d.preorder()]
        self.push_screen(SeparationScreen(compute, rows), self._separation_chosen)

    def _separation_chosen(self, choice: SeparationChoice | None) -> None:
        if choice is None:
            return
        m = self.model
        base = m.to_base(choice.node)

        def show_node() -> None:
            self.select_node(self.model.to_display(base))

        self.apply_filters(replace(m.filters, result=choice.result), then=show_node)

    # -- the response map --------------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        switcher = self.main.query_one("#centre", ContentSwitcher)
        if switcher.current == "matrix":
            if not self.responses.layer_names:
                self.notify("this cache has no layer responses (extract with --layers)", severity="warning")
                return
            switcher.current = "responses"
            self.refresh_bindings()
            self.response_map.focus()
            self.ensure_layer()
        else:
            switcher.current = "matrix"
            self.refresh_bindings()
            self.matrix.focus()
            self._tree_shows = None
            self.refresh_tree_values()
            self.refresh_header()
            if self.viewport is not None:
                self.refresh_cell()

    def ensure_layer(self) -> None:
        """Load the current layer in a worker unless it is loaded; then rank its neurons for the group."""
        r = self.responses
        name = r.layer_name
        if name is None:
            return
        if name in r.views:
            self.rank_for(self._group_node())
            self.redraw_responses()
            return
        self.response_map.show_message(Text(f"loading layer {name} …", style="dim"))
        cache, n = self.model.cache, len(self.model.cache.class_names)
        self.run_job("layer", f"loading layer {name}", partial(load_layer, cache, name, n), self._layer_loaded)

    def _layer_loaded(self, view: LayerView) -> None:
        self.responses.views[view.name] = view
        if view.name == self.responses.layer_name and self.showing_responses:
            self.rank_for(self._group_node())
            self.redraw_responses()
            self._neuron_to_pane()

    def _neuron_to_pane(self) -> None:
        """Show the cursor neuron's samples unless the user asked for another selection (the tree's node)."""
        if self._pane_timer is not None:
            return  # a newer request (the tree cursor's node) is on its way to the pane
        if self.focused is self.response_map or (self.selection is not None and self.selection.kind == "neuron"):
            self.show_neuron_samples()

    def _group_node(self) -> int:
        """The group neurons are ranked for: the tree's highlighted node, else the zoom node (display)."""
        m = self.model
        return m.to_display(m.highlight) if m.highlight is not None else m.zoom_node()

    def rank_for(self, node: int) -> None:
        """Rank the current layer's neurons by relevance to a display node (a worker; cheap for a class)."""
        r, m = self.responses, self.model
        view = r.view
        if view is None:
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
        self.run_job("rank", f"ranking {view.n_channels} neurons for {d.names[node]}", job, self._ranked)

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
        if message.width > 0 and message.height > 0:
            self._response_viewport = (message.width, message.height)
            self.redraw_responses()

    def _response_rows(self) -> Any:
        """Row bins for the response map: the matrix's window, blocks and gutter, as many as fit its height.

        Kept until the window, its blocks, the tree or the height change: a neuron or threshold key
        redraws the map with the same rows.
        """
        m = self.model
        key = (m.window(), tuple(m.blocks()), id(m.display), id(m.pyramid), self.response_map.rows_height)
        if self._rows_cache is None or self._rows_cache[0] != key:
            self._rows_cache = (key, m.frame(10**6, key[-1], n_levels=1, store=False))
        return self._rows_cache[1]

    def redraw_responses(self) -> None:
        r = self.responses
        if not self.showing_responses or self._response_viewport is None:
            return
        view = r.view
        if view is None:
            return
        rows = self._response_rows()
        widget = self.response_map
        visible = max(1, widget.cells_width(rows.gutter.shape[1]) // (view.d ** 2))
        r.row = min(r.row, rows.bins - 1)
        r.scroll_to_cursor(visible)
        frame = r.frame(self.model.display.order, rows.edges, visible)
        if frame is None:
            return
        ranked = r.ranking is not None and r.ranking.layer == view.name
        title = Text.assemble(
            (f"{view.name}", "bold"), (f" · {view.n_channels} neurons of {view.d}×{view.d} cells", "dim"),
            (" · T ", "dim"), (f"{r.threshold:.2f}", "bold yellow"),
            (" · by relevance to ", "dim") if ranked else (" · channel order (pick a group to rank)", "dim"),
            (r.ranking.group_name if ranked and r.ranking else "", "bold"),
            (f" · neurons {frame.first + 1}–{frame.first + len(frame.channels)}", "dim"),
        )
        widget.show(ResponseDrawing(frame.levels, rows.gutter, rows.magnify, view.d, frame.relevance, title),
                    (r.row, r.neuron - r.first))
        self._response_status(rows)
        shown = (view.name, r.channel(), id(self.model.display))  # identity: Trees hold arrays
        if shown != self._tree_shows:  # relabelling every tree node costs more than the map: only on a change
            self._tree_shows = shown
            self.refresh_tree_values()
            self.refresh_header()

    def _response_status(self, rows: Any) -> None:
        r, m = self.responses, self.model
        view, channel = r.view, r.channel()
        if view is None or channel is None:
            return
        a, b = int(rows.edges[r.row]), int(rows.edges[r.row + 1])
        ranked = r.ranking is not None and r.ranking.layer == view.name
        score = float(r.ranking.scores[channel]) if ranked and r.ranking else float("nan")
        value = float(view.cells[m.display.order[a:b], channel].mean())
        self.status.say(Text.assemble(
            ("row ", "dim"), (m.range_name(a, b), "bold"), ("  ·  neuron ", "dim"), (f"#{channel}", "bold"),
            (f" (rank {r.neuron + 1}, R = {score:.2f})" if ranked else f" ({r.neuron + 1} of {view.n_channels})",
             "dim"),
            ("  ·  mean response ", "dim"), (f"{value:.2f}", "bold yellow" if value >= r.threshold else "bold"),
        ))

    def show_neuron_samples(self) -> None:
        r = self.responses
        channel = r.channel()
        if channel is None or r.view is None:
            return
        ids = r.top_samples()
        self.show_selection(self.model.ranked_selection(
            "neuron", f"{r.view.name} #{channel}: strongest responses", ids))

    def on_response_map_cursor_requested(self, message: ResponseMap.CursorRequested) -> None:
        r = self.responses
        if r.view is None:
            return
        rows = self._response_rows()
        visible = max(1, self.response_map.cells_width(rows.gutter.shape[1]) // (r.view.d ** 2))
        before = r.channel()
        if message.to is not None:
            r.neuron = 0 if message.to == 0 else len(r.order()) - 1
            r.scroll_to_cursor(visible)
        else:
            r.move(message.rows, message.neurons, rows.bins, visible)
        self.redraw_responses()
        if r.channel() != before:
            self.show_neuron_samples()

    def _needs_responses(self) -> bool:
        if self.showing_responses:
            return True
        self.status.say(Text("Tab shows the response map, where t/T and [/] apply", style="yellow"))
        return False

    def action_threshold(self, step: int) -> None:
        if self._needs_responses():
            self.responses.step_threshold(step)
            self.redraw_responses()

    def action_layer(self, step: int) -> None:
        if self._needs_responses():
            self.responses.step_layer(step)
            self.ensure_layer()

    def on_response_map_zoom_in(self, message: ResponseMap.ZoomIn) -> None:
        if self.responses.view is None:
            return  # still loading: the rows on screen are not this window's yet
        rows = self._response_rows()
        reason = self.model.zoom_in_position(int(rows.edges[min(self.responses.row, rows.bins - 1)]))
        if reason:
            self.status.say(Text(reason, style="yellow"))
            return
        self.responses.row = 0
        self._after_zoom()

    # -- triage (o, m) -----------------------------------------------------------------------------
    @property
    def triage_panel(self) -> TriagePanel:
        return self.main.query_one("#triage", TriagePanel)

    def triage_store(self) -> TriageStore | None:
        """The cache's decisions, opened (and restored) on first use; None for a cache without a file."""
        if self._store is None:
            path = getattr(self.model.cache, "path", None)
            if path is None:
                return None
            try:
                identity = CacheIdentity.of_cache(self.model.cache)  # reads the sources, which may be damaged
            except CacheError as exc:
                self.notify(str(exc), severity="error", timeout=15)
                return None
            self._store = TriageStore.open(path, identity)
            if self._store.message:
                self.notify(self._store.message, severity="warning", timeout=15)
        return self._store

    def action_triage(self, kind: str, reopen: bool = False) -> None:
        """Open the outliers or mislabels panel (the same key again closes it; ``reopen`` refills it)."""
        panel = self.triage_panel
        if panel.is_open and panel.kind == kind and not reopen:
            panel.close()
            return
        result = self.model.filters.result
        cache = self.model.cache
        if kind == "outliers":
            job = partial(compute_outlier_rows, cache, self.model.base, result)
            what = f"ranking block outliers of {result}"
        else:
            job = partial(compute_mislabel_rows, cache, result)
            what = f"ranking mislabel candidates of {result}"
        panel.open(kind, self.triage_store())
        self.run_job("triage", what, job, partial(self.triage_ranked, kind, result))

    def triage_ranked(self, kind: str, result: str, rows: list[Any]) -> None:
        """A worker ranked ``rows``: show them, unless the panel was closed, switched or outdated meanwhile."""
        panel = self.triage_panel
        if not panel.is_open or panel.kind != kind or result != self.model.filters.result:
            return
        cache = self.model.cache
        panel.show_rows(TriageRows(kind, result, rows, cache.class_names, self.model.base.names,
                                   lambda sample: cache.sources[sample]))

    def on_triage_panel_closed(self, message: TriagePanel.Closed) -> None:
        (self.response_map if self.showing_responses else self.matrix).focus()

    def on_triage_panel_said(self, message: TriagePanel.Said) -> None:
        self.status.say(message.text)

    def on_triage_panel_row_chosen(self, message: TriagePanel.RowChosen) -> None:
        """Put the matrix cursor on the row's cell and show its samples."""
        row = message.row
        names = self.model.cache.class_names
        if message.kind == "outliers":
            self.model.focus_cell(row.true, row.predicted)
            ids = self.model.index.cell_samples(row.true, row.predicted)
            selection = self.model.ranked_selection(
                "outlier", f"{names[row.true]} → {names[row.predicted]} ({row.kind})", ids)
        else:
            self.model.focus_cell(row.label, row.predicted)
            selection = self.model.ranked_selection(
                "mislabel", f"#{row.sample}: labelled {names[row.label]}, predicted {names[row.predicted]}",
                np.array([row.sample]))
        self.redraw()
        self._sync_response_row()
        self.show_selection_soon(lambda: selection)

    # -- workers ------------------------------------------------------------------------------
    def run_job(self, group: str, description: str, work: Callable[[], Any], done: Callable[[Any], None],
                failed: Callable[[], None] | None = None) -> None:
        """Run ``work`` in a thread (a newer job of the same group replaces it); ``done`` gets its result,
        ``failed`` is called when it raises."""
        # exit_on_error=False: a failed job is a notification, never the end of the session.
        worker = self.run_worker(work, name=description, group=group, thread=True, exclusive=True,
                                 exit_on_error=False)
        self._jobs[worker] = (description, done, failed)
        self.status.set_busy(description)

    @property
    def busy(self) -> bool:
        """Whether a job is still running (or its result not yet applied)."""
        return bool(self._jobs)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        job = self._jobs.get(event.worker)
        if job is None or event.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        del self._jobs[event.worker]
        description, done, failed = job
        if event.state == WorkerState.SUCCESS:
            done(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.notify(f"{description} failed: {event.worker.error}", severity="error", timeout=10)
            if failed is not None:
                failed()
        running = [d for d, *_ in self._jobs.values()]
        self.status.set_busy(running[-1] if running else None)
