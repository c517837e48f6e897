"""Triage of block outliers (o) and mislabel candidates (m): rank them, open the panel, follow its rows.

Ranking is a worker job over the active result set; the panel
(:class:`~blocks_tui.tui.widgets.triage.TriagePanel`) shows the rows and
keeps the decisions in the cache's :class:`~blocks_tui.cache.triage.TriageStore`.
A row the panel reports as chosen becomes a selection: the matrix cursor on
its cell, its samples in the pane.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.text import Text

from ...cache.triage import CacheIdentity, TriageStore
from ...errors import CacheError
from ..jobs import compute_mislabel_rows, compute_outlier_rows
from ..selection_flow import PickedTarget
from ..widgets.triage import TriagePanel, TriageRows

if TYPE_CHECKING:
    from ..viewer import Viewer


class Triage:
    """Opens the panel with ranked rows and turns a chosen row into a selection."""

    def __init__(self, viewer: "Viewer") -> None:
        self.viewer = viewer
        self._store: TriageStore | None = None

    @property
    def panel(self) -> TriagePanel:
        return self.viewer.main.query_one("#triage", TriagePanel)

    def store(self) -> TriageStore | None:
        """The cache's decisions, opened (and restored) on first use; None for a cache without a file."""
        if self._store is None:
            cache = self.viewer.model.cache
            path = getattr(cache, "path", None)
            if path is None:
                return None
            try:
                identity = CacheIdentity.of_cache(cache)  # reads the sources, which may be damaged
            except CacheError as exc:
                self.viewer.notify(str(exc), severity="error", timeout=15)
                return None
            self._store = TriageStore.open(path, identity)
            if self._store.message:
                self.viewer.notify(self._store.message, severity="warning", timeout=15)
        return self._store

    def toggle(self, kind: str, reopen: bool = False) -> None:
        """Open the outliers or mislabels panel (the same key again closes it; ``reopen`` refills it)."""
        panel = self.panel
        if panel.is_open and panel.kind == kind and not reopen:
            panel.close()
            return
        result = self.viewer.model.filters.result
        cache = self.viewer.model.cache
        if kind == "outliers":
            job = partial(compute_outlier_rows, cache, self.viewer.model.base, result)
            what = f"ranking block outliers of {result}"
        else:
            job = partial(compute_mislabel_rows, cache, result)
            what = f"ranking mislabel candidates of {result}"
        panel.open(kind, self.store())
        self.viewer.run_job("triage", what, job, partial(self.ranked, kind, result))

    def ranked(self, kind: str, result: str, rows: list[Any]) -> None:
        """A worker ranked ``rows``: show them, unless the panel was closed, switched or outdated meanwhile."""
        panel = self.panel
        if not panel.is_open or panel.kind != kind or result != self.viewer.model.filters.result:
            return
        cache = self.viewer.model.cache
        panel.show_rows(TriageRows(kind, result, rows, cache.class_names, self.viewer.model.base.names,
                                   lambda sample: cache.sources[sample]))

    def result_changed(self, result: str) -> None:
        """The active result set changed: an open panel's rows belong to the old one, rank them again."""
        panel, listing = self.panel, self.panel.listing
        if panel.is_open and listing is not None and listing.result != result:
            self.toggle(listing.kind, reopen=True)

    def marks_need_a_row(self) -> None:
        """1-4 and 0 pressed outside the panel's table: a mark is for a row, so say where the rows are."""
        panel = self.panel
        where = ("w moves the focus to the panel's table" if panel.is_open
                 else "press o (block outliers) or m (mislabel candidates) to list rows to mark")
        self.viewer.status.say(Text(f"1-4 mark a row of the outliers or mislabels panel; {where}", style="yellow"))

    def row_chosen(self, kind: str, row: Any) -> None:
        """Select a row: the matrix cursor on its cell, the cell's samples (or the one sample) in the pane."""
        v, m = self.viewer, self.viewer.model
        names = m.cache.class_names
        if kind == "outliers":
            m.focus_cell(row.true, row.predicted)
            title = f"{names[row.true]} → {names[row.predicted]} ({row.kind})"
            ids = m.index.cell_samples(row.true, row.predicted)
            target = PickedTarget("outlier", title, partial(m.selections.ranked, "outlier", title, ids))
        else:
            m.focus_cell(row.label, row.predicted)
            title = f"#{row.sample}: labelled {names[row.label]}, predicted {names[row.predicted]}"
            ids = np.array([row.sample])
            target = PickedTarget("mislabel", title, partial(m.selections.ranked, "mislabel", title, ids))
        v.redraw()
        v.centre.sync_response_row()
        v.flow.select(target)
