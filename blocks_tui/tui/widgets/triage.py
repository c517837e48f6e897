"""The triage panel: a ranked table of block outliers (``o``) or mislabel candidates (``m``).

It docks under the matrix so the matrix and the sample pane stay in view:
moving along the rows puts the matrix cursor on the row's cell and fills
the sample pane (the app does that on :class:`RowChosen`).  Single keys
mark a row (1 redundant, 2 mislabeled, 3 ambiguous, 4 expected, 0 clear),
``e`` edits its note; the app saves each change at once.

Every cell holds names, sources or notes from the data, so the panel shows
each one escaped and never as markup (:mod:`blocks_tui.safe_text`): a ``str``
cell would be parsed as markup by the DataTable (``[@click=…]`` an action,
a stray ``[/]`` a crash).
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from ...safe_text import escaped, plain
from ..bindings import TRIAGE_KEYS, bindings
from .tables import VimTable

MARK_STYLE = {"redundant": "bold magenta", "mislabeled": "bold red", "ambiguous": "bold yellow",
              "expected": "bold green"}
MAX_COLUMN_WIDTH = 48
GROWING_COLUMNS = {"mark": len("mislabeled"), "note": 24}  # filled in later: room for what they will hold
KIND_STYLE = {"redundant": "magenta", "subclass": "cyan", "label-noise": "red", "ambiguous": "yellow"}


class TriageTable(VimTable):
    """The rows, with the marking keys (the vim keys come with :class:`VimTable`)."""

    BINDINGS = bindings(TRIAGE_KEYS)

    class Marked(Message):
        def __init__(self, decision: int) -> None:
            super().__init__()
            self.decision = decision

    class NoteRequested(Message):
        """``e``: edit the note of the row under the cursor."""

    class ExportRequested(Message):
        """``E``: write the decisions to another path."""

    class CloseRequested(Message):
        """Escape: hide the panel."""

    def action_mark(self, decision: int) -> None:
        if self.row_count:
            self.post_message(self.Marked(decision))

    def action_note(self) -> None:
        if self.row_count:
            self.post_message(self.NoteRequested())

    def action_export(self) -> None:
        self.post_message(self.ExportRequested())

    def action_close(self) -> None:
        self.post_message(self.CloseRequested())


class TriagePanel(Vertical):
    """A title and the table; ``show`` fills it, ``set_mark``/``set_note`` update one row in place."""

    class RowChosen(Message):
        """The cursor is on row ``index`` of the current list."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.kind: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="triage-title")
        yield TriageTable(id="triage-table", cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> TriageTable:
        return self.query_one(TriageTable)

    def show(self, kind: str, title: Text, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Replace the table's content; the cursor starts on the first row."""
        self.kind = kind
        self.query_one("#triage-title", Label).update(escaped(title))
        table = self.table
        table.clear(columns=True)
        shown = [[cell_text(cell) for cell in row] for row in rows]
        # Widths from the content up front: auto-sized columns added to a table already on screen
        # can keep their header's width on a real terminal (seen in tmux with Textual 8).
        for i, name in enumerate(columns):
            width = max([len(name), GROWING_COLUMNS.get(name, 0)] + [row[i].cell_len for row in shown])
            table.add_column(name, key=name, width=min(width, MAX_COLUMN_WIDTH))
        for i, row in enumerate(shown):
            table.add_row(*row, key=str(i))
        if rows:
            table.move_cursor(row=0)
            self.post_message(self.RowChosen(0))

    def set_cell(self, index: int, column: str, value: Any) -> None:
        self.table.update_cell(str(index), column, cell_text(value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.RowChosen(int(event.row_key.value)))


def cell_text(value: Text | str) -> Text:
    """A cell as shown: a ``str`` literally (never markup), a ``Text`` with its styles; escaped either way."""
    return escaped(value) if isinstance(value, Text) else plain(value)


def mark_text(decision: str | None) -> Text:
    return Text(decision or "", style=MARK_STYLE.get(decision or "", ""))


def kind_text(kind: str) -> Text:
    return Text(kind, style=KIND_STYLE.get(kind, ""))
