"""The layer × node view (paper §4.1.2): at which layer does each group become separable?

Rows are the hierarchy nodes in the tree's order (indented by depth),
columns the layers' linear probes (``blocks-tui probe``) and then the
model's output; each cell is the node's group recall (or F1) under that
column's held-out predictions, on one colour scale for the whole table.
Enter on a cell closes the screen and shows that column's result set in
the matrix, the tree and the sample pane, with the tree on the row's node.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Select
from textual.worker import Worker, WorkerState

from ...analysis.probes import LayerSeparation
from ...cache.result_names import is_probe, probe_layer
from ...safe_text import plain, printable
from ..palette import palette_for
from ..widgets.tables import VimTable

SEPARATION_METRICS = ("recall", "f1")


@dataclass(frozen=True)
class SeparationChoice:
    """The cell picked: the column's result set and the row's display node."""

    result: str
    node: int


class SeparationScreen(ModalScreen[SeparationChoice | None]):
    """The table, a metric picker, and a worker that computes the table."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="separation.close")]
    AUTO_FOCUS = "#separation-table"

    def __init__(self, compute: Callable[[str], LayerSeparation], rows: list[tuple[int, int, str, int]]) -> None:
        """``rows``: (display node, base node, name, depth) in tree order; ``compute(metric)`` runs in a worker."""
        super().__init__()
        self.compute, self.rows = compute, rows
        self.metric = "recall"
        self.table_data: LayerSeparation | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="separation-box"):
            yield Label("Which layer separates which group?  Linear probes per layer, then the output",
                        id="separation-title")
            with Horizontal(id="separation-pickers"):
                yield Label("group ")
                yield Select([(m, m) for m in SEPARATION_METRICS], value=self.metric, allow_blank=False,
                             id="separation-metric")
                yield Label(" of held-out samples", id="separation-note")
            yield VimTable(id="separation-table", cursor_type="cell", zebra_stripes=False)
            yield Label("Enter: show that column's result set with the tree on that group · Esc: close",
                        id="separation-help")

    def on_mount(self) -> None:
        self._start()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.metric = str(event.value)
        self._start()

    def _start(self) -> None:
        self.query_one(DataTable).loading = True
        self.run_worker(partial(self.compute, self.metric), thread=True, exclusive=True, group="separation",
                        exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "separation":
            return
        if event.state == WorkerState.SUCCESS:
            self.show_table(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.query_one(DataTable).loading = False
            self.notify(f"layer × node table failed: {event.worker.error}", severity="error")

    def show_table(self, data: Any) -> None:
        self.table_data = data
        table = self.query_one(DataTable)
        at = table.cursor_coordinate
        table.clear(columns=True)
        table.add_column("group", key="group")
        for name in data.columns:
            shown = probe_layer(name) if is_probe(name) else name
            table.add_column(plain(shown), key=name)  # a layer's name: never markup
        scale = palette_for(self.app.console.color_system).scale  # the matrix's own scale, 16 colours too
        for display, base, name, depth in self.rows:
            cells: list[Any] = [Text.assemble(("· " * depth, "dim"), printable(name))]
            for value in data.values[base]:
                cells.append(value_cell(float(value), scale))
            table.add_row(*cells, key=str(display))
        table.loading = False
        table.move_cursor(row=at.row, column=max(at.column, 1))

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        data = self.table_data
        if data is None or event.coordinate.column < 1:
            return
        node = self.rows[event.coordinate.row][0]
        self.dismiss(SeparationChoice(data.columns[event.coordinate.column - 1], node))


def value_cell(value: float, scale: list[str]) -> Text:
    """A metric in [0, 1] as a number on its colour from ``scale`` (dark text on the light end)."""
    if np.isnan(value):
        return Text("   –  ", style="dim")
    colour = scale[min(len(scale) - 1, max(0, int(value * len(scale))))]
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"  # readable on either end
    return Text(f" {value:.2f} ", style=f"{ink} on {colour}")
