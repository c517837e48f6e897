"""The one way the selection changes: what the pane shows and what the status line says, from one target.

Every entry point (a matrix cursor key, the tree cursor, a neuron, an
outlier or mislabel row, a Compare row, a probe cell, a find result, a
result-set or epoch step, a resize) names a *target* and calls
:meth:`SelectionFlow.select`; a change of data under the same target (a
filter pass, a new result set, a redraw) calls :meth:`SelectionFlow.refresh`
or :meth:`SelectionFlow.reselect`.  Both the status line and the sample pane
are derived here from the target, so they cannot name different things:
before this, each handler updated whichever views it remembered to, and
Enter on a Compare row moved the tree but left the pane on the old node.

Moving the tree or matrix cursor is the caller's part (the widgets own their
cursors); this module only reads the cursor it is told about.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.timer import Timer

from ..analysis.sample_selection import group_by_class, outcomes
from .samples import PaneContent, Selection
from .status_text import cell_status, node_status, picked_status

if TYPE_CHECKING:
    from .viewer import Viewer


@dataclass(frozen=True)
class CellTarget:
    """The cell (or bin of classes) under the matrix cursor: the pane shows its samples, the status its count."""

    prefix: str = ""  # what brought the cursor there, e.g. ``outlier 3/12 · ``


@dataclass(frozen=True)
class NodeTarget:
    """A tree node, by base node id (display ids change with the sort): its TP, FN or FP samples."""

    base: int
    tab: int = 0
    prefix: str = ""


@dataclass(frozen=True)
class NeuronTarget:
    """The neuron under the response map's cursor: its strongest-responding samples."""


@dataclass(frozen=True)
class PickedTarget:
    """A row picked from a list (an outlier pair, a mislabel candidate, a sample found by id).

    ``build`` makes its selection again after a change (the outcome filter
    and the marks follow the active result set; the ids stay the row's).
    """

    kind: str
    title: str  # as the pane titles it
    build: Callable[[], Selection] = field(compare=False)


Target = CellTarget | NodeTarget | NeuronTarget | PickedTarget


class SelectionFlow:
    """Owns the current target and the pane's selection; the only writer of both the pane and the status line's
    left side."""

    PANE_DELAY = 0.15
    """Seconds the pane waits after a cursor move: a held key repaints the matrix at key rate and the
    thumbnails once, when the cursor rests (decoding and drawing them costs more than the matrix)."""

    def __init__(self, viewer: "Viewer") -> None:
        self.viewer = viewer
        self.target: Target | None = None
        self.selection: Selection | None = None  # what the pane shows
        self._timer: Timer | None = None

    # -- entry points ---------------------------------------------------------------------
    def select(self, target: Target, *, now: bool = False) -> None:
        """Make ``target`` the selection: the status line at once, the pane at once or after PANE_DELAY."""
        self.target = target
        self.say()
        build = self._builder(target)
        if build is None:
            return
        if now:
            self._show_built(build)
        else:
            self.show_soon(build)

    def refresh(self) -> None:
        """The frame under the selection changed (a zoom, a filter, a resize): say it again, and refill the
        pane when the selection is the cursor's cell, whose bin may now hold other classes."""
        self.say()
        if isinstance(self.target, CellTarget) and self.viewer.screen is self.viewer.main:
            self.show_soon(self._cell)

    def reselect(self) -> None:
        """Rebuild the pane's selection after a change of data (result set, filters, outcome filter)."""
        if self.target is None or self.selection is None:
            return
        build = self._builder(self.target)
        if build is not None:
            self._show_built(build)

    def announce(self, prefix: str) -> None:
        """Say what brought the selection where it is (``epoch 3 of 9 · ``) ahead of it, until it changes."""
        if isinstance(self.target, (CellTarget, NodeTarget)):
            self.target = replace(self.target, prefix=prefix)
        self.say()

    def next_tab(self) -> bool:
        """A node's next tab (TP → FN → FP); False when the selection has no tabs."""
        target = self.target
        if not isinstance(target, NodeTarget) or self.selection is None or not self.selection.tabs:
            return False
        self.select(NodeTarget(target.base, self.selection.tab + 1, target.prefix), now=True)
        return True

    # -- the status line ------------------------------------------------------------------
    def say(self) -> None:
        text = self.status_text()
        if text is not None:
            self.viewer.status.say(text)

    def status_text(self) -> Text | None:
        """What the status line says about the target; None while it cannot be said (no frame yet)."""
        v, m, target = self.viewer, self.viewer.model, self.target
        if isinstance(target, NeuronTarget):
            return v.centre.neuron_status()
        if isinstance(target, NodeTarget):
            return node_status(m.node_stats(m.to_display(target.base)), target.prefix)
        if v.centre.viewport is None:
            return None
        cell = cell_status(m.cell_info(*m.cursor_bins()), target.prefix if isinstance(target, CellTarget) else "")
        return picked_status(target.kind, target.title, cell) if isinstance(target, PickedTarget) else cell

    # -- the sample pane ------------------------------------------------------------------
    def _builder(self, target: Target) -> Callable[[], Selection | None] | None:
        m = self.viewer.model
        if isinstance(target, CellTarget):
            return self._cell if self.viewer.centre.viewport is not None else None
        if isinstance(target, NodeTarget):
            return lambda: m.selections.node(m.to_display(target.base), target.tab)
        if isinstance(target, NeuronTarget):
            return self.viewer.centre.neuron_selection
        return target.build

    def _cell(self) -> Selection:
        return self.viewer.model.selections.cell(*self.viewer.model.cursor_bins())

    def show_soon(self, build: Callable[[], Selection | None]) -> None:
        """Show ``build()`` once no newer request came within PANE_DELAY; the newest request wins."""
        self.cancel_pending()
        self._timer = self.viewer.set_timer(self.PANE_DELAY, partial(self._show_pending, build))

    @property
    def pending(self) -> bool:
        """Whether a pane update is waiting for the cursor to rest."""
        return self._timer is not None

    def cancel_pending(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _show_pending(self, build: Callable[[], Selection | None]) -> None:
        self._timer = None
        main = self.viewer.main
        if main.is_attached and main.is_mounted:  # not while the app shuts down
            self._show_built(build)

    def _show_built(self, build: Callable[[], Selection | None]) -> None:
        """Show what ``build`` makes; nothing when there is nothing yet (a neuron before its layer loads)."""
        selection = build()
        if selection is not None:
            self.show(selection)

    def show(self, selection: Selection) -> None:
        """Group a selection by true class and hand it to the pane (which decodes what it shows)."""
        self.cancel_pending()  # a direct request supersedes a pending one
        self.selection = selection
        m = self.viewer.model
        cache = m.cache
        active = cache.result(m.filters.result).topk_index
        self.viewer.samples.show(PaneContent(
            selection=selection,
            groups=group_by_class(selection.ids, cache.labels),
            class_names=cache.class_names,
            outcome_of=lambda ids: outcomes(cache.labels, active, ids),
            thumbnails=cache.thumbnails,
            details=m.selections.details,
        ))
