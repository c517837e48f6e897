"""Moving around the hierarchy: the tree cursor, zoom, find, block outliers, and how the matrix is drawn.

The tree and the matrix show one window of one tree, so a zoom or a jump
updates both: the model first, then the tree (its cursor and bands), then
the centre, then the selection flow, in one go so a key costs one repaint.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text

from ...analysis.find import Found
from ..jobs import compute_outlier_rows
from ..model import SORTS
from ..outlier_steps import STEP_LIMIT
from ..screens.find import FindScreen
from ..selection_flow import CellTarget, NodeTarget, PickedTarget

if TYPE_CHECKING:
    from ..viewer import Viewer


SLOW_JOBS = ("seriate", "partition")
"""Jobs that take seconds to minutes on a large window, which Escape cancels."""


class Navigation:
    """Zoom (Enter, Backspace, Z), find (/), outliers (n/N), the tree cursor, and the matrix's display
    switches (diagonal, scale, metric, sort)."""

    def __init__(self, viewer: "Viewer") -> None:
        self.viewer = viewer

    # -- the tree -----------------------------------------------------------------------------
    def node_focused(self, node: int) -> None:
        """The tree cursor moved to a display node: its bands in the matrix, its samples in the pane when the
        tree has the focus (a cursor the app moved itself selects nothing)."""
        v = self.viewer
        if node == v.tree_node:
            return  # the app moved the tree cursor itself and has shown this node already
        v.tree_node = node
        if v.hierarchy.has_focus:
            v.flow.select(NodeTarget(v.model.to_base(node)))
        v.centre.rank_for(node)
        before = v.model.band()
        v.model.set_highlight(node)
        if v.model.band() != before:
            v.redraw()

    def zoom_to(self, node: int) -> None:
        """Enter in the tree: zoom there (to the parent, for a class) and open it; the tree cursor stays."""
        self.viewer.model.zoom.to(node)
        self.viewer.redraw()
        self.viewer.hierarchy.open_path([self.viewer.model.zoom.node()])

    def after_zoom(self) -> None:
        """Show the new window; the tree cursor follows the zoom so the tree says where we are."""
        v = self.viewer
        node = v.model.zoom.node()
        v.model.set_highlight(None)
        v.redraw()
        if v.hierarchy.has_focus:
            v.flow.select(NodeTarget(v.model.to_base(node)))
        v.centre.rank_for(node)
        v.hierarchy.open_path([node])  # its children are the blocks on screen
        self._tree_cursor(node)

    def _tree_cursor(self, node: int) -> None:
        self.viewer.tree_node = node
        self.viewer.hierarchy.put_cursor(node)

    def select_node(self, node: int, prefix: str = "") -> None:
        """Select a display node from a jump (find, Compare, the probe table): the tree cursor on it, its
        bands in the matrix and its samples in the pane, at once.  The pane is filled now, not after
        PANE_DELAY: a pending request would lose to the reselect that follows a filter pass."""
        v = self.viewer
        v.model.set_highlight(node)
        v.refresh_tree()  # it also ranks the response map's neurons for the node
        v.redraw()
        self._tree_cursor(node)
        v.flow.select(NodeTarget(v.model.to_base(node), prefix=prefix), now=True)

    def zoom_out(self) -> None:
        """Escape / Backspace: cancel a running seriation or partition first, else zoom out one level."""
        cancelled = self.viewer.cancel_jobs(SLOW_JOBS)
        if cancelled:
            self.viewer.status.say(Text(f"cancelled: {', '.join(cancelled)}", style="yellow"))
            return
        if self.viewer.model.zoom.out():
            self.after_zoom()
        else:
            self.viewer.status.say(Text("at the top of the hierarchy", style="yellow"))

    def zoom_top(self) -> None:
        while self.viewer.model.zoom.out():
            pass
        self.after_zoom()

    # -- find -----------------------------------------------------------------------------------
    def ask_find(self) -> None:
        self.viewer.push_screen(FindScreen(self.viewer.model.find), self.go_to)

    def go_to(self, found: Found | None) -> None:
        """Go to what ``/`` found: a group in the tree (its bands in the matrix, its samples in the pane),
        a class's diagonal cell and leaf, or a sample's cell with the sample in the pane."""
        if found is None:
            return
        v, m = self.viewer, self.viewer.model
        if found.kind == "group":
            m.zoom.reveal(found.index)  # its bands must be in the window
            self.select_node(found.index)
            v.hierarchy.focus()
            return
        if found.kind == "class":
            m.focus_cell(found.index, found.index)
            leaf = int(np.flatnonzero(m.display.class_index == found.index)[0])
            self.select_node(leaf)  # its TP / FN / FP: the status line names the node, as the pane does
            v.centre.cursor_moved()
            v.centre.focus_view()
            return
        selection = m.selections.sample(found.index)
        m.focus_cell(int(m.cache.labels[found.index]), m.predicted(found.index))
        v.redraw()
        v.centre.cursor_moved()
        v.centre.focus_view()
        v.flow.select(PickedTarget("sample", selection.title, lambda: selection))

    # -- block outliers -----------------------------------------------------------------------
    def step_outlier(self, step: int) -> None:
        """n / N: the cursor to the next or previous block outlier of the window, in the order of the outliers
        panel (o); the first press ranks them in a worker, as o does."""
        v = self.viewer
        steps = v.model.outlier_steps
        if not steps.ranked:
            m, key = v.model, steps.ranking_key()
            job = partial(compute_outlier_rows, m.cache, m.base, m.filters.result, STEP_LIMIT)

            def ranked(rows: list[Any]) -> None:
                steps.set_ranking(key, rows)
                if steps.ranked:  # still the same result set and tree
                    self.step_outlier(step)

            v.run_job("outliers", f"ranking block outliers of {m.filters.result}", job, ranked)
            return
        found = steps.step(step)
        if found is None:
            v.status.say(Text("no block outliers here: no confusion leaves its block of classes", style="yellow"))
            return
        v.centre.cursor_moved()
        v.flow.select(CellTarget(f"outlier {found.index}/{found.total} · "))

    # -- how the matrix and the tree are drawn -------------------------------------------------
    def toggle_diagonal(self) -> None:
        self.viewer.model.set_cell_filters(diagonal=not self.viewer.model.filters.diagonal)
        self.viewer.redraw()

    def toggle_scale(self) -> None:
        self.scale("log" if self.viewer.model.scale == "linear" else "linear")

    def scale(self, scale: str) -> None:
        self.viewer.model.set_scale(scale)
        self.viewer.redraw()

    def cycle_metric(self) -> None:
        self.viewer.model.cycle_metric()
        self._metric_changed()

    def metric(self, metric: str, delta: bool) -> None:
        try:
            self.viewer.model.set_metric(metric, delta)
        except ValueError as exc:
            self.viewer.notify(str(exc), severity="warning")
            return
        self._metric_changed()

    def _metric_changed(self) -> None:
        v = self.viewer
        if v.model.sort == "metric":
            v.refresh_tree()
            v.redraw()
        else:
            v.refresh_tree_values()
            v.refresh_header()
        v.flow.say()  # a node's status names its metrics

    def cycle_sort(self) -> None:
        self.sort(SORTS[(SORTS.index(self.viewer.model.sort) + 1) % len(SORTS)])

    def sort(self, sort: str) -> None:
        self.viewer.model.set_sort(sort)
        self.viewer.refresh_tree()
        self.viewer.redraw()
