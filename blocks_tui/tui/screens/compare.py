"""Compare two result sets (paper Fig. 8 and 9): the nodes whose group metric changed most, ranked.

Pick the result set before and after (original → grayscale, epoch-2 →
original, ...) and the metric; the table lists every node, biggest drop
first, and fills in a worker because it needs a pass over both result sets'
samples.  Enter on a row closes the screen: the app then shows the "after"
result set, colours the tree by the change (red for a drop) and puts the
tree cursor on that node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Select
from textual.worker import Worker, WorkerState

from ...numbers import UNDEFINED, percent
from ...safe_text import plain
from ..jobs import ChangeRanking
from ..widgets.tables import VimTable

METRIC_CHOICES = ("recall", "precision", "f1")


@dataclass(frozen=True)
class CompareChoice:
    """What the user picked: the two result sets, the metric, and the base node to show (or None)."""

    before: str
    after: str
    metric: str
    node: int | None


class CompareScreen(ModalScreen[CompareChoice | None]):
    """Two result-set pickers, a metric picker and the ranked table."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="compare.close")]
    AUTO_FOCUS = "#compare-table"

    def __init__(self, names: list[str], before: str, after: str, metric: str,
                 rank: Callable[[str, str, str], ChangeRanking], node_names: list[str],
                 node_sizes: list[int]) -> None:
        super().__init__()
        self.names, self.before, self.after, self.metric = names, before, after, metric
        self.rank, self.node_names, self.node_sizes = rank, node_names, node_sizes
        self.ranking: ChangeRanking | None = None

    def compose(self) -> ComposeResult:
        options = [(plain(n), n) for n in self.names]  # result-set names come from the data: never markup
        with Vertical(id="compare-box"):
            yield Label("Compare result sets: which groups changed most?", id="compare-title")
            with Horizontal(id="compare-pickers"):
                yield Label("change in ")
                yield Select([(m, m) for m in METRIC_CHOICES], value=self.metric, allow_blank=False, id="metric")
                yield Label(" from ")
                yield Select(options, value=self.before, allow_blank=False, id="before")
                yield Label(" to ")
                yield Select(options, value=self.after, allow_blank=False, id="after")
            yield VimTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            yield Label("Enter: show the node with the tree coloured by this change · Esc: close", id="compare-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "node", "classes", "before", "after", "change")
        self._start()

    def on_select_changed(self, event: Select.Changed) -> None:
        value = str(event.value)
        if event.select.id == "metric":
            self.metric = value
        elif event.select.id == "before":
            self.before = value
        elif event.select.id == "after":
            self.after = value
        self._start()

    def _start(self) -> None:
        self.query_one(DataTable).loading = True
        self.run_worker(partial(self.rank, self.before, self.after, self.metric), thread=True, exclusive=True,
                        group="compare", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "compare":
            return
        table = self.query_one(DataTable)
        if event.state == WorkerState.SUCCESS:
            self.show_ranking(event.worker.result)
        elif event.state == WorkerState.ERROR:
            table.loading = False
            self.notify(f"comparison failed: {event.worker.error}", severity="error")

    def show_ranking(self, ranking: Any) -> None:
        """Fill the table: every ranked node, biggest drop first."""
        self.ranking = ranking
        table = self.query_one(DataTable)
        table.clear()
        change = ranking.change
        for rank, node in enumerate(change.ranked.tolist(), 1):
            delta = float(change.change[node])
            colour = "red" if delta < -0.005 else "green" if delta > 0.005 else "dim"
            table.add_row(
                str(rank), plain(self.node_names[node]), f"{self.node_sizes[node]:,}",
                percent(float(change.before[node])), percent(float(change.after[node])),
                Text(UNDEFINED if math.isnan(delta) else f"{100 * delta:+.1f}", style=f"bold {colour}"), key=str(node),
            )
        table.loading = False

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        node = int(event.row_key.value) if event.row_key.value is not None else None
        self.dismiss(CompareChoice(self.before, self.after, self.metric, node))
