"""The Textual app: composes the screens, binds the keys and routes messages and actions to their feature.

State lives in :class:`~blocks_tui.tui.model.ViewerModel`; widgets draw what
it computes.  Each feature owns its part of the behaviour:

* :class:`~blocks_tui.tui.widgets.centre.Centre`: the matrix and the response map, and their messages;
* :class:`~blocks_tui.tui.features.navigation.Navigation`: the tree cursor, zoom, find, outliers;
* :class:`~blocks_tui.tui.features.results.ResultSets`: filters, result sets, epochs, Compare, probes;
* :class:`~blocks_tui.tui.features.blocks.BlockTools`: partition and seriation;
* :class:`~blocks_tui.tui.features.triage.Triage`: the outliers and mislabels panel;
* :class:`~blocks_tui.tui.selection_flow.SelectionFlow`: what the pane shows and the status line says.

Features reach each other only through this app, typed as
:class:`~blocks_tui.tui.viewer.Viewer`, so the imports run one way.  App
keys name their feature's method (``route('navigation.zoom_out')``).
Anything that may take longer than a frame goes through :meth:`BlocksApp.run_job`,
which shows a spinner in the status line while a thread works and applies
the result on the main thread.
"""

from __future__ import annotations

import gc
from typing import Any, Callable

import numpy as np
from rich.text import Text
from textual import events
from textual.app import App
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from .bindings import APP_KEYS, bindings
from .commands import BlocksCommands
from .features.blocks import BlockTools
from .features.navigation import Navigation
from .features.results import ResultSets
from .features.triage import Triage
from .images import ImageBackend
from .jobs import Handoff
from .layer_budget import LAYER_BUDGET
from .keymap import LoadedKeymap, load_keymap
from .model import ViewerModel
from .samples import Selection
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .screens.result_sets import ResultSetsDialog
from .screens.too_small import TooSmallScreen, too_small
from .selection_flow import NodeTarget, SelectionFlow
from .status_text import header_facts
from .widgets.centre import Centre
from .widgets.header import Breadcrumb
from .widgets.hierarchy import HierarchyTree
from .widgets.samples import SamplePane, ThumbGrid
from .widgets.status import StatusLine
from .widgets.triage import TriagePanel
from ..safe_text import printable

FEATURES = {"navigation": Navigation, "results": ResultSets, "blocks": BlockTools, "triage": Triage,
            "centre": Centre}
"""The features an app key may name in ``route('feature.method', ...)``."""


ONE_RESULT_SET = Text("only one result set: nothing to compare outcomes with", style="yellow")


