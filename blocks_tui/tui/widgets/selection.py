"""The right-hand pane: what is selected, in numbers.

This is the place the sample pane takes (thumbnails of the selected cell,
block or node, in the next issue).  Here it states the selection from the
aggregates the app already has: the cell under the cursor and the tree
node's group metrics.  Two small widgets, so a cursor move repaints only
the few lines about the cell.  The pane hides below 100 columns (see
``blocks.tcss``).
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from ..model import CellInfo, NodeStats


def _pct(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


class _Section(Widget):
    """A block of text about one selected thing; ``show`` replaces the thing and repaints in place."""

    def __init__(self) -> None:
        super().__init__()
        self.item: CellInfo | NodeStats | None = None

    def show(self, item: CellInfo | NodeStats) -> None:
        self.item = item
        self.refresh()


class CellView(_Section):
    """The cell under the cursor: true and predicted class (or bin), count, share of the row."""

    DEFAULT_CSS = "CellView { height: 9; }"

    def render(self) -> Text:
        text = Text.assemble(("Cell", "bold underline"), "\n")
        c = self.item
        if isinstance(c, CellInfo):
            share = "" if c.share is None else f"  ({_pct(c.share)} of the row)"
            text.append_text(Text.assemble(
                ("true  ", "dim"), c.true, "\n", ("pred  ", "dim"), c.predicted, "\n",
                ("count ", "dim"), (f"{c.count:,}", "bold"), (share, "dim"),
            ))
        return text


class NodeView(_Section):
    """The tree node under the tree cursor: its group counts and metrics."""

    DEFAULT_CSS = "NodeView { height: 11; }"  # its lines only: a taller widget repaints blank lines too

    def render(self) -> Text:
        n = self.item
        text = Text.assemble(("Tree node", "bold underline"), "\n")
        if not isinstance(n, NodeStats):
            return text
        rows = (("name", n.name), ("classes", f"{n.classes:,}"), ("samples", f"{n.support:,}"),
                ("TP", f"{n.tp:,}"), ("FN (rows)", f"{n.fn:,}"), ("FP (columns)", f"{n.fp:,}"),
                ("precision", _pct(n.precision)), ("recall", _pct(n.recall)), ("F1", _pct(n.f1)))
        for label, value in rows:  # plain lines: a rich Table costs a millisecond per repaint
            text.append(f"{label:<13}", style="dim")
            text.append(f"{value}\n")
        return text


class SelectionPane(Vertical):
    """Cell above, node below."""

    def compose(self) -> ComposeResult:
        yield CellView()
        yield NodeView()

    def show(self, cell: CellInfo | None = None, node: NodeStats | None = None) -> None:
        if cell is not None:
            self.query_one(CellView).show(cell)
        if node is not None:
            self.query_one(NodeView).show(node)
