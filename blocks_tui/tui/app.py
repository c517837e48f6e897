"""The Textual app: wires the widgets' messages to the model and runs slow work in workers.

State lives in :class:`~blocks_tui.tui.model.ViewerModel`; widgets draw what
it computes.  Handlers here follow one pattern: ask the model, then hand the
widgets their new content (a frame, labels, a line of text).  Anything that
may take longer than a frame (a pass over samples, seriation, partitioning)
goes through :meth:`BlocksApp.run_job`, which shows a spinner in the status
line while a thread works and applies the result on the main thread.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from rich.text import Text
from textual import events
from textual.app import App
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from .bindings import APP_KEYS, bindings
from .commands import BlocksCommands
from .keymap import LoadedKeymap, load_keymap
from .jobs import Filters, Seriated, compute_partition, compute_sample_data, compute_seriation
from .model import SORTS, ViewerModel
from .screens.dialogs import AdoptDialog, PartitionDialog, SeriationDialog
from .screens.filter import FilterScreen
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .screens.too_small import TooSmallScreen, too_small
from .widgets.header import Breadcrumb
from .widgets.hierarchy import HierarchyTree
from .widgets.matrix import ConfusionMatrix
from .widgets.selection import SelectionPane
from .widgets.status import StatusLine


class BlocksApp(App[None]):
    """The viewer.  Give it a model (``ViewerModel.open(cache)``); the CLI does."""

    CSS_PATH = "blocks.tcss"
    TITLE = "blocks-tui"
    BINDINGS = bindings(APP_KEYS)
    COMMANDS = App.COMMANDS | {BlocksCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, model: ViewerModel, keymap: LoadedKeymap | None = None) -> None:
        super().__init__()
        self.model = model
        self.keymap_file = keymap or load_keymap()
        self.main = MainScreen()
        self.viewport: tuple[int, int] | None = None
        self._jobs: dict[Worker[Any], tuple[str, Callable[[Any], None], Callable[[], None] | None]] = {}
        self._status_prefix = ""
        self._focused_node: int | None = None

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

    # -- start-up and size -----------------------------------------------------------
    async def on_mount(self) -> None:
        self.set_keymap(self.keymap_file.keys)
        for warning in self.keymap_file.warnings:
            self.notify(warning, severity="warning", timeout=10)
        await self.push_screen(self.main)
        self.refresh_tree()
        self.refresh_header()
        self._check_size(self.size.width, self.size.height)

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
        self.refresh_cell()

    def refresh_header(self) -> None:
        m = self.model
        result = m.filters.result + (f" vs {m.filters.compare}" if m.delta else "")
        facts = [("result", result), ("filters", ", ".join(m.filters.describe()) or "none"),
                 ("metric", m.metric_label()), ("sort", m.sort), ("scale", m.scale),
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
        self.main.query_one("#selection", SelectionPane).show(cell=info)

    def refresh_tree(self) -> None:
        m = self.model
        focus = m.to_display(m.highlight) if m.highlight is not None else m.zoom_node()
        path = [n for n in m.zoom_path() if n is not None]
        self._show_node(focus)
        self.hierarchy.show_tree(m.display, m.metric_values(), m.delta, path, focus)

    # -- widget messages -----------------------------------------------------------------
    def on_confusion_matrix_viewport_changed(self, message: ConfusionMatrix.ViewportChanged) -> None:
        self.viewport = (message.width, message.height)
        self.redraw()

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
        self._focused_node = node
        self.main.query_one("#selection", SelectionPane).show(node=self.model.node_stats(node))

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
    async def run_scoped_action(self, action: str, target: str | None) -> None:
        """Run a binding's action on its widget (for the command palette)."""
        widget: Widget | App[None] = self.main.query_one(target) if target else self
        await self.run_action(action, widget)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(dict(self.keymap_file.keys), str(self.keymap_file.path)))

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
            self.hierarchy.show_values(self.model.metric_values(), self.model.delta)
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

    def apply_filters(self, filters: Filters | None) -> None:
        if filters is None:
            return
        m = self.model
        m.set_cell_filters(filters.diagonal, filters.min_count)
        if filters.sample_key() == m.filters.sample_key():
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
        self.refresh_header()

    def _filters_done(self, data: Any) -> None:
        self.model.apply_sample_data(data)
        self.refresh_tree()
        self.redraw()

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
        self.refresh_tree()
        self.redraw()
        what = f"Seriated {self.model.breadcrumb()[-1]} with {result.method}: the matrix shows its order."
        self.push_screen(AdoptDialog(what), self._adopt_chosen)

    def _adopt_chosen(self, adopt: bool | None) -> None:
        if adopt:
            self.model.adopt()
        else:
            self.model.discard()
            self.refresh_tree()
        self.redraw()

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