class BlocksApp(App[None]):
    """The viewer.  Give it a model (``ViewerModel.open(cache)``); the CLI does."""

    CSS_PATH = "blocks.tcss"
    TITLE = "blocks-tui"
    BINDINGS = bindings(APP_KEYS)
    COMMANDS = App.COMMANDS | {BlocksCommands}
    ENABLE_COMMAND_PALETTE = True

    RESPONSE_ONLY = frozenset({"centre.step_threshold", "centre.step_layer"})
    MATRIX_ONLY = frozenset({"navigation.step_outlier"})

    def __init__(self, model: ViewerModel, keymap: LoadedKeymap | None = None,
                 images: ImageBackend | None = None, layer_budget: int = LAYER_BUDGET) -> None:
        super().__init__()
        self.model = model
        self.layer_budget = layer_budget
        self.keymap_file = keymap or load_keymap()
        self.images = images or ImageBackend("halfcell", "default")
        self.flow = SelectionFlow(self)
        self.navigation = Navigation(self)
        self.results = ResultSets(self)
        self.blocks = BlockTools(self)
        self.triage = Triage(self)
        self.main = MainScreen(self)
        self.tree_node: int | None = None  # the display node the tree cursor was last put on or moved to
        self._jobs: dict[Worker[Any], tuple[str, Callable[[Any], None], Callable[[], None] | None, Handoff]] = {}
        self.notices: list[str] = []  # every notification of this session, as shown

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notification (the app's, a screen's, Textual's) shown escaped and never as markup: they
        quote paths, names and error messages from the data (see :mod:`blocks_tui.safe_text`)."""
        self.notices.append(printable(message))
        super().notify(printable(message), title=printable(title), severity=severity, timeout=timeout, markup=False)

    # -- the shared widgets ----------------------------------------------------------------
    @property
    def centre(self) -> Centre:
        return self.main.query_one("#centre", Centre)

    @property
    def hierarchy(self) -> HierarchyTree:
        return self.main.query_one("#tree", HierarchyTree)

    @property
    def status(self) -> StatusLine:
        return self.main.query_one("#status", StatusLine)

    @property
    def samples(self) -> SamplePane:
        return self.main.query_one("#selection", SamplePane)

    @property
    def selection(self) -> Selection | None:
        """What the sample pane shows."""
        return self.flow.selection

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
        if self.main not in self.screen_stack:
            return  # a resize before start-up: on_mount checks once the main screen is up
        small = isinstance(self.screen, TooSmallScreen)
        if too_small(width, height):
            if small:
                self.screen.resized(width, height)  # type: ignore[attr-defined]
            else:
                self.push_screen(TooSmallScreen(width, height))
        elif small:
            self.pop_screen()

    # -- drawing what every feature shares -----------------------------------------------------
    def redraw(self) -> None:
        """Recompute the centre for the current window and show it (a zoom, a filter, a resize)."""
        self.centre.redraw()

    def refresh_header(self) -> None:
        m = self.model
        channel = self.centre.responses.channel() if self.centre.showing_responses else None
        note = f"seriation ({m.preview.method}) on trial" if m.preview else ""
        self.main.query_one("#header", Breadcrumb).show(m.zoom.breadcrumb(), header_facts(m, channel), note)

    def refresh_tree(self) -> None:
        """Rebuild the tree's rows (a new sort, metric or base tree); the cursor goes to the highlighted
        node, else the zoom node, and the pane follows it while the tree has the focus."""
        m = self.model
        focus = m.focus_node()
        self.tree_node = focus
        if self.hierarchy.has_focus:
            self.flow.select(NodeTarget(m.to_base(focus)))
        self.centre.rank_for(focus)
        values, delta = self.tree_values()
        self.hierarchy.show_tree(m.display, values, delta, [n for n in m.zoom.nodes() if n is not None], focus)

    def tree_values(self) -> tuple[np.ndarray, bool]:
        """What the tree's bars show: the response map's neuron per node while it is shown, else the metric."""
        return self.centre.tree_values() or (self.model.metric_values(), self.model.delta)

    def refresh_tree_values(self) -> None:
        self.hierarchy.show_values(*self.tree_values())

    def after_zoom(self) -> None:
        self.navigation.after_zoom()

    def select_node(self, node: int) -> None:
        """Select a display node as a jump does: tree cursor, bands, pane and status line at once."""
        self.navigation.select_node(node)

    # -- routing -------------------------------------------------------------------------------
    def on_hierarchy_tree_node_focused(self, message: HierarchyTree.NodeFocused) -> None:
        self.navigation.node_focused(message.node)

    def on_hierarchy_tree_zoom_requested(self, message: HierarchyTree.ZoomRequested) -> None:
        self.navigation.zoom_to(message.node)

    def on_triage_panel_row_chosen(self, message: TriagePanel.RowChosen) -> None:
        self.triage.row_chosen(message.kind, message.row)

    def on_triage_panel_closed(self, message: TriagePanel.Closed) -> None:
        self.centre.focus_view()

    def on_triage_panel_said(self, message: TriagePanel.Said) -> None:
        self.status.say(message.text)

    def on_thumb_grid_tab_requested(self, message: ThumbGrid.TabRequested) -> None:
        if not self.flow.next_tab():
            self.status.say(Text("tabs are for tree nodes: TP, FN and FP samples", style="yellow"))

    def on_thumb_grid_outcome_filter_requested(self, message: ThumbGrid.OutcomeFilterRequested) -> None:
        selections = self.model.selections
        if len(selections.outcome_sets().modes()) == 1:  # a second result set is always the compared one
            self.status.say(ONE_RESULT_SET)
            return
        selections.cycle_outcome_filter()
        self.flow.reselect()

    def on_thumb_grid_outcome_sets_requested(self, message: ThumbGrid.OutcomeSetsRequested) -> None:
        names = list(self.model.cache.result_names)
        if len(names) < 2:
            self.status.say(ONE_RESULT_SET)
            return
        sets = self.model.selections.outcome_sets()

        def chosen(picked: tuple[str, ...] | None) -> None:
            if picked is None:
                return
            self.model.selections.choose_sets(picked)
            self.flow.reselect()
            what = "every result set" if len(picked) == len(names) else f"{len(picked)} of {len(names)} result sets"
            self.status.say(Text(f"x's 'in all' and 'only here' span {what}"))

        self.push_screen(ResultSetsDialog(names, sets.active, sets.chosen), chosen)

    def feature(self, name: str) -> Any:
        """The object behind ``route('name.method')``: a feature of this app, or the centre widget."""
        return self.centre if name == "centre" else getattr(self, name)

    def action_route(self, target: str, *args: object) -> None:
        """Run a feature's method for an app key: ``route('navigation.zoom_out')``, ``route('results.cycle', 1)``."""
        name, _, method = target.partition(".")
        getattr(self.feature(name), method)(*args)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that mean nothing in the current centre view leave the footer (and do nothing); behind the
        too-small screen only quitting works, since nothing else can be seen."""
        if isinstance(self.screen, TooSmallScreen):
            return action == "quit"
        if action == "route" and parameters and self.main.is_mounted:
            target = parameters[0]
            if target in self.RESPONSE_ONLY | self.MATRIX_ONLY:
                return self.centre.showing_responses == (target in self.RESPONSE_ONLY)
        return True

    async def run_scoped_action(self, action: str, target: str | None) -> None:
        """Run a binding's action on its widget (for the command palette)."""
        widget: Widget | App[None] = self.main.query_one(target) if target else self
        await self.run_action(action, widget)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(dict(self.keymap_file.keys), str(self.keymap_file.path)))

    # -- workers ------------------------------------------------------------------------------
    def run_job(self, group: str, description: str, work: Callable[[], Any], done: Callable[[Any], None],
                failed: Callable[[], None] | None = None) -> None:
        """Run ``work`` in a thread (a newer job of the same group replaces it); ``done`` gets its result,
        ``failed`` is called when it raises."""
        # exit_on_error=False: a failed job is a notification, never the end of the session.
        handoff = Handoff(work)
        worker = self.run_worker(handoff, name=description, group=group, thread=True, exclusive=True,
                                 exit_on_error=False)
        self._jobs[worker] = (description, done, failed, handoff)
        self.status.set_busy(description)

    def cancel_jobs(self, groups: tuple[str, ...]) -> list[str]:
        """Cancel the running jobs of ``groups``; what was cancelled, by description.  A thread cannot be
        stopped mid-step, but its result is dropped and the keys are free at once."""
        cancelled = []
        for worker, (description, _, _, handoff) in list(self._jobs.items()):
            if worker.group in groups:
                del self._jobs[worker]
                worker.cancel()
                handoff.drop()
                cancelled.append(description)
        running = [d for d, *_ in self._jobs.values()]
        self.status.set_busy(running[-1] if running else None)
        return cancelled

    @property
    def busy(self) -> bool:
        """Whether a job is still running (or its result not yet applied)."""
        return bool(self._jobs)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        job = self._jobs.get(event.worker)
        if job is None or event.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        del self._jobs[event.worker]
        description, done, failed, handoff = job
        if event.state == WorkerState.SUCCESS:
            done(handoff.take())
        elif event.state == WorkerState.ERROR:
            self.notify(f"{description} failed: {event.worker.error}", severity="error", timeout=10)
            if failed is not None:
                failed()
        running = [d for d, *_ in self._jobs.values()]
        self.status.set_busy(running[-1] if running else None)
